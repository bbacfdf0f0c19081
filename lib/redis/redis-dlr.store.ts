import { Logger } from '@nestjs/common';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import {
  CLAIM,
  COMPLETE,
  FOR_OMNIMESSAGE,
  LIST_PENDING,
  RECORD,
  UNSETTLED,
  type Script,
} from './redis-dlr.scripts.js';
import type {
  DlrStore,
  PendingKey,
  RecordOutcome,
  RecordResult,
  StoredReport,
} from '../interfaces/dlr-store.interface.js';

/** Options of `RedisDlrStore`. Give exactly one of `client` and `url`. */
export interface RedisDlrStoreOptions {
  /**
   * An ioredis client to use. The store never closes it, and its own `keyPrefix`, if any, is
   * honoured. Consider `enableOfflineQueue: false` so that calls fail at once during an outage.
   */
  client?: Redis;
  /**
   * A Redis URL (`redis://…`, `rediss://…`). The store creates a client that fails fast while
   * Redis is down, reconnects by itself, and is closed by `close()`.
   */
  url?: string;
  /** Prefix of every key the store writes. Default `'messente-dlr:'`. */
  keyPrefix?: string;
  /** Lifetime, in seconds, of every key written for a message, renewed on each new report. Default 30 days. */
  ttlSeconds?: number;
  /** Reports kept per message in `history()`. Default 32. */
  maxHistory?: number;
  /**
   * Every call rejects after this many ms, so that a hung or unreachable Redis fails fast.
   * Default 2500: longer than the webhook's own 1.5 s deadline, so that a report Redis records
   * just after the 503 went out is still seen, and dispatched, by the app.
   */
  commandTimeoutMs?: number;
}

/**
 * A `DlrStore` on Redis (ioredis 5), shared safely by any number of app instances and kept
 * across restarts. Every decision is one Lua script, so it is atomic and one round trip; the
 * semantics are those of `InMemoryDlrStore` (one contract suite runs against both).
 *
 * Every call rejects within `commandTimeoutMs` with an error saying Redis is unavailable, so
 * that the webhook can answer 503 and Messente retries later.
 */
export class RedisDlrStore implements DlrStore {
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly scriptKeyPrefix: string;
  private readonly ttlSeconds: number;
  private readonly maxHistory: number;
  private readonly commandTimeoutMs: number;
  private lastConnectionError: string | null = null;
  private connecting: Promise<unknown> | null = null;

  constructor(options: RedisDlrStoreOptions) {
    if (!options.client === !options.url) {
      throw new Error('RedisDlrStore: give exactly one of the options `client` and `url`');
    }
    this.prefix = options.keyPrefix ?? 'messente-dlr:';
    this.ttlSeconds = positiveInteger('ttlSeconds', options.ttlSeconds ?? 30 * 24 * 60 * 60);
    this.maxHistory = positiveInteger('maxHistory', options.maxHistory ?? 32);
    this.commandTimeoutMs = positiveInteger('commandTimeoutMs', options.commandTimeoutMs ?? 2500);
    this.ownsClient = !options.client;
    this.client = options.client ?? this.createClient(options.url!);
    if (options.client && options.client.options.enableOfflineQueue !== false) {
      // Calls still fail within commandTimeoutMs, but the queued ones would run later.
      new Logger('MessenteDlr').warn(
        'RedisDlrStore: the given ioredis client queues commands while Redis is down ' +
          '(enableOfflineQueue); create it with { enableOfflineQueue: false }.',
      );
    }
    // ioredis prefixes declared KEYS only, not the keys a script builds itself.
    this.scriptKeyPrefix = `${this.client.options.keyPrefix ?? ''}${this.prefix}msg:`;
  }

  /** {@inheritDoc DlrStore.record} */
  async record(
    raw: Readonly<Record<string, unknown>>,
    receivedAt: number,
    leaseMs: number,
  ): Promise<RecordResult> {
    if (!Number.isFinite(receivedAt) || !Number.isFinite(leaseMs)) {
      throw new TypeError(`RedisDlrStore: receivedAt and leaseMs must be finite numbers`);
    }
    const messageId = String(raw['message_id']);
    const status = String(raw['status']);
    const omnimessageId = typeof raw['omnimessage_id'] === 'string' ? raw['omnimessage_id'] : null;
    const keys = [
      this.key('msg', messageId),
      this.key('hist', messageId),
      this.key('omni', omnimessageId ?? ''),
      ...this.pendingKeys(),
      this.key('unsettled'),
    ];
    const args = [
      JSON.stringify(raw),
      messageId,
      status,
      pendingMember({ messageId, status }),
      String(receivedAt),
      String(receivedAt + leaseMs),
      omnimessageId === null ? '0' : '1',
      String(this.maxHistory),
      String(this.ttlSeconds),
    ];
    const [outcome, report] = (await this.run(RECORD, keys, args)) as [RecordOutcome, string?];
    return { outcome, report: report === undefined ? null : parseReport(report) };
  }

  /** {@inheritDoc DlrStore.complete} */
  async complete(key: PendingKey): Promise<void> {
    await this.run(COMPLETE, this.pendingKeys(), [pendingMember(key)]);
  }

