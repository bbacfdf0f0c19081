import fc from 'fast-check';
import {
  DeliveryReportStats,
  DeliveryStatusChanged,
  DeliveryStatusEvents,
  DeliveryStatusService,
  DLR_STORE,
  MessenteDlrModule,
  type DlrStore,
  type MessenteDlrModuleOptions,
} from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, delay, postDlr, startApp, waitFor, type TestApp } from '../support/app.js';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';

const LOOPBACK = ['127.0.0.1', '::1'];
const LIST: MessenteDlrModuleOptions['accounts'] = [
  {
    id: 'shop-ee',
    signatureSecrets: ['ee-new', 'ee-old'],
    credentials: { username: 'ee-user', password: 'ee-api-password' },
  },
  { id: 'shop-lv', signatureSecrets: ['lv-password'] },
];

/** A resolver of tenants `t-<n>` (secret `secret-<n>`) that records its calls; `boom` throws, `slow` hangs. */
function tenants(delayMs = 0) {
  const calls: string[] = [];
  const resolve = async (id: string) => {
    calls.push(id);
    await delay(delayMs);
    if (id === 'boom') throw new Error('tenant database down');
    if (id === 'slow') await delay(5_000);
    const match = /^t-(\d+)$/.exec(id);
    return match ? { signatureSecrets: [`secret-${match[1]}`, `old-${match[1]}`] } : null;
  };
  return { calls, resolve };
}

