import type { QueryResult } from 'pg';
import type { StoredReport } from '../interfaces/dlr-store.interface.js';
import { type UnidentifiedReport, identified } from '../stores/report-key.js';
import { fromDbText } from './postgres-text.js';

/**
 * A report as the schema's JSON has it: `ref` (as stored) only when its message was tracked,
 * `account` (as stored) only when it was recorded with one.
 */
export type StoredJson = UnidentifiedReport & {
  readonly ref?: string | null;
  readonly account?: string | null;
};

/** The reports of a statement answering one `report` JSON per row, in its order. */
export function reports(result: QueryResult): StoredReport[] {
  return (result.rows as { report: StoredJson }[]).map(({ report }) => decoded(report, identified(report)));
}

/** `base` with the `ref` and `account` that `report` has (decoded), and no key it lacks. */
export function decoded(report: StoredJson, base: StoredReport): StoredReport {
  // Most reports have neither: their object is the one built already.
  if (!('ref' in report) && !('account' in report)) return base;
  const full: { -readonly [K in keyof StoredReport]: StoredReport[K] } = { ...base };
  if ('ref' in report) full.ref = report.ref == null ? null : fromDbText(report.ref);
  if ('account' in report) full.account = report.account == null ? null : fromDbText(report.account);
  return full;
}
