// The default import works with every pg 8 release; named ESM exports came later.
import pg, { type Pool, type PoolClient } from 'pg';
import { storeUnavailable } from '../stores/store-unavailable.js';
import { errorMessage } from '../utils/error-message.js';
import { withDeadline } from '../utils/with-deadline.js';
import type { PostgresDlrStoreOptions } from './postgres-dlr.options.js';

/**
 * The pool of a `PostgresDlrStore` through its life: created from `connectionString` (failing
 * fast, reconnecting by itself) or given, kept from crashing the app on a lost connection,
 * lending connections by a deadline, and ended when the store created it.
 */
export class PostgresPool {
  /** The pool every statement runs on. */
  readonly pool: Pool;
  private readonly owned: boolean;
  private readonly quietErrors = (error: Error) => (this.lastError = error.message);
  private lastError: string | null = null;

  constructor(
    options: Pick<PostgresDlrStoreOptions, 'pool' | 'connectionString'>,
    private readonly timeoutMs: number,
  ) {
    this.owned = !options.pool;
    this.pool = options.pool ?? this.create(options.connectionString!);
    if (this.pool.listenerCount('error') === 0) this.pool.on('error', this.quietErrors);
  }

  /** A pooled connection by `deadline` (ms), or a rejection; one that comes later goes straight back. */
  async connect(deadline: number): Promise<PoolClient> {
    const connecting = this.pool.connect();
    let client: PoolClient;
    try {
      client = await withDeadline(connecting, Math.max(1, deadline - Date.now()), () =>
        unavailable(new Error(`no connection within ${this.timeoutMs} ms`)),
      );
    } catch (error) {
      // Late: nobody waits for it any more.
      connecting.then((late) => late.release(), ignore);
      throw unavailable(error, this.lastError);
    }
    // A connection lost while checked out also emits 'error' on the client, which would
    // crash the process unheard; the query in flight fails with it anyway.
    if (client.listenerCount('error') === 0) client.on('error', ignore);
    return client;
  }

  /** Ends the pool if it was created here; a pool passed in stays open (without our listener). */
  async close(): Promise<void> {
    this.pool.off('error', this.quietErrors);
    if (this.owned) await this.pool.end();
  }

  private create(connectionString: string): Pool {
    return new pg.Pool({
      connectionString,
      application_name: 'nestjs-messente-dlr',
      // A hung server or a lost connection must fail fast, so that intake answers 503.
      connectionTimeoutMillis: this.timeoutMs,
      statement_timeout: this.timeoutMs,
      query_timeout: this.timeoutMs,
      keepAlive: true,
    });
  }
}

function ignore(): void {}

/**
 * `PostgresDlrStore: PostgreSQL is unavailable (…)`, naming `reason` when there is one (the
 * pool's last error says more than a timeout); an error the store already worded passes as is.
 */
export function unavailable(error: unknown, reason: string | null = null): Error {
  if (error instanceof Error && error.message.startsWith('PostgresDlrStore')) return error;
  return storeUnavailable('PostgresDlrStore', 'PostgreSQL', error, reason ?? errorMessage(error));
}
