import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DLR_OPTIONS, SIGNATURE_HEADER, LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { refusal } from '../errors/refusal.js';
import { headerValue, type DlrHttpRequest } from './http-request.js';

const SHA256_BYTES = 32;
const SHA256_HEX_LENGTH = 2 * SHA256_BYTES;

/**
 * Checks `X-Messente-Signature`, the hex HMAC-SHA256 of the raw body keyed with an API
 * key's password. Any configured secret may match (an account can have several keys).
 * The IP list only proves Messente sent the request; this proves it concerns our messages.
 */
@Injectable()
export class DlrSignatureGuard implements CanActivate {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private rawBodyMissingLogged = false;

  constructor(@Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions) {}

  canActivate(context: ExecutionContext): boolean {
    const secrets = this.options.secrets;
    if (secrets.length === 0) return true;
    const request = context.switchToHttp().getRequest<DlrHttpRequest>();
    const signature = headerValue(request, SIGNATURE_HEADER)?.trim() ?? '';
    if (signature === '')
      throw refusal('signature_missing', new UnauthorizedException('Missing X-Messente-Signature'));
    // Hex decoding stops at the first pair that is not hex, so 64 characters decode to 32
    // bytes exactly when they are all hex digits.
    const expected = Buffer.from(signature, 'hex');
    if (signature.length !== SHA256_HEX_LENGTH || expected.length !== SHA256_BYTES)
      throw refusal('signature_invalid', new UnauthorizedException('Malformed X-Messente-Signature'));
    const rawBody = request.rawBody;
    if (!Buffer.isBuffer(rawBody)) throw this.rawBodyMissing();
    // Every secret is tried, even after a match, so timing does not tell which one matched.
    let matched = false;
    for (const secret of secrets) {
      const actual = createHmac('sha256', secret).update(rawBody).digest();
      matched = timingSafeEqual(actual, expected) || matched;
    }
    if (!matched)
      throw refusal('signature_invalid', new UnauthorizedException('Invalid X-Messente-Signature'));
    return true;
  }

  private rawBodyMissing(): InternalServerErrorException {
    const message =
      'Cannot verify X-Messente-Signature: the raw request body is not available. ' +
      'Create the app with NestFactory.create(AppModule, { rawBody: true }) ' +
      '(also with a FastifyAdapter). The report was refused.';
    if (!this.rawBodyMissingLogged) {
      this.rawBodyMissingLogged = true;
      this.logger.error(message);
    }
    return refusal('raw_body_missing', new InternalServerErrorException(message));
  }
}
