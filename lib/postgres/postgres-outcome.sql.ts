import { FAILURE_STATUSES, FINAL_STATUSES } from '../dlr-status.js';

/**
 * The class of the transaction-scoped advisory locks that order `track()` against the first
 * report of a message (the key is the message id's `hashtext`): 'mdlr' in ASCII. The two-key form
 * never meets the one-key lock the schema creation takes.
 */
export const LINK_LOCK_CLASS = 0x6d646c72;

/** `'A', 'B'`: a list of statuses for `IN (…)` (they are plain upper-case words, never quoted). */
const list = (statuses: readonly string[]) => statuses.map((status) => `'${status}'`).join(', ');

/** The statuses that mean the person was reached: the final ones that are not failures (DELIVRD, SEEN). */
const DELIVERED = FINAL_STATUSES.filter((status) => !FAILURE_STATUSES.includes(status));

/**
 * The outcome part of the schema (version 3), in the quoted schema `s`: the tracked outcomes,
 * their messages, the pending outcome changes, and the functions that decide outcomes. Every
 * statement is idempotent, like the rest of `postgresDlrSchemaSql`, which runs it after the
 * report tables and before `record`, which calls `settle`.
 *
 * Strings are stored as `toDbText` made them (ids, refs, channels, statuses): the store decodes
 * what it reads back. Times are ms since the epoch (`bigint`).
 */
