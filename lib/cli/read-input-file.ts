import { readFile } from 'node:fs/promises';
import { UsageError, oneLine } from './cli-errors.js';

/** A file's bytes; a usage error naming the file when it cannot be read. */
export async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${fileError(error)}`);
  }
}

function fileError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return oneLine(error);
}
