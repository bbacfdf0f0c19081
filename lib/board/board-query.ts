import { BadRequestException } from '@nestjs/common';
import { isDeliveryWindow } from '../analytics/delivery-window.js';
import type { DeliveryWindow } from '../interfaces/delivery-stats.interface.js';
import { BOARD_MAX_QUERY_LENGTH, BOARD_RECENT_DEFAULT, BOARD_RECENT_MAX } from './board.constants.js';

/**
 * The `limit` of `GET {path}/api/recent`: absent means the default; anything but one whole
 * number from 1 to `BOARD_RECENT_MAX` written in plain digits (a repeated parameter, `1e2`,
 * `0x10`, ` 5`) is a 400 naming the parameter, never a silent clamp.
 */
export function parseRecentLimit(value: unknown): number {
  if (value === undefined) return BOARD_RECENT_DEFAULT;
  const limit = typeof value === 'string' && /^[0-9]{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= BOARD_RECENT_MAX)) {
    throw new BadRequestException(`limit must be a whole number from 1 to ${BOARD_RECENT_MAX}`);
  }
  return limit;
}

/**
 * The `q` of `GET {path}/api/search`, as given (ids may hold any character, so nothing is
 * trimmed): one non-empty string of at most `BOARD_MAX_QUERY_LENGTH` characters, else a 400.
 */
export function parseSearchQuery(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new BadRequestException(
      'q is required: a message or omnimessage id, a prefix of 8+ characters, or a phone number',
    );
  }
  if ([...value].length > BOARD_MAX_QUERY_LENGTH) {
    throw new BadRequestException(`q must be at most ${BOARD_MAX_QUERY_LENGTH} characters`);
  }
  return value;
}

/**
 * The `window` of `GET {path}/api/delivery`: `1h` or `24h`, required. Anything else (none, a
 * repeated parameter, `1H`, `60m`) is a 400 naming both, so that a script learns the choice
 * instead of receiving some default window it did not ask for.
 */
export function parseDeliveryWindow(value: unknown): DeliveryWindow {
  if (!isDeliveryWindow(value)) {
    throw new BadRequestException('window is required and must be 1h or 24h');
  }
  return value;
}
