import type { Readable } from 'node:stream';

/** Where a command reads and writes: the process's streams, or test doubles. */
export interface CliIo {
  readonly stdout: CliStream;
  readonly stderr: CliStream;
  readonly stdin: Readable;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: long-running commands (`listen`) stop and exit 0. */
  readonly signal: AbortSignal;
}

/** The part of a writable stream the CLI uses. */
export interface CliStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Reads a readable stream to its end. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
