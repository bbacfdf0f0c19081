import { DELIVERY_BIN_COUNT } from '../analytics/delivery-bins.js';
import { HOUR_MS, MINUTE_MS } from '../analytics/delivery-window.js';
import { quoteSchema } from './postgres-dlr.schema.js';
import type { Statement } from './postgres-dlr.queries.js';

/** The statements of `PostgresDlrStore`'s delivery analytics (`DlrDeliveryStatsStore`), each one round trip. */
export interface DeliveryStatsStatements {
  readonly tally: Statement;
  readonly buckets: Statement;
  readonly prune: Statement;
}

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
      // Two ranges of delivery_buckets_pkey (one granularity, the window's starts), summed here
      // per channel and country: one row per pair crosses the wire, not one per bucket and pair.
      // Two scans rather than one shared CTE: a CTE would be materialised and read twice, slower.
      `SELECT sums.*, coalesce(r.reasons, '{}'::jsonb) AS reasons FROM (
         SELECT channel, country, sum(started)::integer AS started, sum(delivered)::integer AS delivered,
           sum(failed)::integer AS failed,
           ARRAY[${Array.from({ length: DELIVERY_BIN_COUNT }, (_, bin) => `sum(bins[${bin + 1}])`).join(', ')}]::integer[] AS bins
         FROM ${s}.delivery_buckets WHERE bucket_ms = $1 AND start_at >= $2 AND start_at <= $3
         GROUP BY channel, country
       ) AS sums LEFT JOIN (
         SELECT channel, country, jsonb_object_agg(reason, total) AS reasons FROM (
           SELECT b.channel, b.country, e.key AS reason, sum(e.value::integer)::integer AS total
           FROM ${s}.delivery_buckets AS b, jsonb_each_text(b.reasons) AS e
           WHERE b.bucket_ms = $1 AND b.start_at >= $2 AND b.start_at <= $3 AND b.failed > 0
           GROUP BY b.channel, b.country, e.key
         ) AS per_reason GROUP BY channel, country
       ) AS r USING (channel, country)`,
    ),
    prune: make(
      'prune-delivery',
      // A batch of messages the analytics have not heard of since the cutoff ($1), a batch of
      // minute buckets older than $3 and one of hour buckets older than $4 (each in the order of
      // an index); rows a tally holds are skipped.
      `WITH old AS (
         SELECT ctid FROM ${s}.delivery_messages WHERE updated_at < $1
         ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), messages AS (
         DELETE FROM ${s}.delivery_messages WHERE ctid = ANY (ARRAY (SELECT ctid FROM old)) RETURNING 1
       ), old_minutes AS (
         SELECT ctid FROM ${s}.delivery_buckets WHERE bucket_ms = ${MINUTE_MS} AND start_at < $3
         ORDER BY start_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), old_hours AS (
         SELECT ctid FROM ${s}.delivery_buckets WHERE bucket_ms = ${HOUR_MS} AND start_at < $4
         ORDER BY start_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), buckets AS (
         DELETE FROM ${s}.delivery_buckets WHERE ctid = ANY (ARRAY (
           SELECT ctid FROM old_minutes UNION ALL SELECT ctid FROM old_hours)) RETURNING 1
       )
       SELECT (SELECT count(*) FROM messages)::integer AS messages,
         (SELECT count(*) FROM buckets)::integer AS buckets`,
    ),
  };
}
