import type { Pool } from 'pg';
import { optionValidatorsOf } from '../utils/option-validators.js';

/** Options of `PostgresDlrStore`. Give exactly one of `pool` and `connectionString`. */
export interface PostgresDlrStoreOptions {
  /**
   * A node-postgres pool to use; the store never ends it. Give it an `'error'` listener (the
   * store adds a quiet one when it has none, so that a database restart cannot crash the app)
   * and a `connectionTimeoutMillis`, so that a full pool fails instead of queueing forever.
   */
  pool?: Pool;
  /**
   * A PostgreSQL URL. The store creates a pool whose connections time out statements after
   * `timeoutMs`, reconnect by themselves, and are ended by `close()`.
   */
  connectionString?: string;
  /** The schema holding the store's tables. Default `'messente_dlr'`. */
  schema?: string;
  /** History of messages silent for longer than this is deleted, in small batches. Default 90. */
  retentionDays?: number;
  /**
   * Create the schema when it is missing (default true), under an advisory lock so that
   * instances starting together do it once. `false` when migrations run it themselves:
   * `postgresDlrSchemaSql()` is the SQL.
   */
  createSchema?: boolean;
  /**
   * Every call (waiting for a connection included) rejects after this many ms. Default 2500:
   * longer than the webhook's own 1.5 s deadline, so that a report recorded just after the
   * 503 went out is still seen, and dispatched, by the app. The same option as
   * `RedisDlrStore`'s `timeoutMs`.
   */
  timeoutMs?: number;
  /** @deprecated Use `timeoutMs`, the name both stores share (which wins when both are given). */
  queryTimeoutMs?: number;
  /** How often retention runs, in ms; 0 turns it off. Default one hour (the first run within a minute of start). */
  pruneIntervalMs?: number;
  /** Messages deleted per retention statement. Default 500. */
  pruneBatchSize?: number;
}

/** `PostgresDlrStoreOptions` checked, with their defaults. */
export interface ResolvedPostgresOptions {
  readonly schema: string;
  /** `retentionDays` in ms. */
  readonly retentionMs: number;
  readonly createSchema: boolean;
  /** `timeoutMs`, or the deprecated `queryTimeoutMs`. */
  readonly timeoutMs: number;
  /** 0: no retention on a timer. */
  readonly pruneIntervalMs: number;
  readonly pruneBatchSize: number;
}

const DAY_MS = 86_400_000;

/** Checks the options (throwing `PostgresDlrStore: …` for a bad one) and fills in defaults. */
export function resolvePostgresOptions(options: PostgresDlrStoreOptions): ResolvedPostgresOptions {
  if (!options.pool === !options.connectionString) {
    throw new Error('PostgresDlrStore: give exactly one of the options `pool` and `connectionString`');
  }
  const { positiveInteger, positiveNumber } = optionValidatorsOf('PostgresDlrStore');
  const pruneIntervalMs = options.pruneIntervalMs ?? 3_600_000;
  return {
    schema: options.schema ?? 'messente_dlr',
    retentionMs: positiveNumber('retentionDays', options.retentionDays ?? 90) * DAY_MS,
    createSchema: options.createSchema ?? true,
    timeoutMs:
      options.timeoutMs !== undefined
        ? positiveInteger('timeoutMs', options.timeoutMs)
        : positiveInteger('queryTimeoutMs', options.queryTimeoutMs ?? 2500),
    pruneBatchSize: positiveInteger('pruneBatchSize', options.pruneBatchSize ?? 500),
    pruneIntervalMs: pruneIntervalMs === 0 ? 0 : positiveInteger('pruneIntervalMs', pruneIntervalMs),
  };
}
