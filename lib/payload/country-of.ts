import { parsePhoneNumberFromString, type MetadataJson } from 'libphonenumber-js/core';
import { createRequire } from 'node:module';

// The smallest metadata, loaded as JSON through require: the `min` entry imports it without an
// import attribute, which newer runtimes (and jest's ESM mode) refuse.
const METADATA = createRequire(import.meta.url)('libphonenumber-js/metadata.min.json') as MetadataJson;
const CALLING_CODES: Readonly<Record<string, readonly string[]>> = METADATA.country_calling_codes;
const E164_DIGITS = /^\+\d+$/;

/**
 * The country of a plain `+digits` number whose calling code belongs to one country alone
 * (194 of 206 codes), without a full parse: what the parse answers for it, at a fraction of
 * its cost (a property test holds the two equal). Undefined when only the parse can tell
 * (`+1`, `+7`, `+44`, … are shared; other text).
 */
function byCallingCode(number: string): string | undefined {
  if (!E164_DIGITS.test(number)) return undefined;
  for (let length = 1; length <= 3; length++) {
    const countries = CALLING_CODES[number.slice(1, 1 + length)];
    if (!countries) continue;
    const national = number.length - 1 - length;
    // Calling codes are prefix-free: the first that matches is the number's.
    return countries.length === 1 && national >= 2 && national <= 17 ? countries[0] : undefined;
  }
  return '_OTHER';
}

/**
 * The ISO 3166-1 alpha-2 country of a recipient's E.164 number (`EE` for `+372…`), `_OTHER`
 * when it is missing or no country's numbering plan holds it. Uses libphonenumber-js's
 * smallest metadata: the country is all analytics need, and the number itself never leaves
 * the process as an attribute.
 */
export function countryOf(to: unknown): string {
  if (typeof to !== 'string' || to.length === 0 || to.length > 32) return '_OTHER';
  const normalized = to.startsWith('+') ? to : `+${to}`;
  return byCallingCode(normalized) ?? parsedCountryOf(normalized);
}

/** The country by a full parse of the number: what `countryOf` falls back to. @internal */
export function parsedCountryOf(number: string): string {
  try {
    return parsePhoneNumberFromString(number, METADATA)?.country ?? '_OTHER';
  } catch {
    // libphonenumber-js throws on some malformed input; a bad number is just not a country.
    return '_OTHER';
  }
}
