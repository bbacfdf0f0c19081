import { KNOWN_STATUSES } from '../dlr-status.js';

/** The statuses a message of the in-memory store has had: what makes a report a duplicate. */
export interface SeenStatuses {
  /** Documented statuses recorded for the message, one bit each (see `KNOWN_BITS`). */
  knownSeen: number;
  /** Undocumented statuses recorded, oldest first, at most `maxUnknown`; null until the first. */
  unknownSeen: string[] | null;
}

/** One bit per documented status: deduplicating those costs no allocation and never forgets. */
const KNOWN_BITS: ReadonlyMap<string, number> = new Map(KNOWN_STATUSES.map((status, i) => [status, 1 << i]));

/**
 * Records that the message had `status`; false when it already had. Undocumented statuses are
 * bounded like the history: past `maxUnknown` the oldest is forgotten.
 */
export function markSeen(seen: SeenStatuses, status: string, maxUnknown: number): boolean {
  const bit = KNOWN_BITS.get(status);
  if (bit !== undefined) {
    if (seen.knownSeen & bit) return false;
    seen.knownSeen |= bit;
    return true;
  }
  const unknown = (seen.unknownSeen ??= []);
  if (unknown.includes(status)) return false;
  unknown.push(status);
  if (unknown.length > maxUnknown) unknown.shift();
  return true;
}
