import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';

/** The `@opentelemetry/api` module, as this package uses it. */
export type OtelApiModule = typeof OtelApi;

let loaded: OtelApiModule | null | undefined;

/**
 * `@opentelemetry/api` when it is installed, else null. It is an optional peer, so it is
 * required lazily rather than imported: the main entry must load without it. A synchronous
 * `require` keeps the module free of top-level await (CommonJS apps load it with
 * `require(esm)`); the API keeps its providers on `globalThis`, so this copy sees the SDK an
 * app registered through its own import of the API.
 */
export function loadOtelApi(): OtelApiModule | null {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as OtelApiModule;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
