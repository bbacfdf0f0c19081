import { Logger } from '@nestjs/common';
// The default import works with every pg 8 release; named ESM exports came later.
import pg, { type Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import { isFinalStatus, statusPrecedence } from '../dlr-status.js';
import type {
  DlrStore,
  PendingKey,
  RecordOutcome,
  RecordResult,
  StoredReport,
} from '../interfaces/dlr-store.interface.js';
import { type Statement, type Statements, statements } from './postgres-dlr.queries.js';
import { POSTGRES_DLR_SCHEMA_VERSION, postgresDlrSchemaSql, quoteSchema } from './postgres-dlr.schema.js';
import { fromDbText, searchValues, toDbText } from './postgres-text.js';
import { MAX_PHONE, MAX_RECENT, MAX_SEARCH, boundedLimit } from '../stores/store-queries.js';
import { LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { errorMessage } from '../utils/error-message.js';

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
   * `queryTimeoutMs`, reconnect by themselves, and are ended by `close()`.
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
   * 503 went out is still seen, and dispatched, by the app.
   */
  queryTimeoutMs?: number;
  /** How often retention runs, in ms; 0 turns it off. Default one hour (the first run within a minute of start). */
  pruneIntervalMs?: number;
  /** Messages deleted per retention statement. Default 500. */
  pruneBatchSize?: number;
}

const DAY_MS = 86_400_000;
/** Retention statements per run at most: a backlog is worked off over several runs. */
const PRUNE_BATCHES_PER_RUN = 200;
/** SQLSTATEs after which a decision is simply tried again: serialization failure, deadlock. */
const RETRYABLE = new Set(['40001', '40P01']);
const RETRIES = 3;
/** Creating the schema (waiting for another instance doing it included) may take this long. */
const SCHEMA_TIMEOUT_MS = 30_000;

/**
 * A `DlrStore` on PostgreSQL (node-postgres 8), shared safely by any number of app instances,
 * with a durable history. Every report is one call of the schema's `record` function: one round
 * trip, atomic (the message row is locked for the decision). Pending changes are claimed with
 * `FOR UPDATE SKIP LOCKED`, so each goes to one instance. Semantics are those of
 * `InMemoryDlrStore` (one contract suite runs against every store).
 *
 * Every call rejects within `queryTimeoutMs` with an error saying PostgreSQL is unavailable,
 * so that the webhook answers 503 and Messente retries later.
 */
export class PostgresDlrStore implements DlrStore {
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly schema: string;
  private readonly sql: Statements;
  private readonly retentionMs: number;
  private readonly createSchema: boolean;
  private readonly queryTimeoutMs: number;
  private readonly pruneBatchSize: number;
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly quietErrors = (error: Error) => (this.lastPoolError = error.message);
  private lastPoolError: string | null = null;
  private schemaReady: Promise<void> | null;
  private schemaInstalled: boolean;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<number> | null = null;
  private closed = false;

  constructor(options: PostgresDlrStoreOptions) {
    if (!options.pool === !options.connectionString) {
      throw new Error('PostgresDlrStore: give exactly one of the options `pool` and `connectionString`');
    }
    this.schema = options.schema ?? 'messente_dlr';
    quoteSchema(this.schema);
    this.sql = statements(this.schema);
    this.retentionMs = positive('retentionDays', options.retentionDays ?? 90) * DAY_MS;
    this.createSchema = options.createSchema ?? true;
    this.queryTimeoutMs = positiveInteger('queryTimeoutMs', options.queryTimeoutMs ?? 2500);
    this.pruneBatchSize = positiveInteger('pruneBatchSize', options.pruneBatchSize ?? 500);
    const pruneIntervalMs = options.pruneIntervalMs ?? 3_600_000;
    if (pruneIntervalMs !== 0) positiveInteger('pruneIntervalMs', pruneIntervalMs);
    this.ownsPool = !options.pool;
    this.pool = options.pool ?? this.createPool(options.connectionString!);
    if (this.pool.listenerCount('error') === 0) this.pool.on('error', this.quietErrors);
    this.schemaReady = this.createSchema ? null : Promise.resolve();
    this.schemaInstalled = !this.createSchema;
    if (pruneIntervalMs > 0)
      this.schedulePrune(Math.min(pruneIntervalMs, Math.random() * 60_000), pruneIntervalMs);
  }

  /** {@inheritDoc DlrStore.record} */
  async record(
    raw: Readonly<Record<string, unknown>>,
    receivedAt: number,
    leaseMs: number,
  ): Promise<RecordResult> {
    if (!Number.isFinite(receivedAt) || !Number.isFinite(leaseMs)) {
      throw new TypeError('PostgresDlrStore: receivedAt and leaseMs must be finite numbers');
    }
    const status = String(raw['status']);
    const omnimessageId = raw['omnimessage_id'];
    const at = Math.round(receivedAt);
    const values = [
      JSON.stringify(raw),
      toDbText(String(raw['message_id'])),
      toDbText(status),
      typeof omnimessageId === 'string' ? toDbText(omnimessageId) : null,
      at,
      at + Math.round(leaseMs),
      statusPrecedence(status),
      isFinalStatus(status),
      typeof raw['to'] === 'string' && raw['to'].length <= MAX_PHONE ? toDbText(raw['to']) : null,
    ];
    const [row] = (await this.run(this.sql.record, values)).rows as {
      outcome: RecordOutcome;
      report: StoredReport | null;
    }[];
    return { outcome: row!.outcome, report: row!.report };
  }

  /** {@inheritDoc DlrStore.complete} */
  async complete(key: PendingKey): Promise<void> {
    await this.run(this.sql.complete, keyValues(key));
  }

  /** {@inheritDoc DlrStore.release} */
  async release(key: PendingKey): Promise<void> {
    await this.run(this.sql.release, [...keyValues(key), Date.now()]);
  }

  /** {@inheritDoc DlrStore.claimPending} */
  async claimPending(limit: number, leaseMs: number, endedBefore = Date.now() + 1): Promise<StoredReport[]> {
    if (limit < 1) return [];
    const values = [Math.round(endedBefore), Date.now() + Math.round(leaseMs), Math.floor(limit)];
    return reports(await this.run(this.sql.claim, values));
  }

  /** {@inheritDoc DlrStore.latest} */
  async latest(messageId: string): Promise<StoredReport | null> {
    return reports(await this.run(this.sql.latest, [toDbText(messageId)]))[0] ?? null;
  }

  /** {@inheritDoc DlrStore.history} */
  async history(messageId: string): Promise<StoredReport[]> {
    return reports(await this.run(this.sql.history, [toDbText(messageId)]));
  }

  /** {@inheritDoc DlrStore.forOmnimessage} */
  async forOmnimessage(omnimessageId: string): Promise<StoredReport[]> {
    return reports(await this.run(this.sql.forOmnimessage, [toDbText(omnimessageId)]));
  }

  /** {@inheritDoc DlrStore.unsettled} */
  async unsettled(before: number, limit: number): Promise<StoredReport[]> {
    if (limit < 1) return [];
    return reports(await this.run(this.sql.unsettled, [Math.round(before), Math.floor(limit)]));
  }

  /** {@inheritDoc DlrStore.ping} */
  async ping(): Promise<void> {
    await this.run({ name: 'messente-dlr:ping', text: 'SELECT 1' }, []);
  }

  /** {@inheritDoc DlrStore.countPending} */
  async countPending(): Promise<number> {
    const [row] = (await this.run(this.sql.countPending, [])).rows as { count: number }[];
    return row!.count;
  }

  /** {@inheritDoc DlrStore.listPending} */
  async listPending(limit: number): Promise<StoredReport[]> {
    if (limit < 1) return [];
    return reports(await this.run(this.sql.listPending, [Math.floor(limit)]));
  }

  /** {@inheritDoc DlrStore.recent} */
  async recent(limit: number): Promise<StoredReport[]> {
    const count = boundedLimit(limit, MAX_RECENT);
    if (count === 0) return [];
    return reports(await this.run(this.sql.recent, [count]));
  }

  /** {@inheritDoc DlrStore.search} */
  async search(query: string, limit: number): Promise<string[]> {
    const count = boundedLimit(limit, MAX_SEARCH);
    if (count === 0 || query === '') return [];
    const { rows } = await this.run(this.sql.search, [...searchValues(query), count]);
    return (rows as { message_id: string }[]).map((row) => fromDbText(row.message_id));
  }

  /**
   * Creates the schema when it is missing, under a transaction-scoped advisory lock, and
   * records its version; a schema of a newer release is refused. Runs by itself before the
   * first call; call it at startup to fail early.
   */
  ensureSchema(): Promise<void> {
    this.schemaReady ??= this.installSchema().then(
      () => void (this.schemaInstalled = true),
      (error: unknown) => {
        this.schemaReady = null; // tried again by the next call: the database may be back
        throw error;
      },
    );
    return this.schemaReady;
  }

  /**
   * Deletes the history of messages silent for longer than `retentionDays`, in batches of
   * `pruneBatchSize` that skip rows intake holds; never a pending change. Resolves with how
   * many messages were deleted. Runs on a timer by itself (`pruneIntervalMs`).
   */
  prune(): Promise<number> {
    this.pruning ??= this.pruneBatches().finally(() => (this.pruning = null));
    return this.pruning;
  }

  /** Stops retention and ends the pool if the store created it; a pool passed in stays open. */
  async close(): Promise<void> {
    clearTimeout(this.pruneTimer);
    this.pruneTimer = undefined;
    if (this.closed) return;
    this.closed = true;
    await this.pruning?.catch(() => undefined);
    this.pool.off('error', this.quietErrors);
    if (this.ownsPool) await this.pool.end();
  }

  private createPool(connectionString: string): Pool {
    return new pg.Pool({
      connectionString,
      application_name: 'nestjs-messente-dlr',
      // A hung server or a lost connection must fail fast, so that intake answers 503.
      connectionTimeoutMillis: this.queryTimeoutMs,
      statement_timeout: this.queryTimeoutMs,
      query_timeout: this.queryTimeoutMs,
      keepAlive: true,
    });
  }

  private async installSchema(): Promise<void> {
    const deadline = Date.now() + SCHEMA_TIMEOUT_MS;
    const client = await this.connect(deadline);
    const s = quoteSchema(this.schema);
    const query = <R extends QueryResultRow>(text: string, values: unknown[] = []) =>
      client.query<R>({ text, values, query_timeout: Math.max(1, deadline - Date.now()) } as never);
    let failed: unknown;
    try {
      await query('BEGIN');
      // Instances starting together queue here; the first creates, the others find it done.
      await query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `nestjs-messente-dlr:${this.schema}`,
      ]);
      const exists = await query<{ found: boolean }>(
        `SELECT to_regclass('${s}.schema_version') IS NOT NULL AS found`,
      );
      const version = exists.rows[0]!.found
        ? ((
            await query<{ version: number | null }>(`SELECT max(version) AS version FROM ${s}.schema_version`)
          ).rows[0]!.version ?? null)
        : null;
      if (version !== null && version > POSTGRES_DLR_SCHEMA_VERSION) {
        throw new Error(
          `PostgresDlrStore: schema ${this.schema} is at version ${version}, newer than this release's ` +
            `${POSTGRES_DLR_SCHEMA_VERSION}; upgrade nestjs-messente-dlr`,
        );
      }
      if (version !== POSTGRES_DLR_SCHEMA_VERSION) await query(postgresDlrSchemaSql(this.schema));
      await query('COMMIT');
    } catch (error) {
      failed = error;
      await client.query('ROLLBACK').catch(() => undefined);
      if (!isServerError(error)) throw unavailable(error);
      throw new Error(`PostgresDlrStore: could not create schema ${this.schema}: ${errorMessage(error)}`, {
        cause: error,
      });
    } finally {
      client.release(isServerError(failed) ? undefined : (failed as Error | undefined));
    }
  }

  private schedulePrune(delayMs: number, intervalMs: number): void {
    this.pruneTimer = setTimeout(() => {
      void this.prune()
        .catch((error: unknown) =>
          this.logger.warn(`PostgresDlrStore: retention did not run: ${errorMessage(error)}`),
        )
        .finally(() => {
          if (this.pruneTimer) this.schedulePrune(intervalMs, intervalMs);
        });
    }, delayMs);
    this.pruneTimer.unref();
  }

  private async pruneBatches(): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < PRUNE_BATCHES_PER_RUN && !this.closed; batch++) {
      const result = await this.run(this.sql.prune, [Date.now() - this.retentionMs, this.pruneBatchSize]);
      total += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < this.pruneBatchSize) break;
    }
    return total;
  }

  /**
   * Runs one prepared statement on a pooled connection, waiting for the connection and the
   * answer no longer than `queryTimeoutMs` in all; retries a serialization failure or deadlock.
   */
  private async run(statement: Statement, values: unknown[]): Promise<QueryResult> {
    const deadline = Date.now() + this.queryTimeoutMs;
    if (!this.schemaInstalled) await this.beforeDeadline(this.ensureSchema(), deadline);
    for (let attempt = 1; ; attempt++) {
      const client = await this.connect(deadline);
      let failed: unknown;
      try {
        return await client.query({
          name: statement.name,
          text: statement.text,
          values,
          query_timeout: Math.max(1, deadline - Date.now()),
        } as never);
      } catch (error) {
        failed = error;
        if (attempt < RETRIES && isRetryable(error) && Date.now() < deadline) continue;
        throw isServerError(error)
          ? new Error(`PostgresDlrStore: ${errorMessage(error)}`, { cause: error })
          : unavailable(error);
      } finally {
        // A connection that timed out or broke is dropped; one the server answered is reused.
        client.release(failed === undefined || isServerError(failed) ? undefined : (failed as Error));
      }
    }
  }

  /** `pending`, or a rejection at `deadline`: intake must not wait on a schema creation that hangs. */
  private beforeDeadline(pending: Promise<void>, deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(unavailable(new Error(`schema not ready within ${this.queryTimeoutMs} ms`))),
        Math.max(1, deadline - Date.now()),
      );
    });
    return Promise.race([pending, expired]).finally(() => clearTimeout(timer));
  }

  /** A pooled connection by `deadline`, or a rejection; one that comes later goes straight back. */
  private connect(deadline: number): Promise<PoolClient> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(
        () => {
          settled = true;
          reject(unavailable(new Error(`no connection within ${this.queryTimeoutMs} ms`)));
        },
        Math.max(1, deadline - Date.now()),
      );
      this.pool.connect().then(
        (client) => {
          if (settled) return client.release();
          settled = true;
          clearTimeout(timer);
          // A connection lost while checked out also emits 'error' on the client, which would
          // crash the process unheard; the query in flight fails with it anyway.
          if (client.listenerCount('error') === 0) client.on('error', ignore);
          resolve(client);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(unavailable(error, this.lastPoolError));
        },
      );
    });
  }
}

function ignore(): void {}

function keyValues(key: PendingKey): [string, string] {
  return [toDbText(key.messageId), toDbText(key.status)];
}

function reports(result: QueryResult): StoredReport[] {
  return (result.rows as { report: StoredReport }[]).map((row) => row.report);
}

function isServerError(error: unknown): boolean {
  return error instanceof Error && typeof (error as { severity?: unknown }).severity === 'string';
}

function isRetryable(error: unknown): boolean {
  return isServerError(error) && RETRYABLE.has(String((error as { code?: unknown }).code));
}

function unavailable(error: unknown, cause: string | null = null): Error {
  if (error instanceof Error && error.message.startsWith('PostgresDlrStore')) return error;
  return new Error(`PostgresDlrStore: PostgreSQL is unavailable (${cause ?? errorMessage(error)})`, {
    cause: error,
  });
}

function positive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new Error(`PostgresDlrStore: ${name} must be a positive number, got ${value}`);
  }
  return value;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`PostgresDlrStore: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
