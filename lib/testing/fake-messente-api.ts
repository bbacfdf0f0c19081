import { Buffer } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import {
  STATUS_CODES,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

const STATUS_ROUTE = /^\/v1\/omnimessage\/([^/]+)\/status$/;

/** The API key the fake accepts. */
export interface FakeMessenteApiOptions {
  /** The API username the fake accepts. */
  username: string;
  /** The API password the fake accepts. */
  password: string;
  /** Further API keys it accepts, for apps with several accounts (module option `accounts`). */
  moreKeys?: readonly { readonly username: string; readonly password: string }[];
}

/** One request the fake received, whatever it answered. */
export interface FakeMessenteApiRequest {
  /** HTTP method, e.g. `GET`. */
  readonly method: string;
  /** Path and query string, e.g. `/v1/omnimessage/<id>/status`. */
  readonly path: string;
  /** Header names lower-cased, as Node's `http` module gives them. */
  readonly headers: Readonly<IncomingHttpHeaders>;
  /** When the request arrived. */
  readonly receivedAt: Date;
}

/** How `failNext` answers. */
export interface FailNextOptions {
  /** Sent as `Retry-After` in delay-seconds, e.g. `Retry-After: 3`. */
  retryAfterSeconds?: number;
  /**
   * Sent as `Retry-After` in the HTTP-date form, e.g. `Retry-After: Fri, 27 Nov 2026 21:00:00 GMT`
   * (whole seconds: the milliseconds are dropped). Takes precedence over `retryAfterSeconds`.
   */
  retryAfterDate?: Date;
  /** Answer body: a string is sent as is, anything else as JSON. Default (or null) a Messente error body. */
  body?: unknown;
}

type Scripted = { kind: 'fail'; status: number; options: FailNextOptions } | { kind: 'hang' };

/**
 * A real HTTP server on 127.0.0.1 (random port) speaking Messente's status query API,
 * `GET /v1/omnimessage/:id/status` with HTTP Basic auth, for tests of code that queries it.
 * Failures and hangs can be scripted, and requests and concurrency are recorded.
 */
export class FakeMessenteApi {
  /** Delay before each answer, in ms, so concurrent requests overlap measurably. */
  delayMs = 0;

  private readonly reports = new Map<string, unknown>();
  private readonly script: Scripted[] = [];
  private readonly received: FakeMessenteApiRequest[] = [];
  private readonly active = new Set<ServerResponse>();
  private server: Server | null = null;
  private url: string | null = null;
  private peak = 0;

  constructor(private readonly options: FakeMessenteApiOptions) {}

  /** Every request received since start (or `reset`), in arrival order. */
  get requests(): ReadonlyArray<FakeMessenteApiRequest> {
    return this.received;
  }

  /** Requests being handled right now, hanging ones included. */
  get inFlight(): number {
    return this.active.size;
  }

  /** The largest `inFlight` seen since start (or `reset`). */
  get maxInFlight(): number {
    return this.peak;
  }

  /** Starts listening; resolves with the API base URL, e.g. `http://127.0.0.1:PORT/v1`. */
  async start(): Promise<string> {
    if (this.url) return this.url;
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    return this.url;
  }

  /** Stops listening and closes every connection, hanging requests included. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.url = null;
    for (const res of this.active) res.destroy();
    this.active.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Clients keep sockets alive; without this, close() would wait for them to time out.
    server.closeAllConnections();
    await closed;
  }

  /**
   * What `GET /v1/omnimessage/:id/status` answers for `omnimessageId`, in Messente's snake_case
   * shape: `{ omnimessage_id, to, statuses: [{ message_id, status, channel, ... }] }`.
   * Serialised on each request, so later changes to `body` are served.
   */
  setReport(omnimessageId: string, body: unknown): void {
    this.reports.set(omnimessageId, body);
  }

  /** The next `times` status requests (after any scripted before) answer `httpStatus`. */
  failNext(httpStatus: number, times = 1, options: FailNextOptions = {}): void {
    for (let i = 0; i < times; i++) this.script.push({ kind: 'fail', status: httpStatus, options });
  }

  /** The next `times` status requests (after any scripted before) never get an answer. */
  hangNext(times = 1): void {
    for (let i = 0; i < times; i++) this.script.push({ kind: 'hang' });
  }

  /** Forgets recorded requests, scripted failures, `delayMs` and the `maxInFlight` peak; reports stay. */
  reset(): void {
    this.received.length = 0;
    this.script.length = 0;
    this.peak = this.active.size;
    this.delayMs = 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.received.push(
      Object.freeze({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: Object.freeze({ ...req.headers }),
        receivedAt: new Date(),
      }),
    );
    this.active.add(res);
    this.peak = Math.max(this.peak, this.active.size);
    // 'close' fires both after an answer and when the client gives up, so counts never leak.
    res.once('close', () => this.active.delete(res));
    req.resume();

    const route = STATUS_ROUTE.exec(new URL(req.url ?? '/', 'http://fake').pathname);
    if (!route) return this.answer(res, 404, messenteError('Not found', 'No such route', '101'));
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      return this.answer(res, 405, messenteError('Method not allowed', `${req.method} not allowed`, '107'));
    }
    const scripted = this.script.shift();
    if (scripted?.kind === 'hang') return;
    if (scripted?.kind === 'fail') return this.fail(res, scripted.status, scripted.options);
    if (!this.authorised(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="Messente"');
      return this.answer(res, 401, messenteError('Unauthorized', 'Invalid or missing credentials', '103'));
    }
    const id = route[1]!;
    if (!this.reports.has(id)) {
      return this.answer(res, 404, messenteError('Not found', 'No such omnimessage', '101'));
    }
    this.answer(res, 200, this.reports.get(id));
  }

  private fail(res: ServerResponse, status: number, options: FailNextOptions): void {
    if (options.retryAfterDate !== undefined) {
      res.setHeader('Retry-After', options.retryAfterDate.toUTCString());
    } else if (options.retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(options.retryAfterSeconds));
    }
    const title = STATUS_CODES[status] ?? 'Error';
    const code = status >= 500 ? '104' : null;
    this.answer(
      res,
      status,
      options.body ?? messenteError(title, 'Failure injected by FakeMessenteApi', code),
    );
  }

  private authorised(header: string | undefined): boolean {
    const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
    if (!match) return false;
    const given = Buffer.from(match[1]!, 'base64');
    return [this.options, ...(this.options.moreKeys ?? [])].some((key) => {
      const expected = Buffer.from(`${key.username}:${key.password}`);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  }

  private answer(res: ServerResponse, status: number, body: unknown): void {
    const send = (): void => {
      if (res.destroyed) return;
      const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
      res.writeHead(status, {
        'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (this.delayMs > 0) setTimeout(send, this.delayMs);
    else send();
  }
}

function messenteError(title: string, detail: string, code: string | null): unknown {
  return { errors: [{ title, detail, code, source: null }] };
}
