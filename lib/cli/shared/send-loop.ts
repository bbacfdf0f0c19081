import { CliFailure } from './cli-errors.js';
import { printJson } from './printer.js';
import type { CliIo } from './cli-io.js';
import { UnreachableError } from './http-send.js';

/** What a send loop came to, for a command's `--json` document and closing output. */
export interface SendLoopOutcome<Result> {
  /** One result per answered request, in the order they were sent. */
  readonly results: readonly Result[];
  /** True when every request was answered and every answer passed. */
  readonly ok: boolean;
  /** Why the loop stopped early (`cannot reach URL: …`), or null when every request was answered. */
  readonly error: string | null;
}

/**
 * One command's requests (`trigger`'s statuses, `scenario`'s steps, `replay`'s recorded
 * requests) and what the command makes of each answer.
 */
export interface SendLoop<Item, Result> {
  /** Where the requests go; named in the error when nothing answers. */
  readonly url: URL;
  /** What to send, in order. */
  readonly items: readonly Item[];
  /** `--json`: one document at the end instead of the human output. */
  readonly json: boolean;
  /**
   * Sends one item and makes its result from the answer; rejects with `UnreachableError`
   * when nothing answers, which stops the loop (anything else thrown is a bug and propagates).
   */
  send(item: Item, index: number): Promise<Result>;
  /** Whether an answer is what the command wanted (a 2xx, a step's expectation). */
  passed(result: Result): boolean;
  /** Names the item in the error, e.g. `step 3`; without it the error names only the URL. */
  label?(item: Item, index: number): string;
  /** Human output for each result as it comes, so a slow webhook shows progress. */
  printEach?(result: Result): void;
  /** Human output once the loop is over, also when it stopped early (before the error line). */
  printAfter?(outcome: SendLoopOutcome<Result>): void;
  /** The `--json` document: each command keeps its own field names and order. */
  document(outcome: SendLoopOutcome<Result>): unknown;
}

/**
 * Sends a command's requests one after another, each after the previous one's answer (the
 * order of reports is what is being tested), and ends the command the same way for all of
 * them: with `--json` one document (printed also when the loop stopped early, so a script
 * sees what was answered), else the command's human output; then, when a request got no
 * answer, a `CliFailure` (one line on stderr, exit 1); otherwise exit 0 when every answer
 * passed, 1 when one did not.
 */
export async function runSendLoop<Item, Result>(io: CliIo, loop: SendLoop<Item, Result>): Promise<number> {
  const results: Result[] = [];
  let error: string | null = null;
  for (const [index, item] of loop.items.entries()) {
    let result: Result;
    try {
      result = await loop.send(item, index);
    } catch (thrown) {
      if (!(thrown instanceof UnreachableError)) throw thrown;
      const label = loop.label ? `${loop.label(item, index)}: ` : '';
      error = `${label}cannot reach ${loop.url.href}: ${thrown.message}`;
      break;
    }
    results.push(result);
    if (!loop.json) loop.printEach?.(result);
  }
  const outcome: SendLoopOutcome<Result> = {
    results,
    ok: error === null && results.every((result) => loop.passed(result)),
    error,
  };
  if (loop.json) printJson(io, loop.document(outcome));
  else loop.printAfter?.(outcome);
  if (error !== null) throw new CliFailure(error);
  return outcome.ok ? 0 : 1;
}
