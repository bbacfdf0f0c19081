const OFFSET = /(?:[zZ]|[+-]\d{2}:?\d{2})$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[zZ]|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses Messente's timestamps. They usually carry no offset and mean UTC, while
 * `new Date()` would read an offset-less date-time as local time; so UTC is added
 * explicitly. Returns null for anything that is not an ISO date-time.
 */
export function parseUtcTimestamp(value: unknown): Date | null {
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value)) return null;
  const normalised = value.replace(' ', 'T');
  const date = new Date(OFFSET.test(normalised) ? normalised : `${normalised}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** True when `value` is an ISO date-time that `parseUtcTimestamp` understands. */
export function isIsoDateTime(value: unknown): boolean {
  return parseUtcTimestamp(value) !== null;
}
