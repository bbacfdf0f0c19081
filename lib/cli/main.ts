#!/usr/bin/env node
/**
 * The `messente-dlr` bin: try and debug a delivery-report webhook without Messente.
 * Everything is in `runCli`; this file only wires the process to it.
 */
import { runCli } from './cli.js';

const argv = process.argv.slice(2);
const stop = new AbortController();
// Only `listen` runs until stopped, and closes its server and recording first; any other
// command keeps Node's default, which ends it at once.
if (argv[0] === 'listen') {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
}
// Output piped into `head` and closed early is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

process.exitCode = await runCli(argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  // A getter: process.stdin is opened only by a command that reads it (sign).
  get stdin() {
    return process.stdin;
  },
  env: process.env,
  signal: stop.signal,
});
