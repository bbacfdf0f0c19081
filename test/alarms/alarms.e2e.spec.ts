import { Injectable } from '@nestjs/common';
import {
  DeliveryStatusService,
  MessenteDlrModule,
  OnDlrAlarm,
  type DeliveryAlarm,
  type MessenteDlrModuleOptions,
} from '../../lib/index.js';
import { buildSendAnswer, dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, delay, postDlr, startApp, waitFor, type TestApp } from '../support/app.js';

const SECRET = 'alarm-secret';

@Injectable()
class AlarmHandlers {
  readonly alarms: DeliveryAlarm[] = [];
  readonly accountAlarms: DeliveryAlarm[] = [];
  failingCalls = 0;

  @OnDlrAlarm() onAlarm(alarm: DeliveryAlarm): void {
    this.alarms.push(alarm);
  }

  @OnDlrAlarm('account') onAccount(alarm: DeliveryAlarm): void {
    this.accountAlarms.push(alarm);
  }

  // Runs on every alarm and always fails: logged, while the webhook and the others carry on.
  @OnDlrAlarm('*') async onAnyFailing(): Promise<void> {
    this.failingCalls++;
    await delay(1);
    throw new Error('pager down');
  }

  of(kind: DeliveryAlarm['kind']): { state: string; detail: unknown }[] {
    return this.alarms.filter((alarm) => alarm.kind === kind).map(({ state, detail }) => ({ state, detail }));
  }
}

