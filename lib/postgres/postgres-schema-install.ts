import type { QueryResultRow } from 'pg';
import { errorMessage } from '../utils/error-message.js';
import { POSTGRES_DLR_SCHEMA_VERSION, postgresDlrSchemaSql, quoteSchema } from './postgres-dlr.schema.js';
import { type PostgresPool, unavailable } from './postgres-pool.js';
import { RECORD_ARGUMENTS } from './postgres-record.sql.js';

/** Creating the schema (waiting for another instance doing it included) may take this long. */
const SCHEMA_TIMEOUT_MS = 30_000;

/**
 * Creates or upgrades `schema` to `POSTGRES_DLR_SCHEMA_VERSION` under a transaction-scoped
 * advisory lock, so that instances starting together do it once: the first creates (or
 * upgrades, by running the idempotent SQL again), the others find it done. A schema of a newer
 * release is refused; one at this version from an earlier build (without the current `record`) is upgraded.
 */
export async function installSchema(pool: PostgresPool, schema: string): Promise<void> {
  const deadline = Date.now() + SCHEMA_TIMEOUT_MS;
  const client = await pool.connect(deadline);
  const s = quoteSchema(schema);
  const query = <R extends QueryResultRow>(text: string, values: unknown[] = []) =>
    client.query<R>({ text, values, query_timeout: Math.max(1, deadline - Date.now()) } as never);
  let failed: unknown;
  try {
    await query('BEGIN');
    // Instances starting together queue here; the first creates, the others find it done.
    await query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`nestjs-messente-dlr:${schema}`]);
    const exists = await query<{ found: boolean }>(
      `SELECT to_regclass('${s}.schema_version') IS NOT NULL AS found`,
    );
    const version = exists.rows[0]!.found
      ? ((await query<{ version: number | null }>(`SELECT max(version) AS version FROM ${s}.schema_version`))
          .rows[0]!.version ?? null)
      : null;
    if (version !== null && version > POSTGRES_DLR_SCHEMA_VERSION) {
      throw new Error(
        `PostgresDlrStore: schema ${schema} is at version ${version}, newer than this release's ` +
          `${POSTGRES_DLR_SCHEMA_VERSION}; upgrade nestjs-messente-dlr`,
      );
    }
    // A schema at this version without the current `record` (an earlier build's) is brought up to date too.
    const current =
      version === POSTGRES_DLR_SCHEMA_VERSION &&
      (
        await query<{ found: boolean }>(`SELECT to_regprocedure($1) IS NOT NULL AS found`, [
          `${s}.record(${RECORD_ARGUMENTS})`,
        ])
      ).rows[0]!.found;
    if (!current) await query(postgresDlrSchemaSql(schema));
    await query('COMMIT');
  } catch (error) {
    failed = error;
    await client.query('ROLLBACK').catch(() => undefined);
    if (!isServerError(error)) throw unavailable(error);
    throw new Error(`PostgresDlrStore: could not create schema ${schema}: ${errorMessage(error)}`, {
      cause: error,
    });
  } finally {
    client.release(isServerError(failed) ? undefined : (failed as Error | undefined));
  }
}

/** True for an error the server answered (it has a severity): the connection is still good. */
export function isServerError(error: unknown): boolean {
  return error instanceof Error && typeof (error as { severity?: unknown }).severity === 'string';
}