  /** {@inheritDoc DlrStore.release} */
  async release(key: PendingKey): Promise<void> {
    // XX: releasing a report that was completed meanwhile must not resurrect it.
    await this.call(() => this.client.zadd(this.pendingKeys()[0], 'XX', Date.now(), pendingMember(key)));
  }

  /** {@inheritDoc DlrStore.claimPending} */
  async claimPending(limit: number, leaseMs: number, endedBefore = Date.now() + 1): Promise<StoredReport[]> {
    if (limit < 1) return [];
    const now = Date.now();
    const args = [String(endedBefore), String(now + leaseMs), String(Math.floor(limit))];
    return parseReports(await this.run(CLAIM, this.pendingKeys(), args));
  }

  /** {@inheritDoc DlrStore.latest} */
  async latest(messageId: string): Promise<StoredReport | null> {
    const report = await this.call(() => this.client.hget(this.key('msg', messageId), 'latest'));
    return report === null ? null : parseReport(report);
  }

  /** {@inheritDoc DlrStore.history} */
  async history(messageId: string): Promise<StoredReport[]> {
    return parseReports(await this.call(() => this.client.lrange(this.key('hist', messageId), 0, -1)));
  }

  /** {@inheritDoc DlrStore.forOmnimessage} */
  async forOmnimessage(omnimessageId: string): Promise<StoredReport[]> {
    const keys = [this.key('omni', omnimessageId)];
    return parseReports(await this.run(FOR_OMNIMESSAGE, keys, [this.scriptKeyPrefix]));
  }

  /** {@inheritDoc DlrStore.unsettled} */
  async unsettled(before: number, limit: number): Promise<StoredReport[]> {
    if (limit < 1) return [];
    const args = [this.scriptKeyPrefix, String(before), String(Math.floor(limit))];
    return parseReports(await this.run(UNSETTLED, [this.key('unsettled')], args));
  }

  /** {@inheritDoc DlrStore.ping} */
  async ping(): Promise<void> {
    await this.call(() => this.client.ping());
  }

  /** {@inheritDoc DlrStore.countPending} */
  async countPending(): Promise<number> {
    return this.call(() => this.client.hlen(this.pendingKeys()[1]));
  }

  /** {@inheritDoc DlrStore.listPending} */
  async listPending(limit: number): Promise<StoredReport[]> {
    if (limit < 1) return [];
    return parseReports(await this.run(LIST_PENDING, this.pendingKeys(), [String(Math.floor(limit))]));
  }

  /** Closes the client if the store created it from `url`; a client passed in stays open. */
  /** {@inheritDoc DlrStore.close} */
  async close(): Promise<void> {
    if (!this.ownsClient || this.client.status === 'end') return;
    try {
      await this.call(() => this.client.quit());
    } catch {
      this.client.disconnect();
    }
  }

  private createClient(url: string): Redis {
    const client = new Redis(url, {
      // Queued commands would hold a webhook request until Redis returns; failing lets it answer 503.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: this.commandTimeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    });
    // Without a listener ioredis logs every failed reconnect; the reason goes into call errors instead.
    client.on('error', (error: Error) => (this.lastConnectionError = error.message));
    client.on('ready', () => (this.lastConnectionError = null));
    return client;
  }

  private key(kind: 'msg' | 'hist' | 'omni' | 'unsettled', id?: string): string {
    return id === undefined ? `${this.prefix}${kind}` : `${this.prefix}${kind}:${id}`;
  }

  /** Leases (sorted set scored by lease end, ms) and reports (hash) of pending changes. */
  private pendingKeys(): [string, string] {
    return [`${this.prefix}pending`, `${this.prefix}pending-reports`];
  }

  private run(script: Script, keys: string[], args: string[]): Promise<unknown> {
    return this.call(async () => {
      try {
        return await this.client.evalsha(script.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return this.client.eval(script.lua, keys.length, ...keys, ...args);
      }
    });
  }

  /** Runs one Redis operation, bounded by `commandTimeoutMs`, with errors that name the cause. */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.commandTimeoutMs} ms`)),
        this.commandTimeoutMs,
      );
    });
    try {
      return await Promise.race([this.whenConnected().then(operation), timeout]);
    } catch (error) {
      const reason = this.lastConnectionError ?? (error instanceof Error ? error.message : String(error));
      throw new Error(`RedisDlrStore: Redis is unavailable (${reason})`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  // A client that is still connecting would refuse commands without an offline queue: wait for
  // it, but not for one that is reconnecting, since during an outage calls must fail at once.
  // Callers share one wait, so that a burst of calls adds one listener, not one each.
  private async whenConnected(): Promise<void> {
    const { status } = this.client;
    if (status === 'wait') {
      this.connecting ??= this.client.connect();
    } else if (status === 'connecting' || status === 'connect') {
      this.connecting ??= once(this.client, 'ready');
    } else {
      return;
    }
    const connecting = this.connecting;
    try {
      await connecting;
    } finally {
      if (this.connecting === connecting) this.connecting = null;
    }
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`RedisDlrStore: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** Injective, unlike a separator that could occur in a message id. */
function pendingMember(key: PendingKey): string {
  return JSON.stringify([key.messageId, key.status]);
}

function parseReport(json: string): StoredReport {
  return JSON.parse(json) as StoredReport;
}

function parseReports(reply: unknown): StoredReport[] {
  return (reply as string[]).map(parseReport);
}
