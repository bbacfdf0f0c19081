/**
 * The `nestjs-messente-dlr/postgres` entry point: kept apart from the main entry so that only
 * applications using PostgreSQL need `pg` installed.
 */
export { PostgresDlrStore } from './postgres-dlr.store.js';
export type { PostgresDlrStoreOptions } from './postgres-dlr.store.js';
export { POSTGRES_DLR_SCHEMA_VERSION, postgresDlrSchemaSql } from './postgres-dlr.schema.js';
