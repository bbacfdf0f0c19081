import { LINK_LOCK_CLASS } from './postgres-outcome.sql.js';

/**
 * A stored report as JSON, from the columns `raw`, `received_at`, `previous_status`, `tracked`,
 * `ref`, `account` of `r` (a row alias or, in `record`, the values themselves): `ref` is there only
 * when the message was tracked when the report was recorded, and `account` only when the report
 * was recorded with one, so that other reports keep the shape they had before either existed.
 */
export function reportJsonSql(r: {
  raw: string;
  receivedAt: string;
  previousStatus: string;
  tracked: string;
  ref: string;
  account: string;
}): string {
  const json = (extra = '') =>
    `json_build_object('raw', ${r.raw}, 'receivedAt', ${r.receivedAt}, 'previousStatus', ${r.previousStatus}${extra})`;
  const ref = `, 'ref', ${r.ref}`;
  const account = `, 'account', ${r.account}`;
  // The common case (no account, untracked) is decided by the first test.
  return `CASE WHEN ${r.account} IS NULL THEN CASE WHEN ${r.tracked} THEN ${json(ref)} ELSE ${json()} END
    WHEN ${r.tracked} THEN ${json(ref + account)} ELSE ${json(account)} END`;
}

/** `reportJsonSql` of the row alias `alias` of `reports`. */
export const reportJsonOf = (alias: string) =>
  reportJsonSql({
    raw: `${alias}.raw`,
    receivedAt: `${alias}.received_at`,
    previousStatus: `${alias}.previous_status`,
    tracked: `${alias}.tracked`,
    ref: `${alias}.ref`,
    account: `${alias}.account`,
  });

/**
 * The argument types of the current `record` function, for `to_regprocedure`: a schema at
 * version 3 without it was created by an earlier build of this release, and is brought up to
 * date by running the (idempotent) schema SQL again.
 */
export const RECORD_ARGUMENTS =
  'json, text, text, text, bigint, bigint, smallint, boolean, text, double precision, text';

/**
 * The `record` function of schema version 3 (with the account the report was verified with), in
 * the quoted schema `s`, and the signatures of the releases (and earlier builds of 3) before, kept as wrappers for instances of those releases still running during a
 * rolling upgrade: their reports then settle tracked outcomes too (the outcome change they
 * cause stays pending until its lease ends, and a sweep of this release dispatches it).
 */
