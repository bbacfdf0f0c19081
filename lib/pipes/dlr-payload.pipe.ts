import { BadRequestException, Injectable, Logger, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { isKnownStatus } from '../dlr-status.js';
import { DlrCallbackDto } from '../dto/dlr-callback.dto.js';
import { deepFreeze } from '../utils/deep-freeze.js';

/** A callback body that passed validation: the JSON object exactly as received, frozen. */
export type DlrPayload = Readonly<Record<string, unknown>>;

/**
 * Validates a callback body against `DlrCallbackDto` and hands on the body itself (not
 * the DTO instance), so that unknown fields survive into `raw`. Validation is synchronous:
 * the DTO has no async rules, and skipping the promise machinery matters on the hot path.
 */
@Injectable()
export class DlrPayloadPipe implements PipeTransform<unknown, DlrPayload> {
  private readonly logger = new Logger('MessenteDlr');

  transform(body: unknown): DlrPayload {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new BadRequestException(['body must be a JSON object']);
    }
    const errors = validateSync(plainToInstance(DlrCallbackDto, body, { excludeExtraneousValues: true }), {
      forbidUnknownValues: false,
    });
    if (errors.length > 0) throw new BadRequestException(flatten(errors));
    const payload = body as Record<string, unknown>;
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
