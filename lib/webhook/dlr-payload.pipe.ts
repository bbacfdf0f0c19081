import { BadRequestException, Injectable, Logger, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { isKnownStatus } from '../dlr-status.js';
import { DlrCallbackDto } from './dlr-callback.dto.js';
import { refusal } from '../errors/refusal.js';
import { deepFreeze } from '../utils/deep-freeze.js';
import { MAX_DLR_BODY_DEPTH, nestsDeeperThan } from '../utils/nesting-depth.js';
import { isValidDlrCallback } from '../payload/is-valid-dlr-callback.js';
import type { DlrPayload } from '../payload/dlr-payload.js';
import { LOGGER_CONTEXT } from '../messente-dlr.constants.js';

/** class-validator's verdict on a body: the DTO's rules, synchronously (it has no async ones). */
export function validateDlrCallback(body: object): ValidationError[] {
  return validateSync(plainToInstance(DlrCallbackDto, body, { excludeExtraneousValues: true }), {
    forbidUnknownValues: false,
  });
}

/**
 * Refuses a body that is not a JSON object or nests deeper than `MAX_DLR_BODY_DEPTH`, then
 * validates it against `DlrCallbackDto` and hands on the body itself (not
 * the DTO instance), so that unknown fields survive into `raw`. Valid bodies, the common
 * case, pass a fast check equal to the DTO's rules; class-validator runs to explain a refusal.
 */
@Injectable()
export class DlrPayloadPipe implements PipeTransform<unknown, DlrPayload> {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  transform(body: unknown): DlrPayload {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw refusal('invalid_body', new BadRequestException(['body must be a JSON object']));
    }
    // Before anything walks it: no recorded report may be too deep for a store to serialise.
    if (nestsDeeperThan(body, MAX_DLR_BODY_DEPTH)) {
      throw refusal(
        'invalid_body',
        new BadRequestException([`body must not nest deeper than ${MAX_DLR_BODY_DEPTH} levels`]),
      );
    }
    const payload = body as Record<string, unknown>;
    if (!isValidDlrCallback(payload)) {
      const errors = validateDlrCallback(payload);
      // The fast check and class-validator agree (a property test holds them equal);
      // should they ever differ, class-validator, the documented contract, decides.
      if (errors.length > 0) throw refusal('invalid_body', new BadRequestException(flatten(errors)));
    }
    const status = payload['status'] as string;
    if (!isKnownStatus(status)) {
      this.logger.warn(`Delivery report with a status Messente has not documented: ${status}`);
    }
    return deepFreeze(payload);
  }
}

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      parent ? `${parent}.${message}` : message,
    );
    return [...own, ...flatten(error.children ?? [], path)];
  });
}
