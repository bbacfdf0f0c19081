import type { QueryResult } from 'pg';
import type {
  DeliveryBucketRow,
  DeliveryTally,
  DeliveryWindow,
  DlrDeliveryStatsStore,
} from '../interfaces/delivery-stats.interface.js';
import { isFinalStatus, statusPrecedence } from '../dlr-status.js';
import type {
  DlrStore,
  PendingKey,
  RecordOutcome,
  RecordResult,
  StoredReport,
} from '../interfaces/dlr-store.interface.js';
import type {
  DlrOutcomeStore,
  OutcomeChange,
  OutcomeKey,
  StoredOutcome,
  TrackInput,
  TrackResult,
} from '../interfaces/outcome-store.interface.js';
import { integerOrNull } from '../payload/payload-fields.js';
import { messageIdOf, statusOf } from '../stores/report-key.js';
import { MAX_PHONE, MAX_RECENT, MAX_SEARCH, boundedLimit } from '../stores/store-queries.js';
import { errorMessage } from '../utils/error-message.js';
import { withDeadline } from '../utils/with-deadline.js';
import {
  type PostgresDlrStoreOptions,
  type ResolvedPostgresOptions,
  resolvePostgresOptions,
} from './postgres-dlr.options.js';
import { type Statement, type Statements, statements } from './postgres-dlr.queries.js';
import { quoteSchema } from './postgres-dlr.schema.js';
import { PostgresDeliveryStats } from './postgres-delivery-stats.js';
import { PostgresOutcomes, changeOrNull } from './postgres-outcomes.js';
import { installSchema, isServerError } from './postgres-schema-install.js';
import { PostgresPool, unavailable } from './postgres-pool.js';
import { PostgresRetention } from './postgres-retention.js';
import { type StoredJson, decoded, reports } from './postgres-stored-report.js';
import { fromDbText, searchValues, toDbText } from './postgres-text.js';

export type { PostgresDlrStoreOptions } from './postgres-dlr.options.js';

/** SQLSTATEs after which a decision is simply tried again: serialization failure, deadlock. */
const RETRYABLE = new Set(['40001', '40P01']);
const RETRIES = 3;

/**
 * A `DlrStore` on PostgreSQL (node-postgres 8), shared safely by any number of app instances,
 * with a durable history. Every report is one call of the schema's `record` function: one round
 * trip, atomic (the message row is locked for the decision). Pending changes are claimed with
 * `FOR UPDATE SKIP LOCKED`, so each goes to one instance. Semantics are those of
 * `InMemoryDlrStore` (one contract suite runs against every store).
 *
 * Every call rejects within `timeoutMs` with an error saying PostgreSQL is unavailable,
 * so that the webhook answers 503 and Messente retries later.
 */
export class PostgresDlrStore implements DlrStore, DlrOutcomeStore, DlrDeliveryStatsStore {
  private readonly options: ResolvedPostgresOptions;
  private readonly schema: string;
  private readonly pool: PostgresPool;
  private readonly sql: Statements;
  private readonly retention: PostgresRetention;
  private readonly outcomes: PostgresOutcomes;
  private readonly deliveryStats: PostgresDeliveryStats;
  private schemaReady: Promise<void> | null;
  private schemaInstalled: boolean;
  private closed = false;

  constructor(options: PostgresDlrStoreOptions) {
    this.options = resolvePostgresOptions(options);
    const { schema, createSchema, timeoutMs, retentionMs, pruneBatchSize } = this.options;
    this.schema = schema;
    quoteSchema(schema);
    this.sql = statements(schema);
    this.pool = new PostgresPool(options, timeoutMs);
    this.schemaReady = createSchema ? null : Promise.resolve();
    this.schemaInstalled = !createSchema;
    const run = (statement: Statement, values: unknown[]) => this.run(statement, values);
    this.outcomes = new PostgresOutcomes(schema, run);
    this.deliveryStats = new PostgresDeliveryStats(schema, run);
    this.retention = new PostgresRetention(
      async (olderThan, batchSize) => ({
        messages: (await this.run(this.sql.prune, [olderThan, batchSize])).rowCount ?? 0,
        outcomes: (await this.run(this.outcomes.sql.prune, [olderThan, batchSize])).rowCount ?? 0,
        ...(await this.deliveryStats.prune(olderThan, batchSize)),
      }),
      retentionMs,
      pruneBatchSize,
    );
    this.retention.start(this.options.pruneIntervalMs);
  }