describe.each(ADAPTERS)('accounts over real HTTP on %s', (adapter) => {
  let running: TestApp | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  async function start(options: MessenteDlrModuleOptions) {
    running = await startApp(adapter, {
      imports: [MessenteDlrModule.forRoot({ allowedIps: LOOPBACK, ...options })],
    });
    const events: DeliveryStatusChanged[] = [];
    running.app.get(DeliveryStatusEvents).changes$.subscribe((event) => events.push(event));
    const stats = running.app.get(DeliveryReportStats);
    const store = running.app.get<DlrStore>(DLR_STORE);
    return { baseUrl: running.baseUrl, events, stats, store };
  }

  it('list form: attributes each report to the account whose secret signed it, by position', async () => {
    const { baseUrl, events, stats, store } = await start({ accounts: LIST });
    // Declared at startup, so an operator sees the accounts before any report.
    expect(stats.snapshot().secretsMatched).toEqual({ 'shop-ee': [0, 0, 0], 'shop-lv': [0] });
    const signed = [
      ['ee-old', 'shop-ee'],
      ['ee-new', 'shop-ee'],
      ['ee-old', 'shop-ee'],
      ['ee-api-password', 'shop-ee'],
      ['lv-password', 'shop-lv'],
    ] as const;
    for (const [secret] of signed) {
      const answer = await postDlr(baseUrl, dlrPayload(), { secret });
      expect(answer).toMatchObject({ status: 200, body: { outcome: 'change' } });
    }
    await waitFor(() => events.length === signed.length);
    expect(events.map((event) => event.account)).toEqual(signed.map(([, account]) => account));
    expect(stats.snapshot().secretsMatched).toEqual({ 'shop-ee': [1, 2, 1], 'shop-lv': [1] });
    // The store keeps the account with the report.
    expect((await store.latest(events[4]!.messageId))?.account).toBe('shop-lv');
    expect((await store.history(events[0]!.messageId))[0]?.account).toBe('shop-ee');
    const history = await running!.app.get(DeliveryStatusService).history(events[4]!.messageId);
    expect(history.map((entry) => entry.account)).toEqual(['shop-lv']);

    const wrong = await postDlr(baseUrl, dlrPayload(), { secret: 'someone-elses' });
    expect(wrong.status).toBe(401);
    expect(stats.snapshot().requests.refused).toEqual({ signature_invalid: 1 });
    expect(events).toHaveLength(5);
  });

  it('without accounts: account is null, and secretsMatched counts the default secrets', async () => {
    const { baseUrl, events, stats } = await start({
      signatureSecrets: ['one', 'two'],
      credentials: { username: 'u', password: 'two' },
    });
    await postDlr(baseUrl, dlrPayload(), { secret: 'two' });
    await waitFor(() => events.length === 1);
    expect(events.map((event) => event.account)).toEqual([null]);
    expect(stats.snapshot().secretsMatched).toEqual({ default: [0, 1] });
  });

  it('resolver form: the path names the account and only its secrets verify', async () => {
    const resolver = tenants();
    const { baseUrl, events, stats, store } = await start({ accounts: { resolve: resolver.resolve } });
    const ok = await postDlr(baseUrl, dlrPayload(), { secret: 'old-7', path: 'messente/dlr/t-7' });
    expect(ok).toMatchObject({ status: 200, body: { outcome: 'change' } });
    await waitFor(() => events.length === 1);
    expect(events.map((event) => event.account)).toEqual(['t-7']);
    expect((await store.latest(events[0]!.messageId))?.account).toBe('t-7');
    // Another tenant's secret on this tenant's path is refused.
    const wrongTenant = await postDlr(baseUrl, dlrPayload(), {
      secret: 'secret-8',
      path: 'messente/dlr/t-7',
    });
    expect(wrongTenant.status).toBe(401);
    // Without an account in the path there is no route.
    expect((await postDlr(baseUrl, dlrPayload(), { secret: 'secret-7' })).status).toBe(404);
    expect((await postDlr(baseUrl, dlrPayload(), { secret: 'x', path: 'messente/dlr/nobody' })).status).toBe(
      401,
    );
    expect((await postDlr(baseUrl, dlrPayload(), { secret: 'x', path: 'messente/dlr/boom' })).status).toBe(
      503,
    );
    // Cached for cacheTtlMs: t-7 and nobody were asked once each, boom's failure is not cached.
    expect((await postDlr(baseUrl, dlrPayload(), { secret: 'x', path: 'messente/dlr/boom' })).status).toBe(
      503,
    );
    await postDlr(baseUrl, dlrPayload(), { secret: 'x', path: 'messente/dlr/nobody' });
    expect(resolver.calls.sort()).toEqual(['boom', 'boom', 'nobody', 't-7']);
    const snapshot = stats.snapshot();
    expect(snapshot.requests.refused).toEqual({
      signature_invalid: 1,
      unknown_account: 2,
      account_lookup_failed: 2,
    });
    expect(
      snapshot.recentRefusals.map((refusal) => [refusal.reason, refusal.httpStatus]).slice(0, 2),
    ).toEqual([
      ['unknown_account', 401],
      ['account_lookup_failed', 503],
    ]);
    expect(snapshot.secretsMatched).toEqual({ 't-7': [0, 1] });
    expect(events).toHaveLength(1);
  });

  it('resolver form: a resolver slower than timeoutMs answers 503', async () => {
    const resolver = tenants();
    const { baseUrl, stats } = await start({ accounts: { resolve: resolver.resolve, timeoutMs: 100 } });
    const started = Date.now();
    expect((await postDlr(baseUrl, dlrPayload(), { secret: 'x', path: 'messente/dlr/slow' })).status).toBe(
      503,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(stats.snapshot().requests.refused).toEqual({ account_lookup_failed: 1 });
  });

  it('resolver form: concurrent requests for one id share one resolver call', async () => {
    const resolver = tenants(100);
    const { baseUrl, events } = await start({ accounts: { resolve: resolver.resolve } });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        postDlr(baseUrl, dlrPayload(), { secret: i % 2 ? 'secret-3' : 'old-3', path: 'messente/dlr/t-3' }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(new Array(12).fill(200));
    expect(resolver.calls).toEqual(['t-3']);
    await waitFor(() => events.length === 12);
    expect(events.every((event) => event.account === 't-3')).toBe(true);
  });

  it(
    'resolver form: an id outside the rule is 401 without a call, one inside is asked (fast-check)',
    replayable(async () => {
      const resolver = tenants();
      const { baseUrl, stats } = await start({ accounts: { resolve: resolver.resolve } });
      const idChars = fc.constantFrom(...'aZ9._-~!$;@%+é '.split(''));
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: idChars, minLength: 1, maxLength: 70 }), async (id) => {
          fc.pre(id !== '.' && id !== '..');
          const before = resolver.calls.length;
          const answer = await postDlr(baseUrl, dlrPayload(), {
            secret: 'x',
            path: `messente/dlr/${encodeURIComponent(id)}`,
          });
          expect(answer.status).toBe(401);
          const valid = /^[A-Za-z0-9._-]{1,64}$/.test(id);
          // Asked only for a valid id not asked before (answers are cached).
          const asked = resolver.calls.slice(before);
          if (!valid) expect(asked).toEqual([]);
          else expect(asked.every((call) => call === id)).toBe(true);
        }),
        { seed: FUZZ_SEED, numRuns: 60 },
      );
      expect(resolver.calls.every((id) => /^[A-Za-z0-9._-]{1,64}$/.test(id))).toBe(true);
      expect(stats.snapshot().requests.accepted).toBe(0);
    }),
  );
});
