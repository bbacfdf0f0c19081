import type { DlrStore, StoredReport } from '../interfaces/dlr-store.interface.js';
import type { TestRunnerGlobals } from './test-runner-globals.js';

/** What each group of the contract's tests shares. */
export interface ContractContext extends TestRunnerGlobals {
  /** The store of the running test. */
  store(): DlrStore;
  /** A time far enough in the past that every lease taken "then" has run out by `Date.now()`. */
  readonly T: number;
  /** A lease that does not run out during a test. */
  readonly LONG: number;
  /** Each test's timeout, in ms, or undefined for the runner's. */
  readonly timeoutMs: number | undefined;
}

/** A callback body of `messageId` with `status`, in omnimessage `omni-1`. */
export function dlr(
  messageId: string,
  status: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { message_id: messageId, status, omnimessage_id: 'omni-1', to: '+37200000000', ...extra };
}

/** `message_id/status` of each report, read from its body. */
export function ids(reports: readonly StoredReport[]): string[] {
  return reports.map((report) => `${String(report.raw['message_id'])}/${String(report.raw['status'])}`);
}
