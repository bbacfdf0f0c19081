import { isInt, isObject, isString, maxLength } from 'class-validator';
import { isIsoDateTime } from '../utils/parse-utc-timestamp.js';

const STATUS = /^[A-Z_]{1,32}$/;

const ID_MAX_LENGTH = 255;

const absent = (value: unknown) => value === null || value === undefined;
// class-validator counts a surrogate pair or a variation selector as one character, so a
// string of at most 255 UTF-16 units is within the limit: only a longer one needs its count.
const shortEnough = (value: string) => value.length <= ID_MAX_LENGTH || maxLength(value, ID_MAX_LENGTH);
const optionalString = (value: unknown) => absent(value) || isString(value);
const optionalId = (value: unknown) => absent(value) || (isString(value) && shortEnough(value));
const optionalInt = (value: unknown) => absent(value) || isInt(value);

function validPriceInfo(value: unknown): boolean {
  if (absent(value)) return true;
  if (!isObject(value)) return false;
  const info = value as Record<string, unknown>;
  return (
    optionalString(info['part_price']) &&
    optionalInt(info['parts_count']) &&
    optionalString(info['total_price'])
  );
}

/**
 * The rules of `DlrCallbackDto`, applied with class-validator's own checks but without
 * transforming the body into an instance or walking the decorator metadata: on the hot path
 * this is an order of magnitude cheaper. It only ever answers "valid or not": the pipe asks
 * class-validator itself for the messages of an invalid body. A property test holds it equal
 * to class-validator on the DTO for generated bodies.
 */
export function isValidDlrCallback(body: Readonly<Record<string, unknown>>): boolean {
  const messageId = body['message_id'];
  const status = body['status'];
  return (
    isString(messageId) &&
    messageId !== '' &&
    shortEnough(messageId) &&
    isString(status) &&
    STATUS.test(status) &&
    optionalId(body['omnimessage_id']) &&
    optionalString(body['channel']) &&
    optionalString(body['to']) &&
    optionalString(body['sender']) &&
    optionalInt(body['err']) &&
    optionalString(body['error']) &&
    (absent(body['timestamp']) || isIsoDateTime(body['timestamp'])) &&
    validPriceInfo(body['price_info'])
  );
}
