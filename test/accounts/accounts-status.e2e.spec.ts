import {
  DLR_STORE,
  DeliveryStatusService,
  MessenteDlrModule,
  type DlrStore,
  type MessenteDlrModuleOptions,
} from '../../lib/index.js';
import { buildSendAnswer, dlrPayload } from '../../lib/testing/index.js';
import { OutcomeTrackingService } from '../../lib/services/outcome-tracking.service.js';
import { ADAPTERS, postDlr, startApp, type TestApp } from '../support/app.js';
import { useFakeMessenteApi } from '../support/fake-api.js';

const EE = { username: 'ee-user', password: 'ee-api-password' };
const LV = { username: 'lv-user', password: 'lv-api-password' };
const TENANT = { username: 'tenant-user', password: 'tenant-api-password' };
const basic = (key: { username: string; password: string }) =>
  `Basic ${Buffer.from(`${key.username}:${key.password}`).toString('base64')}`;

const LIST: MessenteDlrModuleOptions['accounts'] = [
  { id: 'shop-ee', signatureSecrets: ['ee-signing'], credentials: EE },
  { id: 'shop-lv', signatureSecrets: ['lv-signing'], credentials: LV },
  { id: 'no-api', signatureSecrets: ['no-api-signing'] },
];

describe.each(ADAPTERS)('status queries per account on %s', (adapter) => {
  const fake = useFakeMessenteApi({ ...EE, moreKeys: [LV, TENANT] });
  let running: TestApp | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  async function start(accounts: MessenteDlrModuleOptions['accounts']) {
    running = await startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          accounts,
          apiUrl: fake.apiUrl,
          apiRetries: 0,
          allowedIps: ['127.0.0.1'],
          tracking: { sweepIntervalMs: 0 },
        }),
      ],
    });
    return {
      baseUrl: running.baseUrl,
      statuses: running.app.get(DeliveryStatusService),
      store: running.app.get<DlrStore>(DLR_STORE),
    };
  }

  /** Posts an ACK of a fresh message signed with `secret`, and makes the fake know its omnimessage as DELIVRD. */
  async function sendAck(baseUrl: string, secret: string) {
    const payload = dlrPayload({ status: 'ACK' });
    expect((await postDlr(baseUrl, payload, { secret })).status).toBe(200);
    const omnimessageId = payload['omnimessage_id'] as string;
    fake.api.setReport(omnimessageId, {
      omnimessage_id: omnimessageId,
      to: payload['to'],
      statuses: [{ ...payload, status: 'DELIVRD' }],
    });
    return { omnimessageId, messageId: payload['message_id'] as string };
  }

  const authOf = (omnimessageId: string) =>
    fake.api.requests.filter((r) => r.path.includes(omnimessageId)).map((r) => r.headers.authorization);

  it('query() and current() ask with the account credentials, and the answer keeps the account', async () => {
    const { baseUrl, statuses, store } = await start(LIST);
    const ee = await sendAck(baseUrl, 'ee-signing');
    const lv = await sendAck(baseUrl, 'lv-signing');
    await statuses.query(ee.omnimessageId, { account: 'shop-lv' });
    expect(authOf(ee.omnimessageId)).toEqual([basic(LV)]);
    // current() without an account uses the one the reports came with.
    const current = await statuses.current(lv.omnimessageId);
    expect(current.map((event) => [event.status, event.account])).toEqual([['DELIVRD', 'shop-lv']]);
    expect(authOf(lv.omnimessageId)).toEqual([basic(LV)]);
    expect((await store.latest(lv.messageId))?.account).toBe('shop-lv');
    await statuses.current(ee.omnimessageId);
    expect(authOf(ee.omnimessageId)).toEqual([basic(LV), basic(EE)]);

    await expect(statuses.query(ee.omnimessageId, { account: 'shop-xx' })).rejects.toThrow(
      /account: "shop-xx" is not one of/,
    );
    await expect(statuses.query(ee.omnimessageId, { account: 'no-api' })).rejects.toThrow(
      /credentials are not configured for account "no-api"/,
    );
    // Without an account, there are no top-level credentials to use.
    await expect(statuses.query(ee.omnimessageId)).rejects.toThrow(/credentials are not configured/);
    expect(authOf(ee.omnimessageId)).toHaveLength(2);
  });

  it('current() of a tracked send with no report yet asks with the account it was tracked with', async () => {
    const { statuses } = await start(LIST);
    const sent = buildSendAnswer();
    await statuses.track(sent, { account: 'shop-lv' });
    fake.api.setReport(sent.omnimessage_id, {
      omnimessage_id: sent.omnimessage_id,
      to: sent.to,
      statuses: [
        dlrPayload({
          message_id: sent.messages[0]!.message_id,
          omnimessage_id: sent.omnimessage_id,
          status: 'DELIVRD',
        }),
      ],
    });
    const current = await statuses.current(sent.omnimessage_id);
    expect(authOf(sent.omnimessage_id)).toEqual([basic(LV)]);
    expect(current.map((event) => [event.status, event.account])).toEqual([['DELIVRD', 'shop-lv']]);
  });

  it('reconcile() asks about each omnimessage with its own account credentials', async () => {
    const { baseUrl, statuses, store } = await start(LIST);
    const ee = await sendAck(baseUrl, 'ee-signing');
    const lv = await sendAck(baseUrl, 'lv-signing');
    const result = await statuses.reconcile({ olderThanMs: 0 });
    expect(result).toEqual({ queried: 2, changes: 2, failed: 0 });
    expect(authOf(ee.omnimessageId)).toEqual([basic(EE)]);
    expect(authOf(lv.omnimessageId)).toEqual([basic(LV)]);
    expect((await store.latest(ee.messageId))?.account).toBe('shop-ee');
  });

  it('track() remembers the account, and the overdue check asks with its credentials', async () => {
    const { statuses, store } = await start(LIST);
    const sent = buildSendAnswer();
    const tracked = await statuses.track(sent, { account: 'shop-lv', deadline: new Date(Date.now() - 1) });
    expect(tracked.account).toBe('shop-lv');
    fake.api.setReport(sent.omnimessage_id, {
      omnimessage_id: sent.omnimessage_id,
      to: sent.to,
      statuses: [{ message_id: sent.messages[0]!.message_id, channel: 'sms', status: 'DELIVRD', err: 0 }],
    });
    await running!.app.get(OutcomeTrackingService).sweep();
    expect(authOf(sent.omnimessage_id)).toEqual([basic(LV)]);
    expect((await statuses.outcome(sent.omnimessage_id))?.result).toBe('delivered');
    expect((await store.latest(sent.messages[0]!.message_id))?.account).toBe('shop-lv');
    // An account without credentials is not asked: it becomes overdue at once.
    const quiet = buildSendAnswer();
    await statuses.track(quiet, { account: 'no-api', deadline: new Date(Date.now() - 1) });
    await running!.app.get(OutcomeTrackingService).sweep();
    expect(authOf(quiet.omnimessage_id)).toEqual([]);
    expect((await statuses.outcome(quiet.omnimessage_id))?.result).toBe('overdue');

    await expect(statuses.track(buildSendAnswer(), { account: 'shop-xx' })).rejects.toThrow(
      /account: "shop-xx" is not one of/,
    );
    await expect(statuses.track(buildSendAnswer(), { account: 'a b' })).rejects.toThrow(
      /account must be 1–64/,
    );
  });

  it('resolver form: credentials come from the resolver answer', async () => {
    const { baseUrl, statuses } = await start({
      resolve: async (id) =>
        id === 't-1'
          ? { signatureSecrets: ['t1-signing'], credentials: TENANT }
          : id === 't-2'
            ? { signatureSecrets: ['t2'] }
            : null,
    });
    const payload = dlrPayload({ status: 'ACK' });
    const posted = await postDlr(baseUrl, payload, { secret: 't1-signing', path: 'messente/dlr/t-1' });
    expect(posted.status).toBe(200);
    const omnimessageId = payload['omnimessage_id'] as string;
    fake.api.setReport(omnimessageId, {
      omnimessage_id: omnimessageId,
      statuses: [{ ...payload, status: 'SEEN' }],
    });
    const current = await statuses.current(omnimessageId);
    expect(current.map((event) => [event.status, event.account])).toEqual([['SEEN', 't-1']]);
    expect(authOf(omnimessageId)).toEqual([basic(TENANT)]);
    await expect(statuses.query(omnimessageId, { account: 't-9' })).rejects.toThrow(/"t-9" is unknown/);
    await expect(statuses.query(omnimessageId, { account: 't-2' })).rejects.toThrow(/account "t-2"/);
    expect(authOf(omnimessageId)).toHaveLength(1);
  });
});
