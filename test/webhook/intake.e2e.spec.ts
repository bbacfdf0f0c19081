import { jest } from '@jest/globals';
import {
  Controller,
  Get,
  Injectable,
  Req,
  Logger,
  Module,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { APP_GUARD, NestFactory, Reflector } from '@nestjs/core';
import { ConfigModule, ConfigService } from '@nestjs/config';
import {
  DeliveryReportStats,
  DeliveryStatusChanged,
  DeliveryStatusEvents,
  MessenteDlrModule,
  type MessenteDlrModuleOptions,
} from '../../lib/index.js';
import { dlrPayload, signDlr } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, startApp, type TestApp } from '../support/app.js';

const SECRET = 'api-key-password';
const LOOPBACK = ['127.0.0.1', '::1'];

function collect(events: DeliveryStatusEvents): DeliveryStatusChanged[] {
  const seen: DeliveryStatusChanged[] = [];
  events.changes$.subscribe((event) => seen.push(event));
  return seen;
}

describe.each(ADAPTERS)('intake on %s', (adapter) => {
  let running: TestApp | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  async function start(options: MessenteDlrModuleOptions, appOptions = {}) {
    running = await startApp(adapter, { imports: [MessenteDlrModule.forRoot(options)] }, appOptions);
    return { ...running, events: collect(running.app.get(DeliveryStatusEvents)) };
  }

  it('accepts a signed report and emits a typed event', async () => {
    const { baseUrl, events } = await start({ signatureSecrets: [SECRET], allowedIps: LOOPBACK });
    const payload = dlrPayload({ timestamp: '2020-02-04T08:09:42.389630', extra_field: { kept: true } });
    const answer = await postDlr(baseUrl, payload, { secret: SECRET });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ outcome: 'change' });
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event).toBeInstanceOf(DeliveryStatusChanged);
    expect(event).toMatchObject({
      messageId: payload['message_id'],
      omnimessageId: payload['omnimessage_id'],
      status: 'DELIVRD',
      previousStatus: null,
      channel: 'sms',
      to: '+3725555555',
      sender: 'MySender',
      err: 0,
      error: null,
      isFinal: true,
      priceInfo: { partPrice: '0.1', partsCount: 1, totalPrice: '0.1' },
    });
    expect(event.timestamp?.toISOString()).toBe('2020-02-04T08:09:42.389Z');
    expect(event.raw['extra_field']).toEqual({ kept: true });
    expect(Object.isFrozen(event.raw)).toBe(true);
    expect(Object.isFrozen(event.raw['price_info'])).toBe(true);
    expect(Object.isFrozen(event)).toBe(true);
  });

  it('serves a custom path under a global prefix', async () => {
    const { baseUrl, events } = await start(
      { path: '/hooks/messente/', signatureSecrets: [SECRET], allowedIps: LOOPBACK },
      { globalPrefix: 'api' },
    );
    expect(
      (await postDlr(baseUrl, dlrPayload(), { secret: SECRET, path: 'api/hooks/messente' })).status,
    ).toBe(200);
    expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET, path: 'messente/dlr' })).status).toBe(404);
    expect(events).toHaveLength(1);
  });

  it('refuses an IP outside the allowlist with 403 (the default list is Messente only), logging the IP and the fix once', async () => {
    const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const { baseUrl, events } = await start({ signatureSecrets: [SECRET] });
      const answer = await postDlr(baseUrl, dlrPayload(), { secret: SECRET });
      expect(answer.status).toBe(403);
      expect(answer.text).not.toContain('127.0.0.1');
      expect(events).toHaveLength(0);
      // The log names the IP and, for a loopback one, the fix; a second refusal within the
      // minute is not logged again.
      expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(403);
      const refusals = warnings.mock.calls.filter(([message]) => String(message).startsWith('Refused'));
      expect(refusals).toHaveLength(1);
      expect(String(refusals[0]![0])).toMatch(
        /^Refused a delivery report from 127\.0\.0\.1 with 403 \(ip_not_allowed\): not in allowedIps; 127\.0\.0\.1 is a loopback or private address: add it to allowedIps for local testing/,
      );
    } finally {
      warnings.mockRestore();
    }
  });

  it('warns at startup when no signature secret is set, and not when one is', async () => {
    const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const noSecret = () =>
      warnings.mock.calls.filter(([message]) => String(message).includes('No signature secret is set'));
    try {
      await start({ signatureSecrets: [SECRET], allowedIps: LOOPBACK });
      expect(noSecret()).toHaveLength(0);
      await running!.close();
      const { baseUrl, events } = await start({ allowedIps: LOOPBACK });
      expect(noSecret()).toHaveLength(1);
      expect(String(noSecret()[0]![0])).toMatch(/checked by source IP only/);
      // Checked by source IP only: an unsigned report from an allowed IP is accepted.
      expect((await postDlr(baseUrl, dlrPayload())).status).toBe(200);
      expect(events).toHaveLength(1);
    } finally {
      warnings.mockRestore();
    }
  });

  it.each([
    ['missing', undefined, {}],
    ['wrong', undefined, { 'x-messente-signature': 'ab'.repeat(32) }],
    ['malformed', undefined, { 'x-messente-signature': 'not-hex' }],
    ['signed with another secret', 'someone-else', {}],
  ])('refuses a %s signature with 401', async (_case, secret, headers) => {
    const { baseUrl, events } = await start({ signatureSecrets: [SECRET], allowedIps: LOOPBACK });
    const answer = await postDlr(baseUrl, dlrPayload(), { secret, headers });
    expect(answer.status).toBe(401);
    expect(events).toHaveLength(0);
  });

  // A length check that let longer headers through would accept these: Buffer.from(hex)
  // stops at the first pair that is not hex, or at a lone last digit, and decodes 32 bytes.
  it.each([
    ['two non-hex characters', 'zz'],
    ['one more hex digit', 'a'],
    ['a non-hex character and more', 'g0'],
  ])('refuses a valid signature followed by %s with 401 signature_invalid', async (_case, tail) => {
    const { baseUrl, events, app } = await start({ signatureSecrets: [SECRET], allowedIps: LOOPBACK });
    const raw = JSON.stringify(dlrPayload());
    const signature = signDlr(raw, SECRET);
    const answer = await postDlr(baseUrl, raw, { headers: { 'x-messente-signature': signature + tail } });
    expect(answer.status).toBe(401);
    expect(events).toHaveLength(0);
    expect(app.get(DeliveryReportStats).snapshot().requests.refused).toEqual({ signature_invalid: 1 });
    // The same signature alone is accepted: only the trailing characters made the difference.
    expect((await postDlr(baseUrl, raw, { headers: { 'x-messente-signature': signature } })).status).toBe(
      200,
    );
  });

  // The whole HMAC must match: these two differ from the real signature only at its end, or
  // not at all, so a comparison of a prefix would let them through.
  it('refuses a correct signature with its last hex digit flipped with 401', async () => {
    const { baseUrl, events } = await start({ signatureSecrets: [SECRET], allowedIps: LOOPBACK });
    const raw = JSON.stringify(dlrPayload());
    const signature = signDlr(raw, SECRET);
    const last = signature.at(-1)!;
    const flipped = signature.slice(0, -1) + (last === '0' ? '1' : '0');
    const answer = await postDlr(baseUrl, raw, { headers: { 'x-messente-signature': flipped } });
    expect(answer.status).toBe(401);
    expect(events).toHaveLength(0);
    // The unflipped signature on the same bytes is accepted: only the last digit made the difference.
    expect((await postDlr(baseUrl, raw, { headers: { 'x-messente-signature': signature } })).status).toBe(
      200,
    );
    expect(events).toHaveLength(1);
  });

  it('refuses a body altered after signing, with the original signature, with 401', async () => {
    const { baseUrl, events } = await start({ signatureSecrets: [SECRET], allowedIps: LOOPBACK });
    const signed = JSON.stringify(dlrPayload({ status: 'FAILED' }));
    const altered = signed.replace('"FAILED"', '"DELIVRD"');
    expect(altered).not.toBe(signed);
    const signature = signDlr(signed, SECRET);
    const answer = await postDlr(baseUrl, altered, { headers: { 'x-messente-signature': signature } });
    expect(answer.status).toBe(401);
    expect(events).toHaveLength(0);
  });

  it('accepts any configured secret, including the credentials password', async () => {
    const { baseUrl, events } = await start({
      signatureSecrets: ['first', 'second'],
      credentials: { username: 'user', password: 'third' },
      allowedIps: LOOPBACK,
    });
    for (const secret of ['first', 'second', 'third']) {
      expect((await postDlr(baseUrl, dlrPayload(), { secret })).status).toBe(200);
    }
    expect(events).toHaveLength(3);
  });

  it('verifies the raw bytes, not re-serialised JSON', async () => {
    const { baseUrl, events } = await start({ signatureSecrets: [SECRET], allowedIps: LOOPBACK });
    const raw = JSON.stringify(dlrPayload(), null, 2).replace('"DELIVRD"', '"DELIVRD"    ');
    expect((await postDlr(baseUrl, raw, { secret: SECRET })).status).toBe(200);
    expect(events).toHaveLength(1);
  });

  it('answers 400 with class-validator messages and no stack trace', async () => {
    const { baseUrl, events } = await start({ signatureSecrets: [SECRET], allowedIps: LOOPBACK });
    const answer = await postDlr(
      baseUrl,
      { status: 'delivered', err: 'x', price_info: { parts_count: 1.5 } },
      { secret: SECRET },
    );
    expect(answer.status).toBe(400);
    const message = (answer.body as { message: string[] }).message;
    expect(message).toEqual(
      expect.arrayContaining([
        'message_id must be a string',
        'status must be 1 to 32 upper-case letters or underscores',
        'err must be an integer number',
        'price_info.parts_count must be an integer number',
      ]),
    );
    expect(answer.text).not.toMatch(/\bat \w|\.ts:\d/);
    expect(events).toHaveLength(0);
  });

  it.each([
    ['not JSON', '{"status": DELIVRD'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"DELIVRD"'],
    ['null', 'null'],
  ])('answers 400 to a body that is %s', async (_case, raw) => {
    const { baseUrl, events } = await start({ signatureSecrets: [SECRET], allowedIps: LOOPBACK });
    const answer = await postDlr(baseUrl, raw, { secret: SECRET });
    expect(answer.status).toBe(400);
    expect(answer.text).not.toMatch(/\bat \w|\.ts:\d|node_modules/);
    expect(events).toHaveLength(0);
  });

  it('answers 413 to a body over 64 KiB and 415 to a body that is not JSON', async () => {
    const { baseUrl, events } = await start({ signatureSecrets: [SECRET], allowedIps: LOOPBACK });
    const big = dlrPayload({ padding: 'x'.repeat(70 * 1024) });
    expect((await postDlr(baseUrl, big, { secret: SECRET })).status).toBe(413);
    const plain = await postDlr(baseUrl, JSON.stringify(dlrPayload()), {
      secret: SECRET,
      headers: { 'content-type': 'text/plain' },
    });
    expect(plain.status).toBe(415);
    const vendorJson = await postDlr(baseUrl, JSON.stringify(dlrPayload()), {
      secret: SECRET,
      headers: { 'content-type': 'application/vnd.api+json' },
    });
    expect(vendorJson.status).toBe(415);
    expect(events).toHaveLength(0);
  });

  it('accepts an undocumented status and keeps it for wildcard consumers', async () => {
    const { baseUrl, events } = await start({ signatureSecrets: [SECRET], allowedIps: LOOPBACK });
    expect((await postDlr(baseUrl, dlrPayload({ status: 'NEW_THING' }), { secret: SECRET })).status).toBe(
      200,
    );
    expect(events.map((event) => event.status)).toEqual(['NEW_THING']);
    expect(events[0]!.isFinal).toBe(false);
  });

  it('never accepts a report when the raw body is unavailable', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
      errors.push(String(message));
    });
    try {
      const { baseUrl, events } = await start(
        { signatureSecrets: [SECRET], allowedIps: LOOPBACK },
        { rawBody: false },
      );
      const answer = await postDlr(baseUrl, dlrPayload(), { secret: SECRET });
      expect(answer.status).toBe(500);
      expect(answer.text).toContain('rawBody: true');
      expect(events).toHaveLength(0);
      expect(errors.some((message) => message.includes('raw request body is not available'))).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  describe('client IP', () => {
    const spoofed = { 'x-forwarded-for': '203.0.113.7' };

    it('ignores X-Forwarded-For unless the adapter trusts the proxy', async () => {
      const { baseUrl } = await start({ signatureSecrets: [SECRET], allowedIps: ['203.0.113.7'] });
      expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET, headers: spoofed })).status).toBe(403);
    });

    it('uses X-Forwarded-For when the adapter trusts the proxy', async () => {
      const { baseUrl, events } = await start(
        { signatureSecrets: [SECRET], allowedIps: ['203.0.113.7'] },
        { trustProxy: true },
      );
      expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET, headers: spoofed })).status).toBe(200);
      expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(403);
      expect(events).toHaveLength(1);
    });

    it.each([
      ['an IPv4 CIDR', ['127.0.0.0/8'], 200],
      ['an IPv6 CIDR that excludes us', ['2001:db8::/32'], 403],
      ['an IPv4-mapped entry', ['::ffff:127.0.0.1'], 200],
      ['a CIDR that excludes us', ['10.0.0.0/8'], 403],
    ])('matches %s', async (_case, allowedIps, status) => {
      const { baseUrl } = await start({ signatureSecrets: [SECRET], allowedIps });
      expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(status);
    });

    it('matches IPv6 entries', async () => {
      const { baseUrl } = await start(
        { signatureSecrets: [SECRET], allowedIps: ['::1/128'] },
        { host: '::1' },
      );
      expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
    });

    it('matches an IPv4 client that a dual-stack server sees as ::ffff:127.0.0.1', async () => {
      @Controller('whoami')
      class WhoAmIController {
        @Get() whoami(@Req() request: { ip: string }) {
          return { ip: request.ip };
        }
      }
      running = await startApp(
        adapter,
        {
          imports: [MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: ['127.0.0.1'] })],
          controllers: [WhoAmIController],
        },
        { host: '::' },
      );
      const seen = (await (await fetch(`${running.baseUrl}/whoami`)).json()) as { ip: string };
      expect(seen.ip).toBe('::ffff:127.0.0.1');
      expect((await postDlr(running.baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
    });
  });

  describe('forRootAsync', () => {
    it('reads options through @nestjs/config with useFactory', async () => {
      running = await startApp(adapter, {
        imports: [
          MessenteDlrModule.forRootAsync({
            imports: [
              ConfigModule.forRoot({
                ignoreEnvFile: true,
                load: [() => ({ DLR_SECRET: 'from-config', DLR_PATH: 'cfg/dlr' })],
              }),
            ],
            inject: [ConfigService],
            useFactory: (config: ConfigService) => ({
              path: config.getOrThrow<string>('DLR_PATH'),
              signatureSecrets: [config.getOrThrow<string>('DLR_SECRET')],
              allowedIps: LOOPBACK,
            }),
          }),
        ],
      });
      const events = collect(running.app.get(DeliveryStatusEvents));
      expect(
        (await postDlr(running.baseUrl, dlrPayload(), { secret: 'from-config', path: 'cfg/dlr' })).status,
      ).toBe(200);
      expect((await postDlr(running.baseUrl, dlrPayload(), { secret: SECRET, path: 'cfg/dlr' })).status).toBe(
        401,
      );
      expect(events).toHaveLength(1);
    });

    it('accepts useClass and isGlobal', async () => {
      @Injectable()
      class DlrOptionsFactory {
        createMessenteDlrOptions(): MessenteDlrModuleOptions {
          return { signatureSecrets: ['class-secret'], allowedIps: LOOPBACK };
        }
      }
      @Injectable()
      class Consumer {
        constructor(readonly events: DeliveryStatusEvents) {}
      }
      @Module({ providers: [Consumer] })
      class FeatureModule {}
      running = await startApp(adapter, {
        imports: [
          MessenteDlrModule.forRootAsync({ useClass: DlrOptionsFactory, isGlobal: true }),
          FeatureModule,
        ],
      });
      const events = collect(running.app.get(Consumer).events);
      expect((await postDlr(running.baseUrl, dlrPayload(), { secret: 'class-secret' })).status).toBe(200);
      expect(events).toHaveLength(1);
    });

    it('accepts useExisting', async () => {
      @Injectable()
      class SharedOptions {
        createMessenteDlrOptions(): MessenteDlrModuleOptions {
          return { signatureSecrets: ['existing-secret'], allowedIps: LOOPBACK, path: 'existing/dlr' };
        }
      }
      @Module({ providers: [SharedOptions], exports: [SharedOptions] })
      class OptionsModule {}
      running = await startApp(adapter, {
        imports: [MessenteDlrModule.forRootAsync({ imports: [OptionsModule], useExisting: SharedOptions })],
      });
      const answer = await postDlr(running.baseUrl, dlrPayload(), {
        secret: 'existing-secret',
        path: 'existing/dlr',
      });
      expect(answer.status).toBe(200);
    });
  });

  it('lets a global auth guard exempt the webhook through controllerDecorators', async () => {
    const IS_PUBLIC = 'isPublic';
    @Injectable()
    class AuthGuard implements CanActivate {
      constructor(private readonly reflector: Reflector) {}
      canActivate(context: ExecutionContext): boolean {
        return (
          this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]) ===
          true
        );
      }
    }
    @Controller('private')
    class PrivateController {
      @Get() get() {
        return 'secret';
      }
    }
    running = await startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          signatureSecrets: [SECRET],
          allowedIps: LOOPBACK,
          controllerDecorators: [SetMetadata(IS_PUBLIC, true)],
        }),
      ],
      controllers: [PrivateController],
      providers: [{ provide: APP_GUARD, useClass: AuthGuard }],
    });
    expect((await fetch(`${running.baseUrl}/private`)).status).toBe(403);
    expect((await postDlr(running.baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
  });
});

