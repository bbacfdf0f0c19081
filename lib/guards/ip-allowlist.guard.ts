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
import { refusal } from '../telemetry/refusal.js';
import type { DlrHttpRequest } from '../utils/http-request.js';

const VERDICT_CACHE_SIZE = 1_024;
const WARN_INTERVAL_MS = 60_000;

/**
 * Lets only the configured IPs and CIDRs post reports. The client IP is `request.ip`
 * alone: the app's `trust proxy` (Express) or `trustProxy` (Fastify) setting decides
 * whether X-Forwarded-For counts, so a spoofed header cannot get past a server that does
 * not trust its proxy.
 */
@Injectable()
export class IpAllowlistGuard implements CanActivate {
  private readonly logger = new Logger('MessenteDlr');

  // Reports come from a handful of Messente IPs: remembering each verdict spares building a
  // SocketAddress per request. Bounded, so a flood of distinct addresses cannot grow it.
  private readonly verdicts = new Map<string, boolean>();
  private readonly lastWarned = new Map<string, number>();

  constructor(@Inject(DLR_OPTIONS) private readonly options: ResolvedDlrOptions) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.options.allowList) return true;
    const ip = context.switchToHttp().getRequest<DlrHttpRequest>().ip ?? '';
    if (this.isAllowed(ip)) return true;
    this.warnOnce(ip);
    throw refusal('ip_not_allowed', new ForbiddenException());
  }

  /** Logs a refused IP at most once a minute, so a flood of requests cannot flood the log. */
  private warnOnce(ip: string): void {
    const now = Date.now();
    if ((this.lastWarned.get(ip) ?? -Infinity) > now - WARN_INTERVAL_MS) return;
    if (this.lastWarned.size >= VERDICT_CACHE_SIZE) this.lastWarned.clear();
    this.lastWarned.set(ip, now);
    this.logger.warn(`Refused a delivery report from ${ip || 'an unknown address'}: not in allowedIps`);
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
