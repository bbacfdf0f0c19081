import { errorMessage } from '../../utils/error-message.js';

/**
 * A mistake in how the CLI was called (an unknown option, a missing `--url`, a file that
 * cannot be read or parsed): one line on stderr, exit code 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A run that could not finish (the URL cannot be reached, the port is taken): one line on
 * stderr, exit code 1, like a failed check.
 */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
}

/** The message of anything thrown, on one line, so that no error ever spans several lines. */
export function oneLine(error: unknown): string {
  return errorMessage(error)
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}
