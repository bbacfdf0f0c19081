import { KNOWN_STATUSES, statusPrecedence } from '../dlr-status.js';
import { deliveryStatsSchemaSql } from './postgres-delivery-stats.sql.js';
import { outcomeSchemaSql } from './postgres-outcome.sql.js';
import { recordFunctionSql } from './postgres-record.sql.js';

/**
 * The version of the schema this release writes; a later release migrates from the recorded one
 * by running the (idempotent) SQL again. 2 added the feed and search indexes, `reports.recipient`
 * and the `precedence` function; 3 added outcome tracking (the `outcomes`, `outcome_messages` and
 * `outcome_pending` tables, `reports.tracked`, `.ref` and `.account`, and `record`'s outcome decision and
 * account; a version 3 of an earlier build, without `reports.account`, is upgraded in place too); 4
 * added the delivery analytics (the `delivery_messages` and `delivery_buckets` tables and the
 * `tally_delivery` function).
 */
export const POSTGRES_DLR_SCHEMA_VERSION = 4;

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a schema name and returns it quoted for SQL; throws on anything but a plain identifier. */
export function quoteSchema(schema: string): string {
  if (!IDENTIFIER.test(schema)) {
    throw new Error(
      `PostgresDlrStore: schema must be a lower-case SQL identifier (letters, digits, _), got ${JSON.stringify(schema)}`,
    );
  }
  return `"${schema}"`;
}

/**
 * True for a row of `reports` that was a change: the predicate of `reports_recent_idx`, word for word
 * (`s` the quoted schema): a query must repeat it exactly for PostgreSQL to use the index.
 */
export function changePredicate(s: string): string {
  return `(previous_status IS NULL OR ${s}.precedence(status) >= ${s}.precedence(previous_status))`;
}

/**
 * The SQL that creates the store's tables, indexes and functions (`record`, `track`, …) in `schema`
 * (default `messente_dlr`), for teams that run migrations with their own tool: run it once,
 * then create the store with `createSchema: false`. Every statement is idempotent
 * (`IF NOT EXISTS`, `CREATE OR REPLACE`), so running it again is harmless. It takes no lock:
 * `PostgresDlrStore` runs it under an advisory lock itself when `createSchema` is on.
 *
 * Times are milliseconds since the epoch (`bigint`), as the store's interface has them. Ids are
 * `text`; the rare id holding a NUL or a lone surrogate, which PostgreSQL's text cannot hold, is
 * stored JSON-encoded behind a U+0001 (see `toDbText`), and `raw` keeps the report as received.
 */
export function postgresDlrSchemaSql(schema = 'messente_dlr'): string {
  const s = quoteSchema(schema);
  return `CREATE SCHEMA IF NOT EXISTS ${s};

CREATE TABLE IF NOT EXISTS ${s}.schema_version (
  version integer PRIMARY KEY,
  installed_at timestamptz NOT NULL DEFAULT now()
);

-- One row per message: its latest accepted change (status, precedence, finality, time).
CREATE TABLE IF NOT EXISTS ${s}.messages (
  message_id text PRIMARY KEY,
  status text NOT NULL,
  precedence smallint NOT NULL,
  final boolean NOT NULL,
  received_at bigint NOT NULL,
  omnimessage_id text,
  -- When the message last got a report (change or stale): retention prunes by it.
  updated_at bigint NOT NULL,
  -- Order of first sight, so an omnimessage lists its messages in the order they arrived.
  seq bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX IF NOT EXISTS messages_omnimessage_idx ON ${s}.messages (omnimessage_id, seq)
  WHERE omnimessage_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_unsettled_idx ON ${s}.messages (received_at) WHERE NOT final;
CREATE INDEX IF NOT EXISTS messages_updated_idx ON ${s}.messages (updated_at);
-- Search by a prefix of an id: text_pattern_ops compares bytes, whatever the database's collation.
CREATE INDEX IF NOT EXISTS messages_id_prefix_idx ON ${s}.messages (message_id text_pattern_ops);
CREATE INDEX IF NOT EXISTS messages_omnimessage_prefix_idx ON ${s}.messages (omnimessage_id text_pattern_ops)
  WHERE omnimessage_id IS NOT NULL;

-- Every report recorded (changes and stale ones): the history. (message_id, status) is the
-- dedup key, so a duplicate never reaches this table.
CREATE TABLE IF NOT EXISTS ${s}.reports (
  message_id text NOT NULL,
  status text NOT NULL,
  -- The report exactly as received: json, not jsonb, keeps key order and duplicate keys.
  raw json NOT NULL,
  received_at bigint NOT NULL,
  previous_status text,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (message_id, status)
);
-- The report's \`to\` (when a string of at most 64 characters), for the search by phone number.
ALTER TABLE ${s}.reports ADD COLUMN IF NOT EXISTS recipient text;
CREATE INDEX IF NOT EXISTS reports_recipient_idx ON ${s}.reports (recipient) WHERE recipient IS NOT NULL;

-- A status's precedence, as dlr-status.ts has it (undocumented statuses rank with UNKNOWN).
CREATE OR REPLACE FUNCTION ${s}.precedence(status text) RETURNS smallint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (CASE status ${KNOWN_STATUSES.map((status) => `WHEN '${status}' THEN ${statusPrecedence(status)}`).join(' ')}
    ELSE ${statusPrecedence('')} END)::smallint
$$;
-- The feed: reports that were changes (not stale), newest first. The predicate is the record
-- function's decision, so rows written before this index existed are indexed rightly too.
CREATE INDEX IF NOT EXISTS reports_recent_idx ON ${s}.reports (received_at DESC, seq DESC)
  WHERE ${changePredicate(s)};

-- Changes whose handlers have not all succeeded, leased to an instance until lease_until.
CREATE TABLE IF NOT EXISTS ${s}.pending (
  message_id text NOT NULL,
  status text NOT NULL,
  lease_until bigint NOT NULL,
  PRIMARY KEY (message_id, status)
);
CREATE INDEX IF NOT EXISTS pending_lease_idx ON ${s}.pending (lease_until);

-- Version 3: whether the message was tracked when the report was recorded, and its ref then.
ALTER TABLE ${s}.reports ADD COLUMN IF NOT EXISTS tracked boolean NOT NULL DEFAULT false;
ALTER TABLE ${s}.reports ADD COLUMN IF NOT EXISTS ref text;
-- The account whose secret verified the report (module option accounts), or NULL without one.
ALTER TABLE ${s}.reports ADD COLUMN IF NOT EXISTS account text;
${outcomeSchemaSql(s)}${recordFunctionSql(s)}${deliveryStatsSchemaSql(s)}
INSERT INTO ${s}.schema_version (version) VALUES (${POSTGRES_DLR_SCHEMA_VERSION}) ON CONFLICT DO NOTHING;
`;
}
