import {
  CanActivate,
  ExecutionContext,
  Injectable,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { MAX_DLR_BODY_BYTES } from '../messente-dlr.constants.js';
import { refusal } from '../errors/refusal.js';
import { headerValue, type DlrHttpRequest } from './http-request.js';

// Only what Nest's JSON parsers on both adapters parse (and so keep the raw body of).
const JSON_TYPE = /^application\/json\s*(?:;|$)/i;

/**
 * Refuses what cannot be a delivery report before any work is spent on it: a body that
 * is not JSON (415) or is larger than 64 KiB (413).
 */
@Injectable()
export class DlrBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<DlrHttpRequest>();
    if (!JSON_TYPE.test(headerValue(request, 'content-type') ?? '')) {
      throw refusal(
        'unsupported_media_type',
        new UnsupportedMediaTypeException('Delivery reports must be sent as application/json'),
      );
    }
    const size = request.rawBody?.length ?? Number(headerValue(request, 'content-length') ?? 0);
    if (size > MAX_DLR_BODY_BYTES) {
      throw refusal(
        'payload_too_large',
        new PayloadTooLargeException(`Delivery reports are at most ${MAX_DLR_BODY_BYTES} bytes`),
      );
    }
    return true;
  }
}