export function outcomeSchemaSql(s: string): string {
  return `
-- One row per tracked omnimessage: what track() was given and the result decided so far.
CREATE TABLE IF NOT EXISTS ${s}.outcomes (
  omnimessage_id text PRIMARY KEY,
  -- Written once, by the first track().
  ref text,
  recipient text,
  account text,
  result text NOT NULL CHECK (result IN ('pending', 'delivered', 'failed', 'overdue')),
  delivered_via text,
  settled_at bigint,
  deadline bigint NOT NULL,
  tracked_at bigint NOT NULL,
  -- An overdue sweep's claim holds the outcome until then: one sweeper wins each candidate.
  overdue_lease_until bigint NOT NULL DEFAULT 0,
  -- When it was tracked or last got a report: retention prunes by it, as messages.updated_at.
  updated_at bigint NOT NULL,
  -- Order of tracking: ties of tracked_at in findByRef, newest first.
  seq bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX IF NOT EXISTS outcomes_ref_idx ON ${s}.outcomes (ref, tracked_at DESC, seq DESC)
  WHERE ref IS NOT NULL;
-- The overdue sweep's candidates: only pending outcomes are in it, so it stays small.
CREATE INDEX IF NOT EXISTS outcomes_overdue_idx ON ${s}.outcomes (deadline) WHERE result = 'pending';
CREATE INDEX IF NOT EXISTS outcomes_updated_idx ON ${s}.outcomes (updated_at);

-- The tracked messages of each outcome, in fallback order, with what their latest change said.
-- Not keyed by message id: a send answer naming one message twice is kept as given.
CREATE TABLE IF NOT EXISTS ${s}.outcome_messages (
  omnimessage_id text NOT NULL,
  position smallint NOT NULL,
  message_id text NOT NULL,
  channel text NOT NULL,
  status text,
  -- The report's err as the store read it (Number.isInteger): double precision holds every such number.
  err double precision,
  at bigint,
  -- Order of linking: a message tracked again with another omnimessage belongs to the newest.
  seq bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (omnimessage_id, position)
);
-- record()'s one extra lookup per report: is this message tracked?
CREATE INDEX IF NOT EXISTS outcome_messages_message_idx ON ${s}.outcome_messages (message_id, seq DESC);

-- Outcome changes whose handlers have not all succeeded, leased like pending reports. The change
-- is kept as it was when it happened (json), so that retention of the outcome never loses it.
CREATE TABLE IF NOT EXISTS ${s}.outcome_pending (
  omnimessage_id text NOT NULL,
  result text NOT NULL,
  change json NOT NULL,
  lease_until bigint NOT NULL,
  PRIMARY KEY (omnimessage_id, result)
);
CREATE INDEX IF NOT EXISTS outcome_pending_lease_idx ON ${s}.outcome_pending (lease_until);

-- A report's err as integerOrNull() reads it: a JSON number that is a whole number, else NULL.
-- The raw body was written by JSON.stringify, so its numbers are finite doubles.
CREATE OR REPLACE FUNCTION ${s}.err_of(p_raw json) RETURNS double precision
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN json_typeof(p_raw -> 'err') = 'number' THEN
    CASE WHEN (p_raw ->> 'err')::numeric = trunc((p_raw ->> 'err')::numeric)
      THEN (p_raw ->> 'err')::double precision END END
$$;

-- A StoredOutcome as JSON (strings as stored), or NULL when it is not tracked.
CREATE OR REPLACE FUNCTION ${s}.outcome_json(p_omnimessage_id text) RETURNS json
  LANGUAGE sql STABLE AS $$
  SELECT json_build_object('omnimessageId', o.omnimessage_id, 'ref', o.ref, 'to', o.recipient,
      'account', o.account, 'result', o.result, 'deliveredVia', o.delivered_via,
      'settledAt', o.settled_at, 'deadline', o.deadline, 'trackedAt', o.tracked_at,
      'messages', coalesce((
        SELECT json_agg(json_build_object('messageId', m.message_id, 'channel', m.channel,
            'status', m.status, 'err', m.err, 'at', m.at) ORDER BY m.position)
        FROM ${s}.outcome_messages m WHERE m.omnimessage_id = o.omnimessage_id), '[]'::json))
  FROM ${s}.outcomes o WHERE o.omnimessage_id = p_omnimessage_id
$$;

-- decideOutcome() and isOutcomeEvent() (lib/outcomes/decide-outcome.ts), step by step, for an
-- outcome the caller holds locked whose result was p_current: writes the decision, and when it
-- is one handlers hear of, keeps the change pending, leased until p_lease_until, and returns it.
CREATE OR REPLACE FUNCTION ${s}.settle(
  p_omnimessage_id text, p_current text, p_current_via text, p_at bigint, p_lease_until bigint
) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  v_result text := p_current;
  v_via text := p_current_via;
  v_change json;
BEGIN
  -- Delivered stays delivered, whatever comes later.
  IF p_current <> 'delivered' THEN
    -- The first tracked message, in fallback order, that reached the person.
    SELECT channel INTO v_via FROM ${s}.outcome_messages
      WHERE omnimessage_id = p_omnimessage_id AND status IN (${list(DELIVERED)})
      ORDER BY position LIMIT 1;
    IF FOUND THEN
      v_result := 'delivered';
    ELSE
      v_via := NULL;
      IF NOT EXISTS (SELECT 1 FROM ${s}.outcome_messages WHERE omnimessage_id = p_omnimessage_id
          AND (status IS NULL OR status NOT IN (${list(FINAL_STATUSES)}))) THEN
        v_result := 'failed';
      ELSE
        v_result := CASE WHEN p_current = 'overdue' THEN 'overdue' ELSE 'pending' END;
      END IF;
    END IF;
  END IF;
  IF v_result = p_current AND v_via IS NOT DISTINCT FROM p_current_via THEN
    RETURN NULL;
  END IF;
  UPDATE ${s}.outcomes SET result = v_result, delivered_via = v_via,
      settled_at = CASE WHEN v_result <> p_current AND v_result IN ('delivered', 'failed')
        THEN p_at ELSE settled_at END
    WHERE omnimessage_id = p_omnimessage_id;
  IF v_result = p_current OR v_result = 'pending' THEN
    RETURN NULL;
  END IF;
  v_change := json_build_object('outcome', ${s}.outcome_json(p_omnimessage_id), 'previousResult', p_current);
  INSERT INTO ${s}.outcome_pending (omnimessage_id, result, change, lease_until)
    VALUES (p_omnimessage_id, v_result, v_change, p_lease_until)
    ON CONFLICT (omnimessage_id, result) DO UPDATE SET change = EXCLUDED.change, lease_until = EXCLUDED.lease_until;
  RETURN v_change;
END
$$;

-- A change of a tracked message was accepted (record() holds the message's row): the outcome
-- row is locked first, so that reports of one omnimessage's messages settle it one at a time.
CREATE OR REPLACE FUNCTION ${s}.reported(
  p_omnimessage_id text, p_message_id text, p_status text, p_err double precision,
  p_at bigint, p_lease_until bigint
) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  o record;
BEGIN
  UPDATE ${s}.outcomes SET updated_at = greatest(updated_at, p_at)
    WHERE omnimessage_id = p_omnimessage_id RETURNING result, delivered_via INTO o;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  UPDATE ${s}.outcome_messages SET status = p_status, err = p_err, at = p_at
    WHERE omnimessage_id = p_omnimessage_id AND message_id = p_message_id;
  RETURN ${s}.settle(p_omnimessage_id, o.result, o.delivered_via, p_at, p_lease_until);
END
$$;

-- track(): insert-or-existing with the write-once ref, linking the reports recorded before.
CREATE OR REPLACE FUNCTION ${s}.track(
  p_omnimessage_id text, p_ref text, p_to text, p_account text, p_deadline bigint,
  p_now bigint, p_lease_until bigint, p_message_ids text[], p_channels text[]
) RETURNS TABLE (status text, outcome json, change json) LANGUAGE plpgsql AS $$
DECLARE
  v_ref text;
  v_change json;
  v_key integer;
BEGIN
  LOOP
    INSERT INTO ${s}.outcomes (omnimessage_id, ref, recipient, account, result, deadline, tracked_at, updated_at)
      VALUES (p_omnimessage_id, p_ref, p_to, p_account, 'pending', p_deadline, p_now, p_now)
      ON CONFLICT (omnimessage_id) DO NOTHING;
    EXIT WHEN FOUND;
    -- Tracked before (a concurrent track() is waited for by the insert): nothing changes.
    SELECT o.ref INTO v_ref FROM ${s}.outcomes o WHERE o.omnimessage_id = p_omnimessage_id;
    IF FOUND THEN
      RETURN QUERY SELECT
        CASE WHEN p_ref IS NOT NULL AND p_ref IS DISTINCT FROM v_ref THEN 'ref_conflict' ELSE 'existing' END,
        ${s}.outcome_json(p_omnimessage_id), NULL::json;
      RETURN;
    END IF;
    -- Retention deleted it in between: track it afresh.
  END LOOP;
  INSERT INTO ${s}.outcome_messages (omnimessage_id, position, message_id, channel)
    SELECT p_omnimessage_id, i - 1, p_message_ids[i], p_channels[i] FROM generate_subscripts(p_message_ids, 1) i;
  -- A report of one of these messages may be recorded at this very instant. record() takes
  -- this lock after creating a message and before looking for its link, and locks an existing
  -- message's row before looking: with the locks below, either it sees the links just made, or
  -- the reads below see its report. Taken in one order, so that two track() calls never deadlock.
  FOREACH v_key IN ARRAY ARRAY(SELECT DISTINCT hashtext(id) FROM unnest(p_message_ids) id ORDER BY 1) LOOP
    PERFORM pg_advisory_xact_lock(${LINK_LOCK_CLASS}, v_key);
  END LOOP;
  PERFORM 1 FROM ${s}.messages WHERE message_id = ANY (p_message_ids) ORDER BY message_id FOR SHARE;
  -- The latest accepted change of each message, recorded before track().
  UPDATE ${s}.outcome_messages om SET status = m.status, err = ${s}.err_of(r.raw), at = m.received_at
    FROM ${s}.messages m JOIN ${s}.reports r ON r.message_id = m.message_id AND r.status = m.status
    WHERE om.omnimessage_id = p_omnimessage_id AND m.message_id = om.message_id;
  v_change := ${s}.settle(p_omnimessage_id, 'pending', NULL, p_now, p_lease_until);
  RETURN QUERY SELECT 'tracked'::text, ${s}.outcome_json(p_omnimessage_id), v_change;
END
$$;

-- markOverdue(): a claimed candidate becomes overdue if still pending; its claim ends either way.
CREATE OR REPLACE FUNCTION ${s}.mark_overdue(p_omnimessage_id text, p_now bigint, p_lease_until bigint)
  RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  v_change json;
BEGIN
  -- The row lock waits for a report settling it now; the result is then checked on its outcome.
  UPDATE ${s}.outcomes SET result = 'overdue', overdue_lease_until = 0, updated_at = greatest(updated_at, p_now)
    WHERE omnimessage_id = p_omnimessage_id AND result = 'pending';
  IF NOT FOUND THEN
    UPDATE ${s}.outcomes SET overdue_lease_until = 0
      WHERE omnimessage_id = p_omnimessage_id AND overdue_lease_until <> 0;
    RETURN NULL;
  END IF;
  v_change := json_build_object('outcome', ${s}.outcome_json(p_omnimessage_id), 'previousResult', 'pending');
  INSERT INTO ${s}.outcome_pending (omnimessage_id, result, change, lease_until)
    VALUES (p_omnimessage_id, 'overdue', v_change, p_lease_until)
    ON CONFLICT (omnimessage_id, result) DO UPDATE SET change = EXCLUDED.change, lease_until = EXCLUDED.lease_until;
  RETURN v_change;
END
$$;
`;
}
