/**
 * The `nestjs-messente-dlr/redis` entry point: kept apart from the main entry so that only
 * applications using Redis need ioredis installed.
 */
export { RedisDlrStore } from './redis-dlr.store.js';
export type { RedisDlrStoreOptions } from './redis-dlr.store.js';
