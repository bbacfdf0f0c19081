/** One sent message of a send answer: its id and channel, in fallback order. */
export interface SentMessage {
  readonly messageId: string;
  readonly channel: string;
}

/** A send answer reduced to what tracking needs. */
export interface ParsedSendAnswer {
  readonly omnimessageId: string;
  readonly to: string | null;
  readonly messages: readonly SentMessage[];
}

/** Longest id, channel or ref accepted: far above Messente's UUIDs, low enough for every store's keys. */
const MAX_ID = 255;
/** Messente offers a handful of channels; a longer fallback list is a mistake, not a send. */
const MAX_MESSAGES = 16;

/**
 * Reads what `DeliveryStatusService.track()` is given: Messente's answer to `POST /omnimessage`
 * as the API returns it (`omnimessage_id`, `to`, `messages[].message_id` / `channel`; the
 * official SDK's response object has the same names) or the camelCase form. Throws a
 * `TypeError` naming the first field that is wrong, so that nothing malformed is stored.
 */
export function parseSendAnswer(sent: unknown): ParsedSendAnswer {
  const answer = record(sent, 'sent');
  const omnimessageId = id(answer['omnimessage_id'] ?? answer['omnimessageId'], 'sent.omnimessage_id');
  const to = optionalText(answer['to'], 'sent.to', 64);
  const list = answer['messages'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_MESSAGES)
    throw new TypeError(`sent.messages must be a list of 1 to ${MAX_MESSAGES} sent messages`);
  const seen = new Set<string>();
  const messages = list.map((item: unknown, index) => {
    const message = record(item, `sent.messages[${index}]`);
    const messageId = id(message['message_id'] ?? message['messageId'], `sent.messages[${index}].message_id`);
    if (seen.has(messageId)) throw new TypeError(`sent.messages[${index}].message_id repeats ${messageId}`);
    seen.add(messageId);
    return { messageId, channel: id(message['channel'], `sent.messages[${index}].channel`) };
  });
  return { omnimessageId, to, messages };
}

/** Checks a `ref`: 1–255 characters. */
export function parseRef(ref: unknown): string | null {
  if (ref === undefined || ref === null) return null;
  return id(ref, 'ref');
}

/** Checks an optional recipient given to `track()`. */
export function parseRecipient(to: unknown): string | null {
  return optionalText(to, 'to', 64);
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TypeError(`${field} must be an object`);
  return value as Record<string, unknown>;
}

function id(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '' || [...value].length > MAX_ID)
    throw new TypeError(`${field} must be a string of 1 to ${MAX_ID} characters`);
  return value;
}

function optionalText(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value === '' || value.length > max)
    throw new TypeError(`${field} must be a string of 1 to ${max} characters`);
  return value;
}
