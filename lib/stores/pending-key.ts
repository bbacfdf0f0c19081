import type { PendingKey } from '../interfaces/dlr-store.interface.js';

/**
 * The one string form of a `PendingKey` inside this process (the in-memory store's pending
 * changes, the dispatcher's progress): the message id's length, `:`, the message id, the
 * status. The length says where the id ends, so any two strings round-trip, a NUL or a `:`
 * in either included; a separator alone would split an id that contains it.
 */
export function encodePendingKey(messageId: string, status: string): string {
  return `${messageId.length}:${messageId}${status}`;
}

/** The key `encodePendingKey` made `encoded` of. */
export function decodePendingKey(encoded: string): PendingKey {
  const colon = encoded.indexOf(':');
  const end = colon + 1 + Number(encoded.slice(0, colon));
  return { messageId: encoded.slice(colon + 1, end), status: encoded.slice(end) };
}
