import { Injectable } from '@nestjs/common';
import {
  DeliveryOutcomeChanged,
  DeliveryStatusChanged,
  DeliveryStatusService,
  MessenteDlrModule,
  OnDeliveryOutcome,
  OnDlrStatus,
  type DlrStore,
  type MessenteDlrModuleOptions,
} from '../../lib/index.js';
import { InMemoryDlrStore } from '../../lib/stores/in-memory-dlr.store.js';
import { buildSendAnswer, dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, startApp, waitFor, type TestApp } from '../support/app.js';
import { useFakeMessenteApi } from '../support/fake-api.js';

const SECRET = 'outcome-secret';

@Injectable()
class OutcomeHandlers {
  readonly outcomes: DeliveryOutcomeChanged[] = [];
  readonly failed: DeliveryOutcomeChanged[] = [];
  readonly statuses: DeliveryStatusChanged[] = [];
  failuresLeft = 0;
  flakyCalls = 0;

  @OnDeliveryOutcome('*') onAny(event: DeliveryOutcomeChanged): void {
    this.outcomes.push(event);
  }

  @OnDeliveryOutcome(['failed', 'overdue']) onTrouble(event: DeliveryOutcomeChanged): void {
    this.failed.push(event);
  }

  @OnDeliveryOutcome('delivered') onDelivered(): void {
    this.flakyCalls++;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('downstream down');
    }
  }

  @OnDlrStatus('*') onStatus(event: DeliveryStatusChanged): void {
    this.statuses.push(event);
  }
}

/** A report of message `index` of a send answer. */
function reportOf(sent: ReturnType<typeof buildSendAnswer>, index: number, status: string, err = 0) {
  return dlrPayload({
    message_id: sent.messages[index]!.message_id,
    omnimessage_id: sent.omnimessage_id,
    channel: sent.messages[index]!.channel,
    to: sent.to,
    status,
    err,
  });
}

