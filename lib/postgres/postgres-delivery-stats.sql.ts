import { DELIVERY_BIN_COUNT, DELIVERY_SECONDS_BOUNDS } from '../analytics/delivery-bins.js';
import { HOUR_MS, MINUTE_MS } from '../analytics/delivery-window.js';

/** The histogram's bins as SQL array elements, each built by `element(bin)` (bins from 0). */
const perBin = (element: (bin: number) => string) =>
  Array.from({ length: DELIVERY_BIN_COUNT }, (_, bin) => element(bin)).join(', ');

/**
 * The delivery analytics part of the schema (version 4), in the quoted schema `s`: each
 * message's start and whether its final step was counted (`delivery_messages`), the counters of
 * every minute and hour bucket per channel and country (`delivery_buckets`), and the
 * `tally_delivery` function that counts a batch of steps in one call. Idempotent, like the rest
 * of `postgresDlrSchemaSql`.
 *
 * The histogram's bounds (`DELIVERY_SECONDS_BOUNDS`) are written into the function and its
 * number of bins into every row: changing them needs a new schema version.
 */
export function deliveryStatsSchemaSql(s: string): string {
  const bounds = DELIVERY_SECONDS_BOUNDS.join(', ');
  return `
-- One row per message the analytics have heard of: when it started, and whether its first final
-- step was counted (only that one counts). Retention prunes by updated_at, as messages.
CREATE TABLE IF NOT EXISTS ${s}.delivery_messages (
  message_id text PRIMARY KEY,
  -- ms since the epoch, as the app gave it (double precision: durations come out as in JavaScript).
  started_at double precision NOT NULL,
  final boolean NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS delivery_messages_updated_idx ON ${s}.delivery_messages (updated_at);

-- The counters of one channel and country over one minute (bucket_ms ${MINUTE_MS}) or hour
-- (${HOUR_MS}) starting at start_at: a window is a range of this primary key.
CREATE TABLE IF NOT EXISTS ${s}.delivery_buckets (
  bucket_ms integer NOT NULL,
  start_at bigint NOT NULL,
  channel text NOT NULL,
  country text NOT NULL,
  started integer NOT NULL,
  delivered integer NOT NULL,
  failed integer NOT NULL,
  -- Deliveries per bin of time to deliver (DELIVERY_SECONDS_BOUNDS, one more bin past the last).
  bins integer[] NOT NULL,
  -- Failures per reason: {"reason": count}.
  reasons jsonb NOT NULL,
  PRIMARY KEY (bucket_ms, start_at, channel, country)
);

-- Counts a batch of steps (the i-th element of each array is one tally), and answers, per tally,
-- the seconds from the message's start to the delivery it counted, or NULL. Message rows are
-- locked in the order of their ids and bucket rows in the order of their key, so that calls of
-- several instances at once wait for each other but never deadlock; a message's own steps are
-- taken in the order given.
CREATE OR REPLACE FUNCTION ${s}.tally_delivery(
  p_message_ids text[], p_channels text[], p_countries text[], p_steps text[], p_reasons text[],
  p_ats double precision[], p_received_ats double precision[]
) RETURNS double precision[] LANGUAGE plpgsql AS $$
DECLARE
  t record;
  m record;
  v_answers double precision[] := array_fill(NULL::double precision, ARRAY[cardinality(p_message_ids)]);
  v_seconds double precision;
  v_bin integer;
  -- What the tallies that count add, one element each: tally, started, delivered, failed, bin, reason.
  c_tally integer[] := '{}';
  c_started integer[] := '{}';
  c_delivered integer[] := '{}';
  c_failed integer[] := '{}';
  c_bin integer[] := '{}';
  c_reason text[] := '{}';
BEGIN
  FOR t IN SELECT u.message_id, u.step, u.reason, u.at, u.received_at, u.i
      FROM unnest(p_message_ids, p_steps, p_reasons, p_ats, p_received_ats)
        WITH ORDINALITY AS u(message_id, step, reason, at, received_at, i)
      ORDER BY u.message_id, u.i LOOP
    SELECT started_at, final INTO m FROM ${s}.delivery_messages WHERE message_id = t.message_id FOR UPDATE;
    IF NOT FOUND THEN
      INSERT INTO ${s}.delivery_messages (message_id, started_at, final, updated_at)
        VALUES (t.message_id, t.at, t.step <> 'started', floor(t.received_at)::bigint)
        ON CONFLICT (message_id) DO NOTHING;
      IF FOUND THEN
        -- The first step heard of starts the message; a final one counts too, without a duration.
        c_tally := c_tally || t.i::integer;
        c_started := c_started || 1;
        c_delivered := c_delivered || (t.step = 'delivered')::integer;
        c_failed := c_failed || (t.step = 'failed')::integer;
        c_bin := c_bin || NULL::integer;
        c_reason := c_reason || CASE WHEN t.step = 'failed' THEN coalesce(t.reason, 'unknown') END;
        CONTINUE;
      END IF;
      -- Another call started the message meanwhile: wait for it, then decide as usual.
      SELECT started_at, final INTO m FROM ${s}.delivery_messages WHERE message_id = t.message_id FOR UPDATE;
    END IF;
    IF t.step = 'started' THEN
      -- A track() after the first report: the message started earlier than thought.
      UPDATE ${s}.delivery_messages SET started_at = least(started_at, t.at),
          updated_at = greatest(updated_at, floor(t.received_at)::bigint)
        WHERE message_id = t.message_id;
    ELSIF m.final THEN
      UPDATE ${s}.delivery_messages SET updated_at = greatest(updated_at, floor(t.received_at)::bigint)
        WHERE message_id = t.message_id;
    ELSE
      UPDATE ${s}.delivery_messages SET final = true,
          updated_at = greatest(updated_at, floor(t.received_at)::bigint)
        WHERE message_id = t.message_id;
      v_seconds := NULL;
      v_bin := NULL;
      IF t.step = 'delivered' THEN
        v_seconds := (t.at - m.started_at) / 1000;
        -- deliveryBinOf: the first bound at or above the duration, or the bin past the last.
        v_bin := (SELECT count(*) FROM unnest(ARRAY[${bounds}]::double precision[]) b WHERE b < v_seconds);
      END IF;
      v_answers[t.i] := v_seconds;
      c_tally := c_tally || t.i::integer;
      c_started := c_started || 0;
      c_delivered := c_delivered || (t.step = 'delivered')::integer;
      c_failed := c_failed || (t.step = 'failed')::integer;
      c_bin := c_bin || v_bin;
      c_reason := c_reason || CASE WHEN t.step = 'failed' THEN coalesce(t.reason, 'unknown') END;
    END IF;
  END LOOP;

  WITH c AS (
    SELECT p_channels[k.i] AS channel, p_countries[k.i] AS country, p_received_ats[k.i] AS received_at,
      k.started, k.delivered, k.failed, k.bin, k.reason
    FROM unnest(c_tally, c_started, c_delivered, c_failed, c_bin, c_reason)
      AS k(i, started, delivered, failed, bin, reason)
  ), g AS (
    SELECT w.bucket_ms, (floor(c.received_at / w.bucket_ms) * w.bucket_ms)::bigint AS start_at,
      c.channel, c.country, sum(c.started)::integer AS started, sum(c.delivered)::integer AS delivered,
      sum(c.failed)::integer AS failed,
      ARRAY[${perBin((bin) => `count(*) FILTER (WHERE c.bin = ${bin})`)}]::integer[] AS bins,
      array_agg(c.reason) FILTER (WHERE c.reason IS NOT NULL) AS reasons
    FROM c CROSS JOIN (VALUES (${MINUTE_MS}), (${HOUR_MS})) AS w(bucket_ms)
    GROUP BY 1, 2, 3, 4
  )
  INSERT INTO ${s}.delivery_buckets AS b
    (bucket_ms, start_at, channel, country, started, delivered, failed, bins, reasons)
  SELECT g.bucket_ms, g.start_at, g.channel, g.country, g.started, g.delivered, g.failed, g.bins,
    (SELECT coalesce(jsonb_object_agg(r.reason, r.n), '{}') FROM (
       SELECT reason, count(*) AS n FROM unnest(g.reasons) AS reason GROUP BY reason) r)
  FROM g ORDER BY 1, 2, 3, 4
  ON CONFLICT (bucket_ms, start_at, channel, country) DO UPDATE SET
    started = b.started + EXCLUDED.started,
    delivered = b.delivered + EXCLUDED.delivered,
    failed = b.failed + EXCLUDED.failed,
    bins = ARRAY[${perBin((bin) => `b.bins[${bin + 1}] + EXCLUDED.bins[${bin + 1}]`)}],
    reasons = b.reasons || (SELECT coalesce(jsonb_object_agg(e.key,
        coalesce((b.reasons ->> e.key)::integer, 0) + e.value::integer), '{}')
      FROM jsonb_each_text(EXCLUDED.reasons) e);
  RETURN v_answers;
END
$$;
`;
}
