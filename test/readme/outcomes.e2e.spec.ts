import { MessenteDlrModule, MESSENTE_DLR_IPS } from 'nestjs-messente-dlr';
import { buildSendAnswer, dlrPayload } from 'nestjs-messente-dlr/testing';
import { ADAPTERS, postDlr, startApp, waitFor, type TestApp } from '../support/app.js';
import { OrderNotifications } from './outcomes/order-notifications.js';

const SECRET = 'readme-outcomes';

// README "Outcomes": the fallback example, failures with their reason, and overdue, run.
describe.each(ADAPTERS)('README Outcomes (%s)', (adapter) => {
  let app: TestApp;
  let orders: OrderNotifications;

  /** The app, whose sends are overdue `overdueAfterMs` after they are tracked. */
  async function start(overdueAfterMs = 3_600_000): Promise<void> {
    app = await startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          allowedIps: [...MESSENTE_DLR_IPS, '127.0.0.1', '::1'],
          signatureSecrets: [SECRET],
          tracking: { overdueAfterMs, sweepIntervalMs: 20 },
        }),
      ],
      providers: [OrderNotifications],
    });
    orders = app.app.get(OrderNotifications);
  }
  afterEach(() => app?.close());

  const post = (answer: ReturnType<typeof buildSendAnswer>, index: number, status: string, err = 0) =>
    postDlr(
      app.baseUrl,
      dlrPayload({
        message_id: answer.messages[index]!.message_id,
        omnimessage_id: answer.omnimessage_id,
        channel: answer.messages[index]!.channel,
        status,
        err,
      }),
      { secret: SECRET },
    );

  it('a Viber → SMS fallback is one delivered outcome, via sms', async () => {
    await start();
    // What a send with the Viber → SMS fallback answers.
    const answer = buildSendAnswer({ channels: ['viber', 'sms'] });
    await orders.sent('123', answer);
    await post(answer, 0, 'FAILED', 1);
    await post(answer, 1, 'DELIVRD');
    await waitFor(() => orders.log.length === 1);
    expect(orders.log).toEqual(['order-123 delivered via sms']);
  });

  it('a send that failed on every channel, with its reason', async () => {
    await start();
    const answer = buildSendAnswer({ channels: ['sms'] });
    await orders.sent('124', answer);
    await post(answer, 0, 'UNDELIV', 4);
    await waitFor(() => orders.log.length === 1);
    expect(orders.log).toEqual(['order-124 failed (account_not_credited, retry: false)']);
  });

  it('a send that heard nothing by its deadline is overdue', async () => {
    await start(100);
    await orders.sent('125', buildSendAnswer());
    await waitFor(() => orders.log.length === 1);
    expect(orders.log).toEqual(['order-125 overdue']);
  });
});
