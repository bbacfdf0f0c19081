import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DLR_OPTIONS, SIGNATURE_HEADER, LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import type { ResolvedAccount, ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { refusal } from '../errors/refusal.js';
import { DlrAccountsService } from '../accounts/dlr-accounts.service.js';
import { isAccountId } from '../accounts/account-id.js';
import { DeliveryReportStats } from '../telemetry/delivery-report-stats.service.js';
import { errorMessage } from '../utils/error-message.js';
import { headerValue, setReportAccount, type DlrHttpRequest } from './http-request.js';

const SHA256_BYTES = 32;
const SHA256_HEX_LENGTH = 2 * SHA256_BYTES;

/**
 * Checks `X-Messente-Signature`, the hex HMAC-SHA256 of the raw body keyed with an API
 * key's password. Any configured secret may match (an account can have several keys).
 * The IP list only proves Messente sent the request; this proves it concerns our messages.
 * With module option `accounts`, the secret that matched also says whose report it is: any
 * listed account's, or with the resolver form the one account named by the path.
 */
@Injectable()
export class DlrSignatureGuard implements CanActivate {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private rawBodyMissingLogged = false;

  constructor(
    @Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions,
    private readonly accounts: DlrAccountsService,
    private readonly stats: DeliveryReportStats,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<DlrHttpRequest>();
    if (this.accounts.resolves) return this.verifyPathAccount(request);
    const listed = this.accounts.listSecrets;
    if (listed.length > 0) return this.verifyListed(request);
    const secrets = this.options.secrets;
    if (secrets.length === 0) return true;
    const expected = this.expectedOf(request);
    const position = matchSecret(secrets, this.rawBodyOf(request), expected);
    this.stats.secretMatched(null, position, secrets.length);
    return true;
  }

  /** The list form: every account's secrets in list order; the first that matches names the account. */
  private verifyListed(request: DlrHttpRequest): true {
    const expected = this.expectedOf(request);
    const index = matchSecret(this.accounts.listSecretBytes, this.rawBodyOf(request), expected);
    const { account, position } = this.accounts.listSecrets[index]!;
    this.matched(request, account, position);
    return true;
  }

  /** The resolver form: the path names the account, and only its secrets can verify. */
  private async verifyPathAccount(request: DlrHttpRequest): Promise<true> {
    const id = request.params?.['account'];
    // Checked before anything else: an id outside the rule never reaches the resolver.
    if (!isAccountId(id)) throw unknownAccount();
    const expected = this.expectedOf(request);
    const rawBody = this.rawBodyOf(request);
    let account: ResolvedAccount | null;
    try {
      account = await this.accounts.lookup(id);
    } catch (error) {
      this.logger.warn(`Could not look up account "${id}": ${errorMessage(error)}`);
      throw refusal(
        'account_lookup_failed',
        new ServiceUnavailableException('Account lookup failed, try again later'),
      );
    }
    if (!account) throw unknownAccount();
    this.matched(request, account, matchSecret(account.secrets, rawBody, expected));
    return true;
  }

  private matched(request: DlrHttpRequest, account: ResolvedAccount, position: number): void {
    setReportAccount(request, account.id, position);
    this.stats.secretMatched(account.id, position, account.secrets.length);
  }

  /** The signature as bytes; refuses a missing or malformed one. */
  private expectedOf(request: DlrHttpRequest): Buffer {
    const signature = headerValue(request, SIGNATURE_HEADER)?.trim() ?? '';
    if (signature === '')
      throw refusal('signature_missing', new UnauthorizedException('Missing X-Messente-Signature'));
    // Hex decoding stops at the first pair that is not hex, so 64 characters decode to 32
    // bytes exactly when they are all hex digits.
    const expected = Buffer.from(signature, 'hex');
    if (signature.length !== SHA256_HEX_LENGTH || expected.length !== SHA256_BYTES)
      throw refusal('signature_invalid', new UnauthorizedException('Malformed X-Messente-Signature'));
    return expected;
  }

  private rawBodyOf(request: DlrHttpRequest): Buffer {
    const rawBody = request.rawBody;
    if (!Buffer.isBuffer(rawBody)) throw this.rawBodyMissing();
    return rawBody;
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

/**
 * The position of the first secret whose HMAC of `rawBody` is `expected`, each compared in
 * constant time; refuses when none matches. It stops at the first match: a report signed with
 * the first secret (the usual case, and the new one during a rotation) costs one HMAC, not one
 * per secret. That tells nothing to a sender without a secret, whose signature matches none, so
 * every secret is tried for it whatever it sent.
 */
function matchSecret(secrets: readonly Buffer[], rawBody: Buffer, expected: Buffer): number {
  for (let position = 0; position < secrets.length; position++) {
    const actual = createHmac('sha256', secrets[position]!).update(rawBody).digest();
    if (timingSafeEqual(actual, expected)) return position;
  }
  throw refusal('signature_invalid', new UnauthorizedException('Invalid X-Messente-Signature'));
}

function unknownAccount(): UnauthorizedException {
  return refusal('unknown_account', new UnauthorizedException('Unknown account'));
}
