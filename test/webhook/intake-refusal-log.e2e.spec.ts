import { jest } from '@jest/globals';
import { Injectable, Logger, type LoggerService } from '@nestjs/common';
import { DlrDispatcherService } from '../../lib/dispatch/dlr-dispatcher.service.js';
import {
  InMemoryDlrStore,
  MessenteDlrModule,
  OnDlrStatus,
  type MessenteDlrModuleOptions,
  type RecordResult,
} from '../../lib/index.js';
import { dlrPayload, signDlr } from '../../lib/testing/index.js';
import { REFUSAL_REASONS } from '../../lib/interfaces/refusal-reason.js';
import { ADAPTERS, postDlr, startApp, type AdapterName, type TestApp } from '../support/app.js';

const SECRET = 'refusal-log-secret';
const PASSWORD = 'refusal-log-password';

/** The app's logger: every line Nest's `Logger` writes, as it would reach the console. */
class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log(message: unknown): void {
    this.lines.push({ level: 'log', message: String(message) });
  }
  warn(message: unknown): void {
    this.lines.push({ level: 'warn', message: String(message) });
  }
  error(message: unknown): void {
    this.lines.push({ level: 'error', message: String(message) });
  }
  /** The refusal lines, at warn. */
  refusals(): string[] {
    return this.lines
      .filter((line) => line.level === 'warn' && line.message.startsWith('Refused a delivery report'))
      .map((line) => line.message);
  }
}

/** A store that can be switched to fail, for the 503. */
class SwitchableStore extends InMemoryDlrStore {
  failing = false;
  override record(raw: Readonly<Record<string, unknown>>, at: number, lease: number): Promise<RecordResult> {
    return this.failing ? Promise.reject(new Error('store down')) : super.record(raw, at, lease);
  }
}

@Injectable()
class FailingHandler {
  @OnDlrStatus('REJECTD') on(): void {
    throw new Error('handler failed');
  }
}

/** The reason code a refusal line names. */
const reasonOf = (line: string) => /\(([a-z_]+)\)/.exec(line)?.[1];

