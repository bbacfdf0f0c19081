import { DELIVERY_BIN_COUNT } from '../analytics/delivery-bins.js';
import { HOUR_MS, MINUTE_MS } from '../analytics/delivery-window.js';
import { DELIVERY_KEY_RANGES, SIX_HOURS_MS, TEN_MINUTES_MS } from './postgres-delivery-stats.window.js';
import { quoteSchema } from './postgres-dlr.schema.js';
import type { Statement } from './postgres-dlr.queries.js';

/** The statements of `PostgresDlrStore`'s delivery analytics (`DlrDeliveryStatsStore`), each one round trip. */
export interface DeliveryStatsStatements {
  readonly tally: Statement;
  readonly buckets: Statement;
  readonly prune: Statement;
}

/**
 * The bucket rows of the window: `DELIVERY_KEY_RANGES` ranges of the primary key, the k-th one's
 * bucket size, first and last start in parameters 3k+1 to 3k+3 (`deliveryKeyRanges`, an unused
 * one empty). Spelled out rather than joined to an unnest of the ranges: a generic plan knows
 * nothing of the ranges' length and would scan the whole table for such a join.
 */
const inRanges = (s: string) =>
  `(${Array.from(
    { length: DELIVERY_KEY_RANGES },
    (_, k) =>
      `SELECT * FROM ${s}.delivery_buckets
         WHERE bucket_ms = $${3 * k + 1} AND start_at >= $${3 * k + 2} AND start_at <= $${3 * k + 3}`,
  ).join(' UNION ALL ')})`;

/** The delivery analytics statements for one schema; names carry the schema, as `statements()` does. */
export function deliveryStatsStatements(schema: string): DeliveryStatsStatements {
  const s = quoteSchema(schema);
  const make = (name: string, text: string): Statement => ({ name: `messente-dlr:${schema}:${name}`, text });
  return {
    tally: make(
      'tally-delivery',
      `SELECT ${s}.tally_delivery($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
         $6::double precision[], $7::double precision[]) AS seconds`,
    ),
    buckets: make(
      'delivery-buckets',
      // A few ranges of delivery_buckets_pkey (inRanges), each an index scan, summed here per
      // channel and country: one row per pair crosses the wire, not one per bucket and pair.
      // Two reads rather than one shared CTE: a CTE would be materialised and read twice, slower.
      `SELECT sums.*, coalesce(r.reasons, '{}'::jsonb) AS reasons FROM (
         SELECT b.channel, b.country, sum(b.started)::integer AS started, sum(b.delivered)::integer AS delivered,
           sum(b.failed)::integer AS failed,
           ARRAY[${Array.from({ length: DELIVERY_BIN_COUNT }, (_, bin) => `sum(b.bins[${bin + 1}])`).join(', ')}]::integer[] AS bins
         FROM ${inRanges(s)} AS b
         GROUP BY b.channel, b.country
       ) AS sums LEFT JOIN (
         SELECT channel, country, jsonb_object_agg(reason, total) AS reasons FROM (
           SELECT b.channel, b.country, e.key AS reason, sum(e.value::integer)::integer AS total
           FROM ${inRanges(s)} AS b, jsonb_each_text(b.reasons) AS e WHERE b.failed > 0
           GROUP BY b.channel, b.country, e.key
         ) AS per_reason GROUP BY channel, country
       ) AS r USING (channel, country)`,
    ),
    prune: make(
      'prune-delivery',
      // A batch of messages the analytics have not heard of since the cutoff ($1), a batch each
      // of minute buckets and of blocks of ten minutes older than $3, and of hour buckets and of
      // blocks of six hours older than $4 (each in the order of an index); rows a tally holds
      // are skipped.
      `WITH old AS (
         SELECT ctid FROM ${s}.delivery_messages WHERE updated_at < $1
         ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), messages AS (
         DELETE FROM ${s}.delivery_messages WHERE ctid = ANY (ARRAY (SELECT ctid FROM old)) RETURNING 1
       ), old_minutes AS (
         SELECT ctid FROM ${s}.delivery_buckets WHERE bucket_ms = ${MINUTE_MS} AND start_at < $3
         ORDER BY start_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), old_tens AS (
         SELECT ctid FROM ${s}.delivery_buckets WHERE bucket_ms = ${TEN_MINUTES_MS} AND start_at < $3
         ORDER BY start_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), old_hours AS (
         SELECT ctid FROM ${s}.delivery_buckets WHERE bucket_ms = ${HOUR_MS} AND start_at < $4
         ORDER BY start_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), old_sixes AS (
         SELECT ctid FROM ${s}.delivery_buckets WHERE bucket_ms = ${SIX_HOURS_MS} AND start_at < $4
         ORDER BY start_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), buckets AS (
         DELETE FROM ${s}.delivery_buckets WHERE ctid = ANY (ARRAY (
           SELECT ctid FROM old_minutes UNION ALL SELECT ctid FROM old_tens
           UNION ALL SELECT ctid FROM old_hours UNION ALL SELECT ctid FROM old_sixes)) RETURNING 1
       )
       SELECT (SELECT count(*) FROM messages)::integer AS messages,
         (SELECT count(*) FROM buckets)::integer AS buckets`,
    ),
  };
}
