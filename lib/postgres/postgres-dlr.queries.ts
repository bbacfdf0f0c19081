import { quoteSchema } from './postgres-dlr.schema.js';

/** One statement the store sends, prepared once per connection under `name`. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/** Every statement of the store, each served by an index (see the README's plans). */
export interface Statements {
  readonly record: Statement;
  readonly complete: Statement;
  readonly release: Statement;
  readonly claim: Statement;
  readonly latest: Statement;
  readonly history: Statement;
  readonly forOmnimessage: Statement;
  readonly unsettled: Statement;
  readonly countPending: Statement;
  readonly listPending: Statement;
  readonly prune: Statement;
}

/** Builds a stored report as JSON in SQL, so that `raw` comes back with its keys as received. */
const REPORT = `json_build_object('raw', r.raw, 'receivedAt', r.received_at, 'previousStatus', r.previous_status)`;

/** The statements for one schema; names carry the schema so that stores on two schemas can share a pool. */
export function statements(schema: string): Statements {
  const s = quoteSchema(schema);
  const make = (name: string, text: string): Statement => ({ name: `messente-dlr:${schema}:${name}`, text });
  return {
    record: make('record', `SELECT outcome, report FROM ${s}.record($1, $2, $3, $4, $5, $6, $7, $8)`),
    complete: make('complete', `DELETE FROM ${s}.pending WHERE message_id = $1 AND status = $2`),
    release: make(
      'release',
      // Only a row that still exists: releasing a completed change must not resurrect it.
      `UPDATE ${s}.pending SET lease_until = $3 WHERE message_id = $1 AND status = $2`,
    ),
    claim: make(
      'claim',
      // SKIP LOCKED: instances sweeping at once take different changes instead of waiting.
      `WITH due AS (
         SELECT message_id, status, lease_until FROM ${s}.pending
         WHERE lease_until < $1 ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE ${s}.pending p SET lease_until = $2 FROM due
         WHERE p.message_id = due.message_id AND p.status = due.status
         RETURNING p.message_id, p.status, due.lease_until AS ended
       )
       SELECT ${REPORT} AS report FROM claimed c
       JOIN ${s}.reports r ON r.message_id = c.message_id AND r.status = c.status
       ORDER BY c.ended`,
    ),
    latest: make(
      'latest',
      `SELECT ${REPORT} AS report FROM ${s}.messages m
       JOIN ${s}.reports r ON r.message_id = m.message_id AND r.status = m.status
       WHERE m.message_id = $1`,
    ),
    history: make(
      'history',
      `SELECT ${REPORT} AS report FROM ${s}.reports r WHERE r.message_id = $1 ORDER BY r.seq`,
    ),
    forOmnimessage: make(
      'for-omnimessage',
      `SELECT ${REPORT} AS report FROM ${s}.messages m
       JOIN ${s}.reports r ON r.message_id = m.message_id AND r.status = m.status
       WHERE m.omnimessage_id = $1 ORDER BY m.seq`,
    ),
    unsettled: make(
      'unsettled',
      `SELECT ${REPORT} AS report FROM ${s}.messages m
       JOIN ${s}.reports r ON r.message_id = m.message_id AND r.status = m.status
       WHERE NOT m.final AND m.received_at < $1 ORDER BY m.received_at LIMIT $2`,
    ),
    countPending: make('count-pending', `SELECT count(*)::integer AS count FROM ${s}.pending`),
    listPending: make(
      'list-pending',
      `SELECT ${REPORT} AS report FROM (
         SELECT message_id, status, lease_until FROM ${s}.pending ORDER BY lease_until LIMIT $1
       ) p JOIN ${s}.reports r ON r.message_id = p.message_id AND r.status = p.status
       ORDER BY p.lease_until`,
    ),
    prune: make(
      'prune',
      // A batch of messages silent since the cutoff, none of them pending; rows an intake call
      // holds are skipped, so pruning never waits for intake nor makes it wait.
      `WITH old AS (
         SELECT m.message_id FROM ${s}.messages m
         WHERE m.updated_at < $1
           AND NOT EXISTS (SELECT 1 FROM ${s}.pending p WHERE p.message_id = m.message_id)
         ORDER BY m.updated_at LIMIT $2 FOR UPDATE OF m SKIP LOCKED
       ), history AS (
         DELETE FROM ${s}.reports r USING old WHERE r.message_id = old.message_id
       )
       DELETE FROM ${s}.messages m USING old WHERE m.message_id = old.message_id`,
    ),
  };
}
