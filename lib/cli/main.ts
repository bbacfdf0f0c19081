#!/usr/bin/env node
/**
 * The `messente-dlr` bin: try and debug a delivery-report webhook without Messente.
 * Everything is in `runCli`; this file only wires the process to it.
 */
import { runCli } from './cli.js';

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
// Output piped into `head` and closed early is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  // A getter: process.stdin is opened only by a command that reads it (sign).
  get stdin() {
    return process.stdin;
  },
  env: process.env,
  signal: stop.signal,
});
