import { parsePhoneNumberFromString, type MetadataJson } from 'libphonenumber-js/core';
import { createRequire } from 'node:module';

// The smallest metadata, loaded as JSON through require: the `min` entry imports it without an
// import attribute, which newer runtimes (and jest's ESM mode) refuse.
const METADATA = createRequire(import.meta.url)('libphonenumber-js/metadata.min.json') as MetadataJson;

/**
 * The ISO 3166-1 alpha-2 country of a recipient's E.164 number (`EE` for `+372…`), `_OTHER`
 * when it is missing or no country's numbering plan holds it. Uses libphonenumber-js's
 * smallest metadata: the country is all analytics need, and the number itself never leaves
 * the process as an attribute.
 */
export function countryOf(to: unknown): string {
  if (typeof to !== 'string' || to.length === 0 || to.length > 32) return '_OTHER';
  const normalized = to.startsWith('+') ? to : `+${to}`;
  try {
    return parsePhoneNumberFromString(normalized, METADATA)?.country ?? '_OTHER';
  } catch {
    // libphonenumber-js throws on some malformed input; a bad number is just not a country.
    return '_OTHER';
  }
}
