import { UsageError } from '../shared/cli-errors.js';

/** One `--set key=value`: a field path (`err`, `price_info.parts_count`) and its value. */
export interface ReportOverride {
  readonly path: readonly string[];
  readonly value: unknown;
}

const KEY = /^[A-Za-z_$][\w$-]*(?:\.[A-Za-z_$][\w$-]*)*$/;

/**
 * Parses `--set key=value`. The value is JSON when it parses as JSON (`err=1`,
 * `error=null`, `price_info={"parts_count":2}`), a string otherwise (`to=+3725555555`).
 */
export function parseOverride(text: string): ReportOverride {
  const equals = text.indexOf('=');
  if (equals <= 0) throw new UsageError(`--set '${text}' must be key=value (e.g. --set err=1)`);
  const key = text.slice(0, equals);
  if (!KEY.test(key)) {
    throw new UsageError(
      `--set '${text}': '${key}' is not a field name (letters, digits, _ and . for nesting)`,
    );
  }
  const raw = text.slice(equals + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Not JSON: the text itself.
  }
  return { path: key.split('.'), value };
}

/**
 * Sets each override on a copy of `report`, creating nested objects as needed. Fields are
 * defined, not assigned, so that a key like `__proto__` becomes a field as in JSON.
 */
export function applyOverrides(
  report: Record<string, unknown>,
  overrides: readonly ReportOverride[],
): Record<string, unknown> {
  const result = structuredClone(report);
  for (const { path, value } of overrides) {
    let target = result;
    for (const key of path.slice(0, -1)) {
      const next = Object.hasOwn(target, key) ? target[key] : undefined;
      if (next === null || typeof next !== 'object' || Array.isArray(next)) define(target, key, {});
      target = target[key] as Record<string, unknown>;
    }
    define(target, path[path.length - 1]!, value);
  }
  return result;
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
