import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { oneLine } from './cli-errors.js';

/** How long the CLI waits for an answer before it gives up. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** What a server answered. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The address this end of the connection had (this machine's, as the first hop sees it). */
  readonly localAddress: string | null;
  /** The address the request went to (the URL's host, resolved). */
  readonly remoteAddress: string | null;
}

/** The request never got an answer: nothing listening, unknown host, timeout, TLS. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';

  constructor(
    message: string,
    /** Node's error code, e.g. `ECONNREFUSED`, or `TIMEOUT`. */
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * Sends one request with exactly these body bytes (node:http, so that nothing re-encodes
 * them) and resolves with the answer; rejects with `UnreachableError` when none comes.
 */
export function sendHttp(
  url: URL,
  options: { method?: string; headers: OutgoingHttpHeaders; body: Buffer; timeoutMs?: number },
): Promise<HttpAnswer> {
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: options.method ?? 'POST',
      headers: { ...options.headers, 'content-length': options.body.length },
      // One connection per request: nothing keeps the process alive once the command is done.
      agent: false,
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy(new UnreachableError(`no answer from ${url.host} within ${timeoutMs / 1000} s`, 'TIMEOUT'));
    });
    let localAddress: string | null = null;
    let remoteAddress: string | null = null;
    req.once('socket', (socket) => {
      const note = () => {
        localAddress = socket.localAddress ?? null;
        remoteAddress = socket.remoteAddress ?? null;
      };
      if (socket.remoteAddress) note();
      else socket.once('connect', note);
    });
    const answered = (res: IncomingMessage, body: Buffer) =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body, localAddress, remoteAddress });
    req.once('error', (error) => reject(toUnreachable(error, url)));
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', (error) => reject(toUnreachable(error, url)));
      res.once('end', () => answered(res, Buffer.concat(chunks)));
    });
    // A CONNECT or Upgrade request (a hand-made recording) is answered with a tunnel, not a
    // response: without these, Node closes it and the promise would never settle.
    for (const event of ['connect', 'upgrade'] as const) {
      req.once(event, (res: IncomingMessage, socket: Duplex, head: Buffer) => {
        socket.destroy();
        answered(res, head);
      });
    }
    req.end(options.body);
  });
}

function toUnreachable(error: unknown, url: URL): UnreachableError {
  if (error instanceof UnreachableError) return error;
  const code = (error as { code?: string }).code ?? 'EUNKNOWN';
  const where = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
  const reasons: Record<string, string> = {
    ECONNREFUSED: `nothing is listening at ${where} (connection refused)`,
    ENOTFOUND: `host ${url.hostname} not found`,
    EAI_AGAIN: `host ${url.hostname} could not be resolved (DNS)`,
    ECONNRESET: `${where} closed the connection without answering`,
    EHOSTUNREACH: `${where} is unreachable (no route to host)`,
    ENETUNREACH: `${where} is unreachable (network unreachable)`,
  };
  return new UnreachableError(reasons[code] ?? `${where}: ${oneLine(error)}`, code);
}
