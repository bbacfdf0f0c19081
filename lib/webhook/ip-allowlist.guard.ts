import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { isIP } from 'node:net';
import { DLR_OPTIONS } from '../messente-dlr.constants.js';
import type { ResolvedDlrOptions } from '../interfaces/resolved-dlr-options.interface.js';
import { refusal } from '../errors/refusal.js';
import type { DlrHttpRequest } from './http-request.js';

const VERDICT_CACHE_SIZE = 1_024;

/**
 * Lets only the configured IPs and CIDRs post reports. The client IP is `request.ip`
 * alone: the app's `trust proxy` (Express) or `trustProxy` (Fastify) setting decides
 * whether X-Forwarded-For counts, so a spoofed header cannot get past a server that does
 * not trust its proxy. A refusal is logged, naming the IP, by `DlrTelemetryService` like every other.
 */
@Injectable()
export class IpAllowlistGuard implements CanActivate {
  // Reports come from a handful of Messente IPs: remembering each verdict spares building a
  // SocketAddress per request. Bounded, so a flood of distinct addresses cannot grow it.
  private readonly verdicts = new Map<string, boolean>();

  constructor(@Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.options.allowList) return true;
    const ip = context.switchToHttp().getRequest<DlrHttpRequest>().ip ?? '';
    if (this.isAllowed(ip)) return true;
    throw refusal('ip_not_allowed', new ForbiddenException());
  }

  private isAllowed(ip: string): boolean {
    let verdict = this.verdicts.get(ip);
    if (verdict === undefined) {
      const family = isIP(ip);
      verdict = family !== 0 && this.options.allowList!.check(ip, family === 6 ? 'ipv6' : 'ipv4');
      if (this.verdicts.size >= VERDICT_CACHE_SIZE) this.verdicts.clear();
      this.verdicts.set(ip, verdict);
    }
    return verdict;
  }
}