describe.each(ADAPTERS)('refusal log on %s', (adapter: AdapterName) => {
  const running: TestApp[] = [];
  let logger: CapturingLogger;
  beforeEach(() => {
    logger = new CapturingLogger();
  });
  afterEach(async () => {
    jest.useRealTimers();
    for (const app of running.splice(0)) await app.close();
    Logger.overrideLogger(false);
  });

  async function start(options: MessenteDlrModuleOptions, appOptions = {}, providers: unknown[] = []) {
    const app = await startApp(
      adapter,
      { imports: [MessenteDlrModule.forRoot(options)], providers: providers as never[] },
      appOptions,
    );
    app.app.useLogger(logger);
    running.push(app);
    return app;
  }

  it('logs every refusal reason at warn, once a minute per reason, with the client IP and never the body, secret or signature', async () => {
    // Only Date is faked, and it keeps running: the test moves it on by a minute, nothing else.
    jest.useFakeTimers({
      advanceTimers: true,
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
    const store = new SwitchableStore();
    const { app, baseUrl } = await start(
      {
        signatureSecrets: [SECRET],
        credentials: { username: 'user', password: PASSWORD },
        allowedIps: ['127.0.0.1'],
        store,
        acknowledge: 'after-handlers',
        handlerAttempts: 1,
      },
      { trustProxy: true },
      [FailingHandler],
    );
    const bodies: string[] = [];
    const signatures: string[] = [];
    /** Posts a fresh body; what was sent is kept, to be looked for in the log. */
    const post = (
      overrides: Record<string, unknown>,
      headers: Record<string, string> = {},
      sign: string | null = SECRET,
    ) => {
      const raw = JSON.stringify(dlrPayload(overrides));
      bodies.push(raw);
      if (sign === null) return postDlr(baseUrl, raw, { headers });
      const signature = signDlr(raw, sign);
      signatures.push(signature);
      return postDlr(baseUrl, raw, { headers: { ...headers, 'x-messente-signature': signature } });
    };
    const deep = { deep: JSON.parse('['.repeat(40) + ']'.repeat(40)) as unknown };

    // Two of each: the second within the minute writes no line.
    for (let round = 0; round < 2; round++) {
      expect((await post({}, { 'x-forwarded-for': round === 0 ? '10.1.2.3' : '203.0.113.9' })).status).toBe(
        403,
      );
      expect((await post({}, {}, null)).status).toBe(401);
      expect((await post({}, {}, 'wrong-secret')).status).toBe(401);
      expect((await post({}, { 'content-type': 'text/plain' })).status).toBe(415);
      expect((await post({ padding: 'x'.repeat(70 * 1024) })).status).toBe(413);
      expect((await post(round === 0 ? { status: 'delivered' } : deep)).status).toBe(400);
      store.failing = true;
      expect((await post({})).status).toBe(503);
      store.failing = false;
      expect((await post({ status: 'REJECTD' })).status).toBe(500);
    }
    const firstMinute = logger.refusals();
    expect(firstMinute.map(reasonOf)).toEqual([
      'ip_not_allowed',
      'signature_missing',
      'signature_invalid',
      'unsupported_media_type',
      'payload_too_large',
      'invalid_body',
      'store_unavailable',
      'handler_failed',
    ]);
    expect(firstMinute[0]).toBe(
      'Refused a delivery report from 10.1.2.3 with 403 (ip_not_allowed): not in allowedIps; ' +
        '10.1.2.3 is a loopback or private address: add it to allowedIps for local testing ' +
        '(behind a proxy, let the app trust it: Express `trust proxy`, Fastify `trustProxy`)',
    );
    for (const line of firstMinute.slice(1)) {
      expect(line).toMatch(/^Refused a delivery report from 127\.0\.0\.1 with (401|415|413|400|503|500) \(/);
    }
    expect(firstMinute[2]).toContain('matches no configured secret');

    // A minute later the next line of a reason says how many were left out.
    jest.setSystemTime(Date.now() + 61_000);
    expect((await post({}, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(403);
    expect((await post({}, {}, null)).status).toBe(401);
    await app.get(DlrDispatcherService).drain(0);
    expect((await post({})).status).toBe(503);
    expect(logger.refusals().slice(firstMinute.length)).toEqual([
      'Refused a delivery report from 203.0.113.9 with 403 (ip_not_allowed): not in allowedIps ' +
        '(1 more ip_not_allowed refusal since the last such line)',
      'Refused a delivery report from 127.0.0.1 with 401 (signature_missing): no X-Messente-Signature header ' +
        '(1 more signature_missing refusal since the last such line)',
      'Refused a delivery report from 127.0.0.1 with 503 (shutting_down): the app is shutting down',
    ]);

    // Another application has its own minute; its raw_body_missing completes the reasons.
    const other = await start({ signatureSecrets: [SECRET], allowedIps: ['127.0.0.1'] }, { rawBody: false });
    const raw = JSON.stringify(dlrPayload());
    bodies.push(raw);
    signatures.push(signDlr(raw, SECRET));
    expect((await postDlr(other.baseUrl, raw, { secret: SECRET })).status).toBe(500);
    expect((await postDlr(other.baseUrl, raw)).status).toBe(401);
    // An app with an account resolver completes them: an unknown account and a failing lookup.
    const tenants = await start({
      allowedIps: ['127.0.0.1'],
      accounts: {
        resolve: async (id) => {
          if (id === 'down') throw new Error('tenant database down');
          return null;
        },
      },
    });
    const path = (account: string) => ({ secret: SECRET, path: `messente/dlr/${account}` });
    expect((await postDlr(tenants.baseUrl, raw, path('nobody'))).status).toBe(401);
    expect((await postDlr(tenants.baseUrl, raw, path('down'))).status).toBe(503);
    const all = logger.refusals();
    expect(all.slice(-4).map(reasonOf)).toEqual([
      'raw_body_missing',
      'signature_missing',
      'unknown_account',
      'account_lookup_failed',
    ]);
    expect([...new Set(all.map(reasonOf))].sort()).toEqual([...REFUSAL_REASONS].sort());

    // No secret and no signature value is in any line; nothing of a body in a refusal line.
    const everything = logger.lines.map((line) => line.message).join('\n');
    for (const secret of [SECRET, PASSWORD]) expect(everything).not.toContain(secret);
    for (const signature of signatures) expect(everything).not.toContain(signature);
    const refusals = all.join('\n');
    const ids = bodies.map((body) => (JSON.parse(body) as { message_id: string }).message_id);
    expect(ids.filter((id) => refusals.includes(id))).toEqual([]);
    expect(refusals).not.toMatch(/xxxxxxxx|\+372|MySender|delivered|\[\[/);
  });

  it('names a loopback client IP and the fix when the default allowedIps refuses a local test', async () => {
    const { baseUrl } = await start({ signatureSecrets: [SECRET] }, { host: '::1' });
    expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(403);
    expect(logger.refusals()).toEqual([
      'Refused a delivery report from ::1 with 403 (ip_not_allowed): not in allowedIps; ' +
        '::1 is a loopback or private address: add it to allowedIps for local testing ' +
        '(behind a proxy, let the app trust it: Express `trust proxy`, Fastify `trustProxy`)',
    ]);
  });
});
