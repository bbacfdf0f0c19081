import type { QueryResult } from 'pg';
import type {
  DlrOutcomeStore,
  OutcomeChange,
  OutcomeKey,
  StoredOutcome,
  StoredOutcomeMessage,
  TrackInput,
  TrackResult,
} from '../interfaces/outcome-store.interface.js';
import { boundedLimit } from '../stores/store-queries.js';
import type { Statement } from './postgres-dlr.queries.js';
import { type OutcomeStatements, outcomeStatements } from './postgres-outcome.queries.js';
import { fromDbText, toDbText } from './postgres-text.js';

/** Most outcomes `findByRef()` answers. */
const MAX_BY_REF = 500;

/** Runs one prepared statement within the store's deadline (`PostgresDlrStore`'s `run`). */
export type RunStatement = (statement: Statement, values: unknown[]) => Promise<QueryResult>;

/**
 * The tracking methods (`DlrOutcomeStore`) of `PostgresDlrStore`, each one statement (one round
 * trip) on the functions and tables of `postgres-outcome.sql.ts`. The store delegates to it;
 * the decision a report causes is taken by its own `record` call, not here.
 */
export class PostgresOutcomes implements DlrOutcomeStore {
  /** The statements, public so that the store's retention runs `prune` with its own. */
  readonly sql: OutcomeStatements;

  constructor(
    schema: string,
    private readonly run: RunStatement,
  ) {
    this.sql = outcomeStatements(schema);
  }

  /** {@inheritDoc DlrOutcomeStore.track} */
  async track(input: TrackInput, now: number, leaseMs: number): Promise<TrackResult> {
    if (![now, leaseMs, input.deadline].every(Number.isFinite)) {
      throw new TypeError('PostgresDlrStore: now, leaseMs and deadline must be finite numbers');
    }
    const at = Math.round(now);
    const values = [
      toDbText(input.omnimessageId),
      dbTextOrNull(input.ref),
      dbTextOrNull(input.to),
      dbTextOrNull(input.account),
      Math.round(input.deadline),
      at,
      at + Math.round(leaseMs),
      input.messages.map((message) => toDbText(message.messageId)),
      input.messages.map((message) => toDbText(message.channel)),
    ];
    const [row] = (await this.run(this.sql.track, values)).rows as {
      status: TrackResult['status'];
      outcome: StoredOutcome;
      change: OutcomeChange | null;
    }[];
    return { status: row!.status, outcome: outcomeOf(row!.outcome), change: changeOrNull(row!.change) };
  }

  /** {@inheritDoc DlrOutcomeStore.outcome} */
  async outcome(omnimessageId: string): Promise<StoredOutcome | null> {
    const [row] = (await this.run(this.sql.outcome, [toDbText(omnimessageId)])).rows as {
      outcome: StoredOutcome | null;
    }[];
    return row!.outcome === null ? null : outcomeOf(row!.outcome);
  }

  /** {@inheritDoc DlrOutcomeStore.findByRef} */
  async findByRef(ref: string, limit: number): Promise<StoredOutcome[]> {
    const count = boundedLimit(limit, MAX_BY_REF);
    if (count === 0) return [];
    return outcomes(await this.run(this.sql.findByRef, [toDbText(ref), count]));
  }

  /** {@inheritDoc DlrOutcomeStore.completeOutcome} */
  async completeOutcome(key: OutcomeKey): Promise<void> {
    await this.run(this.sql.complete, [toDbText(key.omnimessageId), key.result]);
  }

  /** {@inheritDoc DlrOutcomeStore.releaseOutcome} */
  async releaseOutcome(key: OutcomeKey): Promise<void> {
    await this.run(this.sql.release, [toDbText(key.omnimessageId), key.result, Date.now()]);
  }

  /** {@inheritDoc DlrOutcomeStore.claimPendingOutcomes} */
  async claimPendingOutcomes(
    limit: number,
    leaseMs: number,
    endedBefore = Date.now() + 1,
  ): Promise<OutcomeChange[]> {
    if (!(limit >= 1)) return [];
    const values = [Math.round(endedBefore), Date.now() + Math.round(leaseMs), Math.floor(limit)];
    const { rows } = await this.run(this.sql.claimPending, values);
    return (rows as { change: OutcomeChange }[]).map((row) => changeOf(row.change));
  }

  /** {@inheritDoc DlrOutcomeStore.claimOverdue} */
  async claimOverdue(now: number, limit: number, leaseMs: number): Promise<StoredOutcome[]> {
    if (!(limit >= 1)) return [];
    const at = Math.round(now);
    return outcomes(await this.run(this.sql.claimOverdue, [at, Math.floor(limit), at + Math.round(leaseMs)]));
  }

  /** {@inheritDoc DlrOutcomeStore.markOverdue} */
  async markOverdue(omnimessageId: string, now: number, leaseMs: number): Promise<OutcomeChange | null> {
    const at = Math.round(now);
    const values = [toDbText(omnimessageId), at, at + Math.round(leaseMs)];
    const [row] = (await this.run(this.sql.markOverdue, values)).rows as { change: OutcomeChange | null }[];
    return changeOrNull(row!.change);
  }

  /** {@inheritDoc DlrOutcomeStore.countPendingOutcomes} */
  async countPendingOutcomes(): Promise<number> {
    const [row] = (await this.run(this.sql.countPending, [])).rows as { count: number }[];
    return row!.count;
  }
}

function dbTextOrNull(value: string | null): string | null {
  return value === null ? null : toDbText(value);
}

function textOrNull(value: string | null): string | null {
  return value === null ? null : fromDbText(value);
}

/** The `StoredOutcome` of the JSON `outcome_json` built: its strings decoded, in the interface's field order. */
export function outcomeOf(json: StoredOutcome): StoredOutcome {
  return {
    omnimessageId: fromDbText(json.omnimessageId),
    ref: textOrNull(json.ref),
    to: textOrNull(json.to),
    account: textOrNull(json.account),
    result: json.result,
    deliveredVia: textOrNull(json.deliveredVia),
    settledAt: json.settledAt,
    deadline: json.deadline,
    trackedAt: json.trackedAt,
    messages: json.messages.map((message): StoredOutcomeMessage => ({
      messageId: fromDbText(message.messageId),
      channel: fromDbText(message.channel),
      status: textOrNull(message.status),
      err: message.err,
      at: message.at,
    })),
  };
}

/** The `OutcomeChange` of the JSON the schema's functions keep and return. */
export function changeOf(json: OutcomeChange): OutcomeChange {
  return { outcome: outcomeOf(json.outcome), previousResult: json.previousResult };
}

/** `changeOf`, or null for SQL NULL. */
export function changeOrNull(json: OutcomeChange | null | undefined): OutcomeChange | null {
  return json == null ? null : changeOf(json);
}

function outcomes(result: QueryResult): StoredOutcome[] {
  return (result.rows as { outcome: StoredOutcome }[]).map((row) => outcomeOf(row.outcome));
}