describe('misconfiguration fails the bootstrap', () => {
  it.each<[string, MessenteDlrModuleOptions, RegExp]>([
    ['open endpoint', { allowedIps: false }, /`allowedIps` is false and no signature secret/],
    [
      'malformed CIDR',
      { signatureSecrets: [SECRET], allowedIps: ['10.0.0.0/33'] },
      /`allowedIps` has a malformed IP or CIDR: "10.0.0.0\/33"/,
    ],
    [
      'malformed IP',
      { signatureSecrets: [SECRET], allowedIps: ['999.1.1.1'] },
      /`allowedIps` has a malformed/,
    ],
    ['empty path', { signatureSecrets: [SECRET], path: ' / ' }, /`path` must be a non-empty route/],
    ['empty secret', { signatureSecrets: [''] }, /`signatureSecrets\[0\]` must be a non-empty string/],
    [
      'a lone string as secrets',
      { signatureSecrets: 'secret' as unknown as string[] },
      /`signatureSecrets` must be an array of strings/,
    ],
    [
      'reconcile without concurrency',
      { signatureSecrets: [SECRET], reconcile: { intervalMs: 1_000, concurrency: 0 } },
      /`reconcile.concurrency` must be a positive integer/,
    ],
  ])('%s', async (_case, options, message) => {
    @Module({ imports: [MessenteDlrModule.forRoot(options)] })
    class BadModule {}
    await expect(NestFactory.create(BadModule, { logger: false, abortOnError: false })).rejects.toThrow(
      message,
    );
  });

  it('allows an open endpoint only with insecure: true', async () => {
    const running = await startApp('express', {
      imports: [MessenteDlrModule.forRoot({ allowedIps: false, insecure: true })],
    });
    try {
      expect((await postDlr(running.baseUrl, dlrPayload())).status).toBe(200);
    } finally {
      await running.close();
    }
  });
});