describe.each(ADAPTERS)('outcomes of tracked sends (%s)', (adapter) => {
  const fake = useFakeMessenteApi({ username: 'user', password: SECRET });
  let app: TestApp;
  let handlers: OutcomeHandlers;
  let statuses: DeliveryStatusService;

  async function start(options: Partial<MessenteDlrModuleOptions> = {}): Promise<void> {
    app = await startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          allowedIps: ['127.0.0.1', '::1'],
          signatureSecrets: [SECRET],
          handlerRetryDelayMs: 5,
          ...options,
        }),
      ],
      providers: [OutcomeHandlers],
    });
    handlers = app.app.get(OutcomeHandlers);
    statuses = app.app.get(DeliveryStatusService);
  }

  afterEach(() => app?.close());

  it('a Viber → SMS fallback: one delivered outcome, with the ref, via sms; status events carry ref and reason', async () => {
    await start();
    const sent = buildSendAnswer({ channels: ['viber', 'sms'] });
    const tracked = await statuses.track(sent, { ref: 'order-123' });
    expect(tracked).toMatchObject({ result: 'pending', ref: 'order-123', to: sent.to, deliveredVia: null });
    expect(tracked.deadline.getTime()).toBeGreaterThan(Date.now() + 71 * 3_600_000);

    expect((await postDlr(app.baseUrl, reportOf(sent, 0, 'FAILED', 1), { secret: SECRET })).status).toBe(200);
    await waitFor(() => handlers.statuses.length === 1);
    expect(handlers.statuses[0]).toMatchObject({ ref: 'order-123', reason: 'delivery_failure', err: 1 });
    expect(handlers.outcomes).toEqual([]);

    await postDlr(app.baseUrl, reportOf(sent, 1, 'DELIVRD'), { secret: SECRET });
    await waitFor(() => handlers.outcomes.length === 1);
    const [event] = handlers.outcomes;
    expect(event).toBeInstanceOf(DeliveryOutcomeChanged);
    expect(event!.previousResult).toBe('pending');
    expect(event!.outcome).toMatchObject({
      omnimessageId: sent.omnimessage_id,
      ref: 'order-123',
      result: 'delivered',
      deliveredVia: 'sms',
    });
    expect(event!.outcome.settledAt).toBeInstanceOf(Date);
    expect(
      event!.outcome.messages.map((message) => [message.channel, message.status, message.reason]),
    ).toEqual([
      ['viber', 'FAILED', 'delivery_failure'],
      ['sms', 'DELIVRD', null],
    ]);
    expect(handlers.statuses[1]).toMatchObject({ ref: 'order-123', reason: null });

    // Later reports change nothing: delivered stays delivered, no second event.
    await postDlr(app.baseUrl, reportOf(sent, 0, 'DELIVRD'), { secret: SECRET });
    await waitFor(() => handlers.statuses.length === 3);
    expect((await statuses.outcome(sent.omnimessage_id))?.deliveredVia).toBe('sms');
    expect(handlers.outcomes).toHaveLength(1);
    expect((await statuses.findByRef('order-123')).map((outcome) => outcome.omnimessageId)).toEqual([
      sent.omnimessage_id,
    ]);
  });

  it('reports before track(): delivered at once, and the event fires once', async () => {
    await start();
    const sent = buildSendAnswer();
    await postDlr(app.baseUrl, reportOf(sent, 0, 'DELIVRD'), { secret: SECRET });
    await waitFor(() => handlers.statuses.length === 1);
    expect(handlers.statuses[0]!.ref).toBeNull();
    const tracked = await statuses.track(sent, { ref: 'login-7' });
    expect(tracked.result).toBe('delivered');
    const again = await statuses.track(sent);
    expect(again.result).toBe('delivered');
    await waitFor(() => handlers.outcomes.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handlers.outcomes).toHaveLength(1);
  });

  it('failed when every channel failed; the failed handler hears it', async () => {
    await start();
    const sent = buildSendAnswer({ channels: ['whatsapp', 'sms'] });
    await statuses.track(sent);
    await postDlr(app.baseUrl, reportOf(sent, 0, 'FAILED', 3), { secret: SECRET });
    await postDlr(app.baseUrl, reportOf(sent, 1, 'UNDELIV', 3), { secret: SECRET });
    await waitFor(() => handlers.failed.length === 1);
    expect(handlers.failed[0]!.outcome).toMatchObject({ result: 'failed', deliveredVia: null });
    expect(handlers.failed[0]!.outcome.messages.map((message) => message.reason)).toEqual([
      'invalid_number',
      'invalid_number',
    ]);
  });

  it('a failing outcome handler is retried alone; the others run once', async () => {
    await start();
    handlers.failuresLeft = 2;
    const sent = buildSendAnswer();
    await statuses.track(sent);
    await postDlr(app.baseUrl, reportOf(sent, 0, 'DELIVRD'), { secret: SECRET });
    await waitFor(() => handlers.flakyCalls === 3);
    expect(handlers.outcomes).toHaveLength(1);
  });

  it('refuses a malformed send answer or another ref, naming the field, and stores nothing', async () => {
    await start();
    await expect(statuses.track({ omnimessage_id: 'o-1', messages: [{ channel: 'sms' }] })).rejects.toThrow(
      'sent.messages[0].message_id',
    );
    expect(await statuses.outcome('o-1')).toBeNull();
    await expect(statuses.track(buildSendAnswer(), { ref: '' })).rejects.toThrow('ref');
    const sent = buildSendAnswer();
    await statuses.track(sent, { ref: 'a' });
    await expect(statuses.track(sent, { ref: 'b' })).rejects.toThrow(/another ref/);
    expect((await statuses.outcome(sent.omnimessage_id))?.ref).toBe('a');
  });

  it('overdue: the sweep makes a pending send overdue; a late report still delivers it', async () => {
    await start({ tracking: { sweepIntervalMs: 20 } });
    const sent = buildSendAnswer();
    await statuses.track(sent, { deadline: new Date(Date.now() - 1) });
    await waitFor(() => handlers.failed.length === 1);
    expect(handlers.failed[0]).toMatchObject({ previousResult: 'pending', outcome: { result: 'overdue' } });
    await postDlr(app.baseUrl, reportOf(sent, 0, 'DELIVRD'), { secret: SECRET });
    await waitFor(() => handlers.outcomes.length === 2);
    expect(handlers.outcomes[1]).toMatchObject({
      previousResult: 'overdue',
      outcome: { result: 'delivered' },
    });
  });

  it('overdue with credentials asks the status API once first and records its answer', async () => {
    await start({
      tracking: { sweepIntervalMs: 20 },
      credentials: { username: 'user', password: SECRET },
      apiUrl: fake.apiUrl,
    });
    const answered = buildSendAnswer();
    fake.api.setReport(answered.omnimessage_id, {
      omnimessage_id: answered.omnimessage_id,
      to: answered.to,
      statuses: [
        {
          message_id: answered.messages[0]!.message_id,
          channel: 'sms',
          status: 'DELIVRD',
          err: 0,
          error: null,
        },
      ],
    });
    const unknown = buildSendAnswer();
    await statuses.track(answered, { deadline: new Date(Date.now() - 1) });
    await statuses.track(unknown, { deadline: new Date(Date.now() - 1) });
    await waitFor(() => handlers.outcomes.length === 2);
    const byId = new Map(
      handlers.outcomes.map((event) => [event.outcome.omnimessageId, event.outcome.result]),
    );
    expect(byId.get(answered.omnimessage_id)).toBe('delivered');
    // A 404 from the API does not hold it back.
    expect(byId.get(unknown.omnimessage_id)).toBe('overdue');
    const asked = fake.api.requests.map((request) => request.path);
    expect(asked.filter((url) => url.includes(answered.omnimessage_id))).toHaveLength(1);
    expect(asked.filter((url) => url.includes(unknown.omnimessage_id))).toHaveLength(1);
  });

  it('a store without tracking: track() says why', async () => {
    const plain = new InMemoryDlrStore();
    const store: DlrStore = {
      record: (...args) => plain.record(...args),
      complete: (key) => plain.complete(key),
      release: (key) => plain.release(key),
      claimPending: (...args) => plain.claimPending(...args),
      latest: (id) => plain.latest(id),
      history: (id) => plain.history(id),
      forOmnimessage: (id) => plain.forOmnimessage(id),
      unsettled: (...args) => plain.unsettled(...args),
      ping: () => plain.ping(),
      countPending: () => plain.countPending(),
      listPending: (limit) => plain.listPending(limit),
      recent: (limit) => plain.recent(limit),
      search: (...args) => plain.search(...args),
    };
    await start({ store });
    await expect(statuses.track(buildSendAnswer())).rejects.toThrow(/does not keep outcomes/);
  });
});

describe('@OnDeliveryOutcome at bootstrap', () => {
  it('refuses a result that fires no event, naming it and the handler', async () => {
    @Injectable()
    class Wrong {
      @OnDeliveryOutcome('pending' as 'failed') onPending(): void {}
    }
    await expect(
      startApp('express', {
        imports: [MessenteDlrModule.forRoot({ allowedIps: false, signatureSecrets: [SECRET] })],
        providers: [Wrong],
      }),
    ).rejects.toThrow("@OnDeliveryOutcome('pending') on Wrong.onPending: no such result");
  });
});
