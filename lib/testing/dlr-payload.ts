import { randomUUID } from 'node:crypto';

/**
 * A valid Messente delivery-report callback body with fresh `message_id` and `omnimessage_id`,
 * status `DELIVRD` and the current time as Messente writes it (UTC, no offset, microseconds).
 * `overrides` are merged on top; an override set to `undefined` removes the field.
 */
export function dlrPayload(overrides: Partial<Record<string, unknown>> = {}): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    message_id: randomUUID(),
    omnimessage_id: randomUUID(),
    status: 'DELIVRD',
    channel: 'sms',
    to: '+3725555555',
    sender: 'MySender',
    err: 0,
    error: null,
    timestamp: messenteTimestamp(new Date()),
    price_info: { part_price: '0.1', parts_count: 1, total_price: '0.1' },
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete payload[key];
    // defineProperty, so an override named `__proto__` becomes a field as it would from JSON.parse.
    else
      Object.defineProperty(payload, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return payload;
}

/** `2020-02-04T08:09:42.389630`: Messente's offset-less UTC form. */
function messenteTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, -1)}000`;
}