export function recordFunctionSql(s: string): string {
  const reportOf = (previous: string) =>
    reportJsonSql({
      raw: 'p_raw',
      receivedAt: 'p_received_at',
      previousStatus: previous,
      tracked: 'v_tracked',
      ref: 'v_ref',
      account: 'p_account',
    });
  // Is the message tracked, and with which ref? For an untracked message (most), one probe of
  // outcome_messages_message_idx that finds nothing.
  const lookup = `SELECT om.omnimessage_id, o.ref INTO v_omnimessage_id, v_ref
    FROM ${s}.outcome_messages om JOIN ${s}.outcomes o ON o.omnimessage_id = om.omnimessage_id
    WHERE om.message_id = p_message_id ORDER BY om.seq DESC LIMIT 1;
  v_tracked := FOUND;`;
  const settle = `IF v_tracked THEN
    v_change := ${s}.reported(v_omnimessage_id, p_message_id, p_status, p_err, p_received_at, p_lease_until);
  END IF;`;
  return `
-- The whole decision about one report, in one call: dedup, precedence, latest, history,
-- omnimessage index, pending mark, and the outcome of its tracked omnimessage. The message row
-- is locked first, so reports of one message are decided one at a time, in the order their
-- history records.
CREATE OR REPLACE FUNCTION ${s}.record(
  p_raw json, p_message_id text, p_status text, p_omnimessage_id text,
  p_received_at bigint, p_lease_until bigint, p_precedence smallint, p_final boolean, p_recipient text,
  p_err double precision, p_account text
) RETURNS TABLE (outcome text, report json, outcome_change json) LANGUAGE plpgsql AS $$
DECLARE
  m record;
  v_omnimessage_id text;
  v_ref text;
  v_tracked boolean := false;
  v_change json;
BEGIN
  SELECT status, precedence INTO m FROM ${s}.messages WHERE message_id = p_message_id FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO ${s}.messages AS t
      (message_id, status, precedence, final, received_at, omnimessage_id, updated_at)
      VALUES (p_message_id, p_status, p_precedence, p_final, p_received_at, p_omnimessage_id, p_received_at)
      ON CONFLICT (message_id) DO NOTHING;
    IF FOUND THEN
      -- A track() running now cannot see this new row: this lock (see track) orders the two.
      PERFORM pg_advisory_xact_lock(${LINK_LOCK_CLASS}, hashtext(p_message_id));
      ${lookup}
      INSERT INTO ${s}.reports (message_id, status, raw, received_at, previous_status, recipient, tracked, ref, account)
        VALUES (p_message_id, p_status, p_raw, p_received_at, NULL, p_recipient, v_tracked, v_ref, p_account);
      INSERT INTO ${s}.pending (message_id, status, lease_until) VALUES (p_message_id, p_status, p_lease_until);
      ${settle}
      RETURN QUERY SELECT 'change'::text, ${reportOf('NULL::text')}, v_change;
      RETURN;
    END IF;
    -- Another call created the message meanwhile: wait for it, then decide as usual.
    SELECT status, precedence INTO m FROM ${s}.messages WHERE message_id = p_message_id FOR UPDATE;
  END IF;

  PERFORM 1 FROM ${s}.reports WHERE message_id = p_message_id AND status = p_status;
  IF FOUND THEN
    -- A copy of a change whose lease ran out (its instance died, or it was released) runs again.
    UPDATE ${s}.pending SET lease_until = p_lease_until
      WHERE message_id = p_message_id AND status = p_status AND lease_until <= p_received_at;
    IF FOUND THEN
      RETURN QUERY SELECT 'redelivery'::text, ${reportJsonOf('r')}, NULL::json
        FROM ${s}.reports r WHERE r.message_id = p_message_id AND r.status = p_status;
    ELSE
      RETURN QUERY SELECT 'duplicate'::text, NULL::json, NULL::json;
    END IF;
    RETURN;
  END IF;

  -- The row lock above orders this lookup after any track() that read the message's status.
  ${lookup}
  INSERT INTO ${s}.reports (message_id, status, raw, received_at, previous_status, recipient, tracked, ref, account)
    VALUES (p_message_id, p_status, p_raw, p_received_at, m.status, p_recipient, v_tracked, v_ref, p_account);
  IF p_precedence < m.precedence THEN
    UPDATE ${s}.messages SET updated_at = greatest(updated_at, p_received_at) WHERE message_id = p_message_id;
    RETURN QUERY SELECT 'stale'::text, NULL::json, NULL::json;
    RETURN;
  END IF;
  UPDATE ${s}.messages SET status = p_status, precedence = p_precedence, final = p_final,
      received_at = p_received_at, updated_at = greatest(updated_at, p_received_at),
      omnimessage_id = coalesce(omnimessage_id, p_omnimessage_id)
    WHERE message_id = p_message_id;
  INSERT INTO ${s}.pending (message_id, status, lease_until) VALUES (p_message_id, p_status, p_lease_until);
  ${settle}
  RETURN QUERY SELECT 'change'::text, ${reportOf('m.status')}, v_change;
END
$$;

-- The signature of earlier builds of version 3, without the account.
CREATE OR REPLACE FUNCTION ${s}.record(
  p_raw json, p_message_id text, p_status text, p_omnimessage_id text,
  p_received_at bigint, p_lease_until bigint, p_precedence smallint, p_final boolean, p_recipient text,
  p_err double precision
) RETURNS TABLE (outcome text, report json, outcome_change json) LANGUAGE sql AS $$
  SELECT r.outcome, r.report, r.outcome_change FROM ${s}.record(p_raw, p_message_id, p_status,
    p_omnimessage_id, p_received_at, p_lease_until, p_precedence, p_final, p_recipient, p_err, NULL::text) r
$$;

-- Version 2's signature (release before), for its instances during a rolling upgrade.
CREATE OR REPLACE FUNCTION ${s}.record(
  p_raw json, p_message_id text, p_status text, p_omnimessage_id text,
  p_received_at bigint, p_lease_until bigint, p_precedence smallint, p_final boolean, p_recipient text
) RETURNS TABLE (outcome text, report json) LANGUAGE sql AS $$
  SELECT r.outcome, r.report FROM ${s}.record(p_raw, p_message_id, p_status, p_omnimessage_id,
    p_received_at, p_lease_until, p_precedence, p_final, p_recipient, ${s}.err_of(p_raw), NULL::text) r
$$;

-- Version 1's signature, likewise (it never kept the recipient).
CREATE OR REPLACE FUNCTION ${s}.record(
  p_raw json, p_message_id text, p_status text, p_omnimessage_id text,
  p_received_at bigint, p_lease_until bigint, p_precedence smallint, p_final boolean
) RETURNS TABLE (outcome text, report json) LANGUAGE sql AS $$
  SELECT r.outcome, r.report FROM ${s}.record(p_raw, p_message_id, p_status, p_omnimessage_id,
    p_received_at, p_lease_until, p_precedence, p_final, NULL::text, ${s}.err_of(p_raw), NULL::text) r
$$;
`;
}
