import type { CliIo } from './cli-io.js';

/** One `messente-dlr` command. */
export interface CliCommand {
  /** What follows `messente-dlr`, e.g. `trigger`. */
  readonly name: string;
  /** One line for the tool's `--help`. */
  readonly summary: string;
  /** The command's `--help` text. */
  readonly help: string;
  /** Runs the command; resolves with the exit code (0 all good, 1 a check or answer failed). */
  run(args: string[], io: CliIo): Promise<number>;
}
