import { MessenteDlrConfigError } from '../errors/messente-dlr-config.error.js';
import type { AlarmOptions } from '../interfaces/messente-dlr-options.interface.js';
import type { ResolvedAlarmOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { optionValidators } from '../utils/option-validators.js';

const fail = (option: string, problem: string): never => {
  throw new MessenteDlrConfigError(option, problem);
};
const { positiveInteger } = optionValidators(fail);

/** Bounds of `alarms.windowMs`: the window is counted by the second, and kept in memory. */
export const MIN_ALARM_WINDOW_MS = 1_000;
export const MAX_ALARM_WINDOW_MS = 3_600_000;
/** The longest `alarms.silentForMs`: what a timer can wait (about 24.8 days). */
const MAX_SILENT_FOR_MS = 2 ** 31 - 1;

const KNOWN = new Set(['refusalRatio', 'minRequests', 'windowMs', 'silentForMs']);

/**
 * Validates module option `alarms` and fills in its defaults: `refusalRatio` 0.5,
 * `minRequests` 10, `windowMs` 300 000, `silence` off. A misspelt field fails rather than
 * leaving an alarm silently at its default.
 */
export function resolveAlarms(alarms: AlarmOptions | undefined): ResolvedAlarmOptions {
  if (alarms === undefined)
    return { refusalRatio: 0.5, minRequests: 10, windowMs: 300_000, silentForMs: null };
  if (alarms === null || typeof alarms !== 'object' || Array.isArray(alarms)) {
    const got = alarms === null ? 'null' : Array.isArray(alarms) ? 'an array' : typeof alarms;
    return fail('alarms', `must be an object, got ${got}`);
  }
  const unknown = Object.keys(alarms).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) {
    fail(`alarms.${unknown[0]}`, `is not an option of alarms (${[...KNOWN].join(', ')})`);
  }
  const refusalRatio = alarms.refusalRatio ?? 0.5;
  if (typeof refusalRatio !== 'number' || !(refusalRatio >= 0 && refusalRatio < 1)) {
    fail(
      'alarms.refusalRatio',
      `must be a number from 0 up to, not including, 1, got ${String(refusalRatio)}`,
    );
  }
  const windowMs = positiveInteger('alarms.windowMs', alarms.windowMs ?? 300_000);
  if (windowMs < MIN_ALARM_WINDOW_MS || windowMs > MAX_ALARM_WINDOW_MS) {
    fail(
      'alarms.windowMs',
      `must be from ${MIN_ALARM_WINDOW_MS} to ${MAX_ALARM_WINDOW_MS} ms, got ${windowMs}`,
    );
  }
  const silentForMs =
    alarms.silentForMs === undefined ? null : positiveInteger('alarms.silentForMs', alarms.silentForMs);
  if (silentForMs !== null && silentForMs > MAX_SILENT_FOR_MS) {
    fail('alarms.silentForMs', `must be at most ${MAX_SILENT_FOR_MS} ms, got ${silentForMs}`);
  }
  return {
    refusalRatio,
    minRequests: positiveInteger('alarms.minRequests', alarms.minRequests ?? 10),
    windowMs,
    silentForMs,
  };
}
