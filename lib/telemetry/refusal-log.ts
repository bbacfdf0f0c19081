import { Logger } from '@nestjs/common';
import { BlockList, isIP } from 'node:net';
import type { RefusalReason } from '../interfaces/refusal-reason.js';
import { LOGGER_CONTEXT } from '../messente-dlr.constants.js';

/** At most one line per refusal reason in this long, per application. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;

// What each reason means to whoever reads the log. Fixed texts only: an exception's own
// message can quote the body (a JSON parser's error does), and the log never shows it.
const EXPLANATIONS: Record<RefusalReason, string> = {
  ip_not_allowed: 'not in allowedIps',
  signature_missing: 'no X-Messente-Signature header',
  signature_invalid:
    'X-Messente-Signature is malformed or matches no configured secret (is the API key password right?)',
  raw_body_missing: 'the raw body is not available to verify the signature (rawBody: true)',
  unsupported_media_type: 'Content-Type is not application/json',
  payload_too_large: 'the body is larger than 64 KiB',
  invalid_body: 'the body is not a valid delivery report (the 400 answer lists why)',
  store_unavailable: 'the delivery-report store did not record it in time',
  shutting_down: 'the app is shutting down',
  handler_failed: 'a handler failed (acknowledge: after-handlers)',
  unknown_account: 'the path names no account (accounts.resolve answered null, or the id breaks the id rule)',
  account_lookup_failed: 'accounts.resolve threw or gave no answer in time',
};

/** Loopback and private ranges: a refused address in them is a local test or a proxy. */
const LOCAL_ADDRESSES = new BlockList();
LOCAL_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
LOCAL_ADDRESSES.addSubnet('10.0.0.0', 8, 'ipv4');
LOCAL_ADDRESSES.addSubnet('172.16.0.0', 12, 'ipv4');
LOCAL_ADDRESSES.addSubnet('192.168.0.0', 16, 'ipv4');
LOCAL_ADDRESSES.addSubnet('169.254.0.0', 16, 'ipv4');
LOCAL_ADDRESSES.addAddress('::1', 'ipv6');
LOCAL_ADDRESSES.addSubnet('fc00::', 7, 'ipv6');
LOCAL_ADDRESSES.addSubnet('fe80::', 10, 'ipv6');

/** True for a loopback, private or link-local IPv4 or IPv6 address (also `::ffff:a.b.c.d`). */
export function isLocalAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const address = mapped ?? ip;
  const family = isIP(address);
  return family !== 0 && LOCAL_ADDRESSES.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

interface ReasonState {
  /** When the last line for this reason was written. */
  lastAt: number;
  /** Refusals since then that wrote no line. */
  suppressed: number;
}

/**
 * Writes refused webhook requests to the log at `warn`: the reason code, the client IP and
 * what to do, at most one line per reason a minute, the next line saying how many were left
 * out, so that a flood cannot flood the log and a wrong secret is never silent. Never the
 * body, a secret or a signature.
 */
export class RefusalLog {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly reasons = new Map<RefusalReason, ReasonState>();

  /** `now` is the clock (ms), for tests. */
  constructor(private readonly now: () => number = Date.now) {}

  /** Logs one refusal, or counts it when its reason was logged less than a minute ago. */
  refused(reason: RefusalReason, ip: string, httpStatus: number): void {
    const now = this.now();
    const state = this.reasons.get(reason);
    if (state && now - state.lastAt < REFUSAL_LOG_INTERVAL_MS) {
      state.suppressed++;
      return;
    }
    const suppressed = state?.suppressed ?? 0;
    this.reasons.set(reason, { lastAt: now, suppressed: 0 });
    this.logger.warn(describeRefusal(reason, ip, httpStatus, suppressed));
  }
}

/** The log line of one refusal. */
export function describeRefusal(
  reason: RefusalReason,
  ip: string,
  httpStatus: number,
  suppressed: number,
): string {
  // Under trust proxy the IP comes from a header: anything but an address is shown quoted.
  const from = ip === '' ? 'an unknown address' : isIP(ip) !== 0 ? ip : JSON.stringify(ip.slice(0, 64));
  let line = `Refused a delivery report from ${from} with ${httpStatus} (${reason}): ${EXPLANATIONS[reason]}`;
  if (reason === 'ip_not_allowed' && isLocalAddress(ip)) {
    line +=
      `; ${ip} is a loopback or private address: add it to allowedIps for local testing ` +
      '(behind a proxy, let the app trust it: Express `trust proxy`, Fastify `trustProxy`)';
  }
  if (suppressed > 0) {
    line += ` (${suppressed} more ${reason} refusal${suppressed === 1 ? '' : 's'} since the last such line)`;
  }
  return line;
}
