import { quoteSchema } from './postgres-dlr.schema.js';
import type { Statement } from './postgres-dlr.queries.js';

/** The statements of `PostgresDlrStore`'s tracking (`DlrOutcomeStore`), each one round trip. */
export interface OutcomeStatements {
  readonly track: Statement;
  readonly outcome: Statement;
  readonly findByRef: Statement;
  readonly complete: Statement;
  readonly release: Statement;
  readonly claimPending: Statement;
  readonly claimOverdue: Statement;
  readonly markOverdue: Statement;
  readonly countPending: Statement;
  readonly prune: Statement;
}

/** The tracking statements for one schema; names carry the schema, as `statements()` does. */
export function outcomeStatements(schema: string): OutcomeStatements {
  const s = quoteSchema(schema);
  const make = (name: string, text: string): Statement => ({ name: `messente-dlr:${schema}:${name}`, text });
  return {
    track: make(
      'track',
      `SELECT status, outcome, change FROM ${s}.track($1, $2, $3, $4, $5, $6, $7, $8::text[], $9::text[])`,
    ),
    outcome: make('outcome', `SELECT ${s}.outcome_json($1) AS outcome`),
    findByRef: make(
      'find-by-ref',
      // outcomes_ref_idx in its order: the newest tracked are its first rows.
      `SELECT ${s}.outcome_json(o.omnimessage_id) AS outcome FROM (
         SELECT omnimessage_id, tracked_at, seq FROM ${s}.outcomes WHERE ref = $1 AND ref IS NOT NULL
         ORDER BY tracked_at DESC, seq DESC LIMIT $2
       ) o ORDER BY o.tracked_at DESC, o.seq DESC`,
    ),
    complete: make(
      'complete-outcome',
      `DELETE FROM ${s}.outcome_pending WHERE omnimessage_id = $1 AND result = $2`,
    ),
    release: make(
      'release-outcome',
      // Only a row that still exists, and never a lease made longer.
      `UPDATE ${s}.outcome_pending SET lease_until = least(lease_until, $3)
       WHERE omnimessage_id = $1 AND result = $2`,
    ),
    claimPending: make(
      'claim-outcomes',
      // As the claim of reports: SKIP LOCKED, so that sweeping instances take different changes.
      `WITH due AS (
         SELECT ctid, lease_until, change FROM ${s}.outcome_pending
         WHERE lease_until < $1 ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE ${s}.outcome_pending SET lease_until = $2 WHERE ctid = ANY (ARRAY (SELECT ctid FROM due))
       )
       SELECT change FROM due ORDER BY lease_until`,
    ),
    claimOverdue: make(
      'claim-overdue',
      // A candidate another sweeper holds (its lease, or its row lock while it claims) is
      // skipped; one whose claim ended meanwhile is checked again on its newest row.
      `WITH due AS (
         SELECT ctid, omnimessage_id, deadline FROM ${s}.outcomes
         WHERE result = 'pending' AND deadline <= $1 AND overdue_lease_until <= $1
         ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE ${s}.outcomes SET overdue_lease_until = $3 WHERE ctid = ANY (ARRAY (SELECT ctid FROM due))
       )
       SELECT ${s}.outcome_json(omnimessage_id) AS outcome FROM due ORDER BY deadline`,
    ),
    markOverdue: make('mark-overdue', `SELECT ${s}.mark_overdue($1, $2, $3) AS change`),
    countPending: make(
      'count-pending-outcomes',
      `SELECT count(*)::integer AS count FROM ${s}.outcome_pending`,
    ),
    prune: make(
      'prune-outcomes',
      // Outcomes silent since the cutoff whose deadline is past it too, with their messages;
      // never a pending outcome change (outcome_pending is left alone), never a row held now.
      `WITH old AS (
         SELECT ctid, omnimessage_id FROM ${s}.outcomes
         WHERE updated_at < $1 AND deadline < $1
         ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), messages AS (
         DELETE FROM ${s}.outcome_messages WHERE omnimessage_id = ANY (ARRAY (SELECT omnimessage_id FROM old))
       )
       DELETE FROM ${s}.outcomes WHERE ctid = ANY (ARRAY (SELECT ctid FROM old))`,
    ),
  };
}
