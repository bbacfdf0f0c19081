import { changePredicate, quoteSchema } from './postgres-dlr.schema.js';
import { reportJsonOf } from './postgres-record.sql.js';

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
  readonly recent: Statement;
  readonly search: Statement;
  readonly prune: Statement;
}

/**
 * Builds a stored report as JSON in SQL, so that `raw` comes back with its keys as received (and
 * `ref` when its message was tracked then, `account` when it was recorded with one).
 */
const REPORT = reportJsonOf('r');

/** The statements for one schema; names carry the schema so that stores on two schemas can share a pool. */
export function statements(schema: string): Statements {
  const s = quoteSchema(schema);
  // One report by primary key; LIMIT keeps the lateral subquery a per-row index probe rather
  // than letting a generic plan turn it into a hash join over the whole table.
  const byKey = (outer: string) =>
    `SELECT ${REPORT} AS report FROM ${s}.reports r
     WHERE r.message_id = ${outer}.message_id AND r.status = ${outer}.status LIMIT 1`;
  const make = (name: string, text: string): Statement => ({ name: `messente-dlr:${schema}:${name}`, text });
  return {
    record: make(
      'record',
      `SELECT outcome, report, outcome_change FROM ${s}.record($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    ),
    complete: make('complete', `DELETE FROM ${s}.pending WHERE message_id = $1 AND status = $2`),
    release: make(
      'release',
      // Only a row that still exists: releasing a completed change must not resurrect it.
      `UPDATE ${s}.pending SET lease_until = $3 WHERE message_id = $1 AND status = $2`,
    ),
    claim: make(
      'claim',
      // SKIP LOCKED: instances sweeping at once take different changes instead of waiting. The
      // locked rows are updated by ctid and their reports fetched one by one by primary key, so
      // that even a generic plan never scans a table.
      `WITH due AS (
         SELECT ctid, message_id, status, lease_until FROM ${s}.pending
         WHERE lease_until < $1 ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE ${s}.pending SET lease_until = $2 WHERE ctid = ANY (ARRAY (SELECT ctid FROM due))
       )
       SELECT r.report FROM due CROSS JOIN LATERAL (${byKey('due')}) r ORDER BY due.lease_until`,
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
      `SELECT r.report FROM (
         SELECT message_id, status, received_at FROM ${s}.messages
         WHERE NOT final AND received_at < $1 ORDER BY received_at LIMIT $2
       ) m CROSS JOIN LATERAL (${byKey('m')}) r ORDER BY m.received_at`,
    ),
    countPending: make('count-pending', `SELECT count(*)::integer AS count FROM ${s}.pending`),
    listPending: make(
      'list-pending',
      `SELECT r.report FROM (
         SELECT message_id, status, lease_until FROM ${s}.pending ORDER BY lease_until LIMIT $1
       ) p CROSS JOIN LATERAL (${byKey('p')}) r ORDER BY p.lease_until`,
    ),
    recent: make(
      'recent',
      // The predicate is reports_recent_idx's own: the newest changes are the index's first rows.
      `SELECT ${REPORT} AS report FROM ${s}.reports r WHERE ${changePredicate(s)}
       ORDER BY r.received_at DESC, r.seq DESC LIMIT $1`,
    ),
    search: make(
      'search',
      // Each way a query names a message is one index lookup ($1 exact id, $2…$5 ranges of a
      // prefix, $6 phone number); the messages found are ordered by their latest change.
      `SELECT m.message_id FROM (
         SELECT message_id FROM ${s}.messages WHERE message_id = $1
         UNION SELECT message_id FROM ${s}.messages WHERE omnimessage_id = $1
         UNION SELECT message_id FROM ${s}.reports WHERE recipient = $6
         UNION SELECT message_id FROM ${s}.messages WHERE message_id ~>=~ $2 AND message_id ~<~ $3
         UNION SELECT message_id FROM ${s}.messages WHERE message_id ~>=~ $4 AND message_id ~<~ $5
         UNION SELECT message_id FROM ${s}.messages
           WHERE omnimessage_id ~>=~ $2 AND omnimessage_id ~<~ $3 AND omnimessage_id IS NOT NULL
         UNION SELECT message_id FROM ${s}.messages
           WHERE omnimessage_id ~>=~ $4 AND omnimessage_id ~<~ $5 AND omnimessage_id IS NOT NULL
       ) found CROSS JOIN LATERAL (
         SELECT message_id, received_at, seq FROM ${s}.messages WHERE message_id = found.message_id LIMIT 1
       ) m ORDER BY m.received_at DESC, m.seq DESC LIMIT $7`,
    ),
    prune: make(
      'prune',
      // A batch of messages silent since the cutoff, none of them pending; rows an intake call
      // holds are skipped, so pruning never waits for intake nor makes it wait.
      `WITH old AS (
         SELECT m.ctid, m.message_id FROM ${s}.messages m
         WHERE m.updated_at < $1
           -- OFFSET 0 keeps this a per-row probe of pending_pkey, never a hash anti-join over pending.
           AND NOT EXISTS (SELECT 1 FROM ${s}.pending p WHERE p.message_id = m.message_id OFFSET 0)
         ORDER BY m.updated_at LIMIT $2 FOR UPDATE OF m SKIP LOCKED
       ), history AS (
         DELETE FROM ${s}.reports WHERE message_id = ANY (ARRAY (SELECT message_id FROM old))
       )
       DELETE FROM ${s}.messages WHERE ctid = ANY (ARRAY (SELECT ctid FROM old))`,
    ),
  };
}
