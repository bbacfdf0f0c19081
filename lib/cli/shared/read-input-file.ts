import { open, readFile, type FileHandle } from 'node:fs/promises';
import { UsageError, oneLine } from './cli-errors.js';

/** A file's bytes; a usage error naming the file when it cannot be read. */
export async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${fileError(error)}`);
  }
}

/**
 * Opens a file the CLI reads as input (a scenario, a recording) for reading, refusing at once
 * what it cannot be: a directory, or a regular file larger than `maxBytes`. A device or pipe
 * has no size: its reader must stop at `maxBytes` itself.
 */
export async function openInputFile(file: string, maxBytes: number): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${fileError(error)}`);
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new UsageError(`cannot read ${file}: is a directory`);
    if (stats.isFile() && stats.size > maxBytes) throw tooLarge(file, maxBytes);
    return handle;
  } catch (error) {
    await handle.close();
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${file}: ${fileError(error)}`);
  }
}

/**
 * A whole input file as UTF-8 text, at most `maxBytes` of it: a usage error when it is
 * larger (read no further than that, so `/dev/zero` is refused too) or cannot be read.
 */
export async function readInputText(file: string, maxBytes: number): Promise<string> {
  const handle = await openInputFile(file, maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of handle.createReadStream({ end: maxBytes, autoClose: false })) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${fileError(error)}`);
  } finally {
    await handle.close();
  }
  if (size > maxBytes) throw tooLarge(file, maxBytes);
  return Buffer.concat(chunks).toString('utf8');
}

/** The usage error for an input file over its limit. */
export function tooLarge(file: string, maxBytes: number): UsageError {
  return new UsageError(`${file} is larger than ${maxBytes / 1024 / 1024} MiB, the most this command reads`);
}

/** A short reason for a file error, from its code; never the file's contents. */
export function fileError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return code ?? oneLine(error);
}
