import { BlockList, isIP } from 'node:net';
import { oneLine } from '../shared/cli-errors.js';
import type { Diagnosis } from './doctor-diagnosis.js';
import { sendHttp, type HttpAnswer } from '../shared/http-send.js';
import { isSuccess } from '../shared/http-answer.js';

/** The board of the app doctor checks (`--board`), and the headers its guards want. */
export interface BoardAccess {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
}

/** The address the app saw for doctor's refused request, or why doctor could not learn it. */
export type SeenIp = { readonly ip: string } | { readonly problem: string };

/**
 * How far back a refusal may be and still count as doctor's own: the board's clock may be
 * another machine's, and an older refusal is someone else's.
 */
const REFUSAL_WINDOW_MS = 60_000;

/**
 * Reads `GET {board}/api/stats` right after doctor's request was refused with 403, and
 * returns the IP of the newest `ip_not_allowed` refusal since (`recentRefusals` is newest
 * first): the address the app saw.
 */
export async function readSeenIp(board: BoardAccess, sentAt: number): Promise<SeenIp> {
  const stats = new URL('api/stats', board.url.href.endsWith('/') ? board.url : `${board.url.href}/`);
  let answer: HttpAnswer;
  try {
    answer = await sendHttp(stats, { method: 'GET', headers: { ...board.headers }, body: Buffer.alloc(0) });
  } catch (error) {
    // An UnreachableError's message is already one line; anything else is made one.
    const reason = oneLine(error);
    return { problem: `could not read ${stats.href}: ${reason}` };
  }
  if (!isSuccess(answer.status)) {
    const guard =
      answer.status === 401 || answer.status === 403
        ? ": pass what the board's guard wants with --board-header 'name: value'"
        : '';
    return { problem: `${stats.href} answered ${answer.status}${guard}` };
  }
  let refusals: unknown;
  try {
    refusals = (JSON.parse(answer.body.toString('utf8')) as { recentRefusals?: unknown }).recentRefusals;
  } catch {
    refusals = undefined;
  }
  if (!Array.isArray(refusals)) {
    return { problem: `${stats.href} is not the board's stats (no recentRefusals): check --board` };
  }
  const ours = refusals.find(
    (refusal: { reason?: unknown; ip?: unknown; at?: unknown }) =>
      refusal?.reason === 'ip_not_allowed' &&
      typeof refusal.ip === 'string' &&
      Date.parse(String(refusal.at)) >= sentAt - REFUSAL_WINDOW_MS,
  ) as { ip: string } | undefined;
  if (!ours) {
    return {
      problem:
        `the board at ${board.url.href} shows no IP refusal from the last minute: its figures are its own ` +
        "instance's, so behind a load balancer it may be another instance's board",
    };
  }
  return { ip: ours.ip };
}

/**
 * Names the cause of a 403 (request.ip not in allowedIps) from the address the app saw:
 * doctor's own address (allow it for testing), or a proxy's (trust proxy). Without the seen
 * address, both, and how to find out.
 */
export function diagnoseSourceIp(answer: HttpAnswer, seen: SeenIp | null): Diagnosis {
  const local = plainAddress(answer.localAddress);
  const remote = plainAddress(answer.remoteAddress);
  if (seen === null || 'problem' in seen) {
    return {
      cause: 'source_ip',
      title: 'source IP not allowed (allowedIps / trust proxy)',
      advice:
        `the app refused the address it sees for this request (request.ip is not in allowedIps); doctor ` +
        `connected from ${local ?? 'an unknown address'}. Either it sees this machine's address: add it to ` +
        'allowedIps for local testing; or a proxy or load balancer is in front of the app and it sees the ' +
        "proxy's address: set Express 'trust proxy' or Fastify 'trustProxy' to the proxy. To find out which, " +
        "look at the app's warn log line for this refusal, which names the IP the app saw, or run doctor " +
        "again with --board URL (the app's board, e.g. http://127.0.0.1:3000/messente/board) to read it." +
        (seen ? ` (${seen.problem})` : ''),
    };
  }
  const ip = plainAddress(seen.ip) ?? seen.ip;
  if (ip === local) {
    return {
      cause: 'ip_not_allowed',
      title: "this machine's IP is not allowed",
      ipSeen: ip,
      advice:
        `your IP ${ip} is not in allowedIps; add it for local testing (keep Messente's for production).` +
        (local === remote
          ? ' Should a proxy on this machine forward to the app, the app sees it as this same address: ' +
            "then set Express 'trust proxy' or Fastify 'trustProxy' to it instead."
          : ''),
    };
  }
  if (ip === remote || isLocalNetwork(ip)) {
    return {
      cause: 'trust_proxy',
      title: 'behind a proxy without trust proxy',
      ipSeen: ip,
      advice:
        `behind a proxy: the app sees the proxy's address ${ip}; enable trust proxy for it (Express ` +
        "app.set('trust proxy', ...), Fastify trustProxy), so that request.ip is the sender's. Doctor " +
        `connected from ${local ?? 'an unknown address'}, which the app would then see`,
    };
  }
  return {
    cause: 'source_ip',
    title: 'source IP not allowed (allowedIps / trust proxy)',
    ipSeen: ip,
    advice:
      `the app sees ${ip}, not this machine's address ${local ?? '(unknown)'}: either your public (NAT) ` +
      'address, then add it to allowedIps for testing, or a proxy or CDN in front of the app, then enable ' +
      "trust proxy for it (Express 'trust proxy', Fastify 'trustProxy')",
  };
}

/** An address without the `::ffff:` of an IPv4 client on a dual-stack socket. */
function plainAddress(address: string | null): string | null {
  if (address === null) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

// Loopback, private, link-local and shared (CGNAT) ranges: where proxies in front of an app live.
const LOCAL_NETWORKS = new BlockList();
for (const [network, prefix] of [
  ['127.0.0.0', 8],
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['169.254.0.0', 16],
  ['100.64.0.0', 10],
] as const) {
  LOCAL_NETWORKS.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  LOCAL_NETWORKS.addSubnet(network, prefix, 'ipv6');
}

function isLocalNetwork(ip: string): boolean {
  const family = isIP(ip);
  return family !== 0 && LOCAL_NETWORKS.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}
