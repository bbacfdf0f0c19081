import { DELIVERY_BIN_COUNT, DELIVERY_SECONDS_BOUNDS } from '../analytics/delivery-bins.js';
import { HOUR_MS, MINUTE_MS } from '../analytics/delivery-window.js';
import { SIX_HOURS_MS, TEN_MINUTES_MS } from './postgres-delivery-stats.window.js';

/** The histogram's bins as SQL array elements, each built by `element(bin)` (bins from 0). */
const perBin = (element: (bin: number) => string) =>
  Array.from({ length: DELIVERY_BIN_COUNT }, (_, bin) => element(bin)).join(', ');

/**
 * The delivery analytics part of the schema (version 4), in the quoted schema `s`: each
 * message's start and whether its final step was counted (`delivery_messages`), the counters of
 * every minute, block of ten minutes, hour and block of six hours per channel and country
 * (`delivery_buckets`), and the
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

-- The counters of one channel and country over one minute (bucket_ms ${MINUTE_MS}), block of ten
-- minutes (${TEN_MINUTES_MS}: the sum of its minutes), hour (${HOUR_MS}) or block of six hours
-- (${SIX_HOURS_MS}) starting at start_at: a window is a few ranges of this primary key (its whole
-- blocks and the minutes or hours at either end).
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
-- locked in the order of their ids, then bucket rows in the order of their key, so that calls of
-- several instances at once wait for each other but never deadlock; a message's own steps are
-- taken in the order given. A step that counts nothing writes nothing.
CREATE OR REPLACE FUNCTION ${s}.tally_delivery(
  p_message_ids text[], p_channels text[], p_countries text[], p_steps text[], p_reasons text[],
  p_ats double precision[], p_received_ats double precision[]
) RETURNS double precision[] LANGUAGE plpgsql AS $$
DECLARE
  t record;
  k record;
  v_answers double precision[] := array_fill(NULL::double precision, ARRAY[cardinality(p_message_ids)]);
  v_started_at double precision;
  v_counted boolean;
  v_new boolean;
  v_seconds double precision;
  v_bins integer[];
  -- What the tallies that count add, one element each: tally, started (0, 1), final step, bin, reason.
  c_tally integer[] := '{}';
  c_started integer[] := '{}';
  c_final text[] := '{}';
  c_bin integer[] := '{}';
  c_reason text[] := '{}';
BEGIN
  FOR t IN SELECT u.message_id, u.step, u.reason, u.at, u.received_at, u.i
      FROM unnest(p_message_ids, p_steps, p_reasons, p_ats, p_received_ats)
        WITH ORDINALITY AS u(message_id, step, reason, at, received_at, i)
      ORDER BY u.message_id, u.i LOOP
    v_counted := false;
    IF t.step <> 'started' THEN
      -- The common final step: a message started already and not final yet.
      UPDATE ${s}.delivery_messages SET final = true, updated_at = greatest(updated_at, floor(t.received_at)::bigint)
        WHERE message_id = t.message_id AND NOT final RETURNING started_at INTO v_started_at;
      v_counted := FOUND;
    END IF;
    v_new := false;
    IF NOT v_counted THEN
      -- The first step heard of starts the message; a final one counts too, without a duration.
      INSERT INTO ${s}.delivery_messages (message_id, started_at, final, updated_at)
        VALUES (t.message_id, t.at, t.step <> 'started', floor(t.received_at)::bigint)
        ON CONFLICT (message_id) DO NOTHING;
      v_new := FOUND;
      IF NOT v_new AND t.step = 'started' THEN
        -- A track() after the first report: the message started earlier than thought.
        UPDATE ${s}.delivery_messages SET started_at = t.at,
            updated_at = greatest(updated_at, floor(t.received_at)::bigint)
          WHERE message_id = t.message_id AND started_at > t.at;
      ELSIF NOT v_new THEN
        -- Started by a call that committed meanwhile (the insert waited for it): decide again.
        UPDATE ${s}.delivery_messages SET final = true,
            updated_at = greatest(updated_at, floor(t.received_at)::bigint)
          WHERE message_id = t.message_id AND NOT final RETURNING started_at INTO v_started_at;
        v_counted := FOUND;
      END IF;
    END IF;
    IF v_new OR v_counted THEN
      v_seconds := CASE WHEN v_counted AND t.step = 'delivered' THEN (t.at - v_started_at) / 1000 END;
      v_answers[t.i] := v_seconds;
      c_tally := c_tally || t.i::integer;
      c_started := c_started || v_new::integer;
      c_final := c_final || CASE WHEN t.step <> 'started' THEN t.step END;
      -- deliveryBinOf: the first bound at or above the duration, or the bin past the last.
      c_bin := c_bin || CASE WHEN v_seconds IS NOT NULL THEN (SELECT count(*)::integer
        FROM unnest(ARRAY[${bounds}]::double precision[]) b WHERE b < v_seconds) END;
      c_reason := c_reason || CASE WHEN t.step = 'failed' THEN coalesce(t.reason, 'unknown') END;
    END IF;
  END LOOP;

  -- Each count in its minute, block of ten minutes, hour and block of six hours, one plain upsert
  -- each, in the order of the key.
  FOR k IN SELECT w.bucket_ms, (floor(p_received_ats[c.i] / w.bucket_ms) * w.bucket_ms)::bigint AS start_at,
        p_channels[c.i] AS channel, p_countries[c.i] AS country, c.started, c.final, c.bin, c.reason
      FROM unnest(c_tally, c_started, c_final, c_bin, c_reason) AS c(i, started, final, bin, reason)
        CROSS JOIN (VALUES (${MINUTE_MS}), (${TEN_MINUTES_MS}), (${HOUR_MS}), (${SIX_HOURS_MS})) AS w(bucket_ms)
      ORDER BY 1, 2, 3, 4 LOOP
    v_bins := '{${perBin(() => '0')}}';
    IF k.bin IS NOT NULL THEN v_bins[k.bin + 1] := 1; END IF;
    INSERT INTO ${s}.delivery_buckets AS b
        (bucket_ms, start_at, channel, country, started, delivered, failed, bins, reasons)
      VALUES (k.bucket_ms, k.start_at, k.channel, k.country, k.started,
        (k.final IS NOT DISTINCT FROM 'delivered')::integer, (k.final IS NOT DISTINCT FROM 'failed')::integer, v_bins,
        CASE WHEN k.reason IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(k.reason, 1) END)
      ON CONFLICT (bucket_ms, start_at, channel, country) DO UPDATE SET
        started = b.started + EXCLUDED.started,
        delivered = b.delivered + EXCLUDED.delivered,
        failed = b.failed + EXCLUDED.failed,
        bins[coalesce(k.bin, 0) + 1] = b.bins[coalesce(k.bin, 0) + 1] + EXCLUDED.bins[coalesce(k.bin, 0) + 1],
        reasons = CASE WHEN k.reason IS NULL THEN b.reasons
          ELSE jsonb_set(b.reasons, ARRAY[k.reason], to_jsonb(coalesce((b.reasons ->> k.reason)::integer, 0) + 1)) END;
  END LOOP;
  RETURN v_answers;
END
$$;
`;
}