  /** {@inheritDoc DlrStore.record} */
  async record(
    raw: Readonly<Record<string, unknown>>,
    receivedAt: number,
    leaseMs: number,
    account?: string,
  ): Promise<RecordResult> {
    if (!Number.isFinite(receivedAt) || !Number.isFinite(leaseMs)) {
      throw new TypeError('PostgresDlrStore: receivedAt and leaseMs must be finite numbers');
    }
    const messageId = messageIdOf(raw);
    const status = statusOf(raw);
    const omnimessageId = raw['omnimessage_id'];
    const at = Math.round(receivedAt);
    const values = [
      JSON.stringify(raw),
      toDbText(messageId),
      toDbText(status),
      typeof omnimessageId === 'string' ? toDbText(omnimessageId) : null,
      at,
      at + Math.round(leaseMs),
      statusPrecedence(status),
      isFinalStatus(status),
      typeof raw['to'] === 'string' && raw['to'].length <= MAX_PHONE ? toDbText(raw['to']) : null,
      // The err a tracked message keeps, read as the other stores read it.
      integerOrNull(raw['err']),
      account === undefined ? null : toDbText(account),
    ];
    const [row] = (await this.run(this.sql.record, values)).rows as {
      outcome: RecordOutcome;
      report: StoredJson | null;
      outcome_change: OutcomeChange | null;
    }[];
    const { outcome, report, outcome_change: change } = row!;
    if (report === null) return { outcome, report: null };
    // The report's key is this call's: no need to read it back from the row.
    const { raw: stored, receivedAt: storedAt, previousStatus } = report;
    const base = decoded(report, { messageId, status, raw: stored, receivedAt: storedAt, previousStatus });
    // A report of an untracked message keeps the shape it had before tracking existed.
    return outcome === 'change' && 'ref' in report
      ? { outcome, report: base, outcomeChange: changeOrNull(change) }
      : { outcome, report: base };
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

  /** {@inheritDoc DlrOutcomeStore.track} */
  track(input: TrackInput, now: number, leaseMs: number): Promise<TrackResult> {
    return this.outcomes.track(input, now, leaseMs);
  }

  /** {@inheritDoc DlrOutcomeStore.outcome} */
  outcome(omnimessageId: string): Promise<StoredOutcome | null> {
    return this.outcomes.outcome(omnimessageId);
  }

  /** {@inheritDoc DlrOutcomeStore.findByRef} */
  findByRef(ref: string, limit: number): Promise<StoredOutcome[]> {
    return this.outcomes.findByRef(ref, limit);
  }

  /** {@inheritDoc DlrOutcomeStore.completeOutcome} */
  completeOutcome(key: OutcomeKey): Promise<void> {
    return this.outcomes.completeOutcome(key);
  }

  /** {@inheritDoc DlrOutcomeStore.releaseOutcome} */
  releaseOutcome(key: OutcomeKey): Promise<void> {
    return this.outcomes.releaseOutcome(key);
  }

  /** {@inheritDoc DlrOutcomeStore.claimPendingOutcomes} */
  claimPendingOutcomes(limit: number, leaseMs: number, endedBefore?: number): Promise<OutcomeChange[]> {
    return this.outcomes.claimPendingOutcomes(limit, leaseMs, endedBefore);
  }

  /** {@inheritDoc DlrOutcomeStore.claimOverdue} */
  claimOverdue(now: number, limit: number, leaseMs: number): Promise<StoredOutcome[]> {
    return this.outcomes.claimOverdue(now, limit, leaseMs);
  }

  /** {@inheritDoc DlrOutcomeStore.markOverdue} */
  markOverdue(omnimessageId: string, now: number, leaseMs: number): Promise<OutcomeChange | null> {
    return this.outcomes.markOverdue(omnimessageId, now, leaseMs);
  }

  /** {@inheritDoc DlrOutcomeStore.countPendingOutcomes} */
  countPendingOutcomes(): Promise<number> {
    return this.outcomes.countPendingOutcomes();
  }

  /** {@inheritDoc DlrDeliveryStatsStore.tallyDelivery} */
  tallyDelivery(tallies: readonly DeliveryTally[]): Promise<readonly (number | null)[]> {
    return this.deliveryStats.tallyDelivery(tallies);
  }

  /** {@inheritDoc DlrDeliveryStatsStore.deliveryBuckets} */
  deliveryBuckets(window: DeliveryWindow, now: number): Promise<readonly DeliveryBucketRow[]> {
    return this.deliveryStats.deliveryBuckets(window, now);
  }

  /**
   * Creates the schema when it is missing, under a transaction-scoped advisory lock, and
   * records its version; a schema of a newer release is refused. Runs by itself before the
   * first call; call it at startup to fail early.
   */
  ensureSchema(): Promise<void> {
    this.schemaReady ??= installSchema(this.pool, this.schema).then(
      () => void (this.schemaInstalled = true),
      (error: unknown) => {
        this.schemaReady = null; // tried again by the next call: the database may be back
        throw error;
      },
    );
    return this.schemaReady;
  }

  /**
   * Deletes the history of messages silent for longer than `retentionDays`, tracked outcomes
   * silent (and due) for as long with their messages, and the delivery analytics' messages as
   * silent and buckets past their window, in batches of `pruneBatchSize` that skip rows intake
   * holds; never a pending change nor a pending outcome change. Resolves with how many messages
   * were deleted. Runs on a timer by itself (`pruneIntervalMs`).
   */
  prune(): Promise<number> {
    return this.retention.run();
  }

  /** Stops retention and ends the pool if the store created it; a pool passed in stays open. */
  async close(): Promise<void> {
    if (this.closed) return this.retention.stop();
    this.closed = true;
    await this.retention.stop();
    await this.pool.close();
  }

  /**
   * Runs one prepared statement on a pooled connection, waiting for the connection and the
   * answer no longer than `timeoutMs` in all; retries a serialization failure or deadlock.
   */
  private async run(statement: Statement, values: unknown[]): Promise<QueryResult> {
    const timeoutMs = this.options.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    if (!this.schemaInstalled) {
      // Intake must not wait on a schema creation that hangs.
      await withDeadline(this.ensureSchema(), timeoutMs, () =>
        unavailable(new Error(`schema not ready within ${timeoutMs} ms`)),
      );
    }
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect(deadline);
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
}

function keyValues(key: PendingKey): [string, string] {
  return [toDbText(key.messageId), toDbText(key.status)];
}

function isRetryable(error: unknown): boolean {
  return isServerError(error) && RETRYABLE.has(String((error as { code?: unknown }).code));
}
