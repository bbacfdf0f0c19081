import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
} from '@nestjs/common';
import { isIP } from 'node:net';
import { DLR_OPTIONS } from '../messente-dlr.constants.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import type { DlrHttpRequest } from '../utils/http-request.js';

/**
 * Lets only the configured IPs and CIDRs post reports. The client IP is `request.ip`
 * alone: the app's `trust proxy` (Express) or `trustProxy` (Fastify) setting decides
 * whether X-Forwarded-For counts, so a spoofed header cannot get past a server that does
 * not trust its proxy.
 */
@Injectable()
export class IpAllowlistGuard implements CanActivate {
  private readonly logger = new Logger('MessenteDlr');

  constructor(@Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions) {}

  canActivate(context: ExecutionContext): boolean {
    const allowList = this.options.allowList;
    if (!allowList) return true;
    const ip = context.switchToHttp().getRequest<DlrHttpRequest>().ip ?? '';
    const family = isIP(ip);
    if (family !== 0 && allowList.check(ip, family === 6 ? 'ipv6' : 'ipv4')) return true;
    this.logger.warn(`Refused a delivery report from ${ip || 'an unknown address'}: not in allowedIps`);
    throw new ForbiddenException();
  }
}
