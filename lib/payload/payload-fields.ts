import type { PriceInfo } from '../interfaces/price-info.interface.js';

/** A string field, or null when it is absent or not a string. */
export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** An integer field, or null when it is absent or not an integer. */
export function integerOrNull(value: unknown): number | null {
  return Number.isInteger(value) ? (value as number) : null;
}

/** Maps Messente's snake_case `price_info` to camelCase, or null when absent. */
export function toPriceInfo(value: unknown): PriceInfo | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const info = value as Record<string, unknown>;
  return Object.freeze({
    partPrice: stringOrNull(info['part_price']),
    partsCount: integerOrNull(info['parts_count']),
    totalPrice: stringOrNull(info['total_price']),
  });
}