describe.each(ADAPTERS)('@OnDlrAlarm over real HTTP (%s)', (adapter) => {
  let running: TestApp | undefined;
  let handlers: AlarmHandlers;

  async function start(options: Partial<MessenteDlrModuleOptions> = {}): Promise<TestApp> {
    running = await startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          // `accounts` replaces the top-level secret.
          ...(options.accounts ? {} : { signatureSecrets: [SECRET] }),
          allowedIps: false,
          ...options,
        }),
      ],
      providers: [AlarmHandlers],
    });
    handlers = running.app.get(AlarmHandlers);
    return running;
  }

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('10 refused requests in a row raise refusals once; accepted traffic clears it once', async () => {
    const { baseUrl } = await start();
    for (let i = 0; i < 9; i++) {
      expect((await postDlr(baseUrl, dlrPayload(), { secret: 'not-the-secret' })).status).toBe(401);
    }
    await delay(50);
    // Nine requests are fewer than minRequests (10): nothing yet.
    expect(handlers.alarms).toEqual([]);
    expect((await postDlr(baseUrl, dlrPayload(), { secret: 'not-the-secret' })).status).toBe(401);
    await waitFor(() => handlers.alarms.length === 1);
    const [raised] = handlers.alarms;
    expect(raised).toMatchObject({
      kind: 'refusals',
      state: 'raised',
      detail: { requests: 10, refused: 10, ratio: 1, topReason: 'signature_invalid', windowMs: 300_000 },
    });
    expect(raised!.since).toBeInstanceOf(Date);
    expect(Object.isFrozen(raised)).toBe(true);

    // More refusals keep it raised without a second event.
    expect((await postDlr(baseUrl, dlrPayload(), { secret: 'not-the-secret' })).status).toBe(401);
    // 11 refused: the ratio falls to 0.5 (the threshold, not above it) at the 11th accepted.
    for (let i = 0; i < 10; i++) {
      expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
    }
    await delay(50);
    expect(handlers.of('refusals').map(({ state }) => state)).toEqual(['raised']);
    expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
    await waitFor(() => handlers.alarms.length === 2);
    for (let i = 0; i < 5; i++) await postDlr(baseUrl, dlrPayload(), { secret: SECRET });
    await delay(50);
    expect(handlers.of('refusals')).toEqual([
      { state: 'raised', detail: expect.objectContaining({ refused: 10 }) },
      {
        state: 'cleared',
        detail: { requests: 22, refused: 11, ratio: 0.5, topReason: 'signature_invalid', windowMs: 300_000 },
      },
    ]);
    // The failing handler ran for both transitions, and failed each time without harm.
    expect(handlers.failingCalls).toBe(2);
  });

  it('refusals also clears once the window holds no refusal at all', async () => {
    const { baseUrl } = await start({ alarms: { windowMs: 2_000, minRequests: 3, refusalRatio: 0 } });
    for (let i = 0; i < 3; i++) await postDlr(baseUrl, dlrPayload(), { secret: 'nope' });
    await waitFor(() => handlers.alarms.length === 1);
    // No traffic at all: the refusals leave the 2-second window and the timer clears it.
    await waitFor(() => handlers.alarms.length === 2, 4_000);
    expect(handlers.of('refusals')).toEqual([
      { state: 'raised', detail: expect.objectContaining({ requests: 3, refused: 3 }) },
      { state: 'cleared', detail: expect.objectContaining({ refused: 0, topReason: null }) },
    ]);
  });

  it('silence: raised once while a tracked send is pending and nothing arrives, cleared by a report', async () => {
    const { baseUrl, app } = await start({ alarms: { silentForMs: 300 } });
    // Nothing is pending: however long the quiet, no silence.
    await delay(500);
    expect(handlers.alarms).toEqual([]);

    const sent = buildSendAnswer({ channels: ['sms'] });
    const trackedAt = Date.now();
    await app.get(DeliveryStatusService).track(sent);
    await waitFor(() => handlers.alarms.length === 1, 3_000);
    expect(Date.now() - trackedAt).toBeGreaterThanOrEqual(300);
    expect(handlers.alarms[0]).toMatchObject({
      kind: 'silence',
      state: 'raised',
      detail: { silentForMs: 300, lastReportAt: null },
    });
    // Still silent, still pending: no second event.
    await delay(600);
    expect(handlers.of('silence').map(({ state }) => state)).toEqual(['raised']);

    const report = dlrPayload({
      message_id: sent.messages[0]!.message_id,
      omnimessage_id: sent.omnimessage_id,
      channel: 'sms',
      status: 'DELIVRD',
    });
    const answered = Date.now();
    expect((await postDlr(baseUrl, report, { secret: SECRET })).status).toBe(200);
    await waitFor(() => handlers.alarms.length === 2);
    const cleared = handlers.alarms[1]!;
    expect(cleared).toMatchObject({ kind: 'silence', state: 'cleared', detail: { silentForMs: 300 } });
    expect(cleared.kind === 'silence' && cleared.detail.lastReportAt!.getTime()).toBeGreaterThanOrEqual(
      answered - 1_000,
    );
    // Delivered: nothing is pending any more, so the quiet that follows raises nothing.
    await delay(700);
    expect(handlers.of('silence').map(({ state }) => state)).toEqual(['raised', 'cleared']);
  });

  it('account: an err 4 report raises one alarm per account and reason, with its reason', async () => {
    const { baseUrl } = await start({ accounts: [{ id: 'shop-ee', signatureSecrets: [SECRET] }] });
    const outOfCredit = () => dlrPayload({ status: 'FAILED', err: 4 });
    expect((await postDlr(baseUrl, outOfCredit(), { secret: SECRET })).status).toBe(200);
    await waitFor(() => handlers.accountAlarms.length === 1);
    expect(handlers.accountAlarms[0]).toMatchObject({
      kind: 'account',
      state: 'raised',
      detail: { account: 'shop-ee', reason: 'account_not_credited', err: 4 },
    });
    // Another message out of credit, and a failure that is not the account's: nothing new.
    expect((await postDlr(baseUrl, outOfCredit(), { secret: SECRET })).status).toBe(200);
    expect(
      (await postDlr(baseUrl, dlrPayload({ status: 'FAILED', err: 3 }), { secret: SECRET })).status,
    ).toBe(200);
    // Another account-level reason is another alarm.
    expect(
      (await postDlr(baseUrl, dlrPayload({ status: 'FAILED', err: 7 }), { secret: SECRET })).status,
    ).toBe(200);
    await waitFor(() => handlers.accountAlarms.length === 2);
    await delay(50);
    expect(handlers.accountAlarms.map(({ state, detail }) => [state, detail])).toEqual([
      ['raised', expect.objectContaining({ account: 'shop-ee', reason: 'account_not_credited' })],
      ['raised', expect.objectContaining({ account: 'shop-ee', reason: 'sender_not_allowed', err: 7 })],
    ]);
    // `@OnDlrAlarm()` without a kind heard them too; nothing else was raised.
    expect(handlers.alarms.map(({ kind }) => kind)).toEqual(['account', 'account']);
  });

  it('account: without accounts, detail.account is null', async () => {
    const { baseUrl } = await start();
    await postDlr(baseUrl, dlrPayload({ status: 'FAILED', err: 4 }), { secret: SECRET });
    await waitFor(() => handlers.accountAlarms.length === 1);
    expect(handlers.accountAlarms[0]!.detail).toMatchObject({
      account: null,
      reason: 'account_not_credited',
    });
  });
});
