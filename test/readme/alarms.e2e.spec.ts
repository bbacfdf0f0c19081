import { TerminusModule } from '@nestjs/terminus';
import { DeliveryStatusService, MessenteDlrModule } from 'nestjs-messente-dlr';
import { MessenteDlrHealthIndicator } from 'nestjs-messente-dlr/health';
import { buildSendAnswer, dlrPayload } from 'nestjs-messente-dlr/testing';
import { ADAPTERS, postDlr, startApp, waitFor, type TestApp } from '../support/app.js';
import { AlarmsHealthController } from './alarms/alarms-health.controller.js';
import { DeliveryPager } from './alarms/delivery-pager.js';

const SECRET = 'readme-alarms';

// README "Alarms" and docs/alarms.md: the pager handler and the health check, run.
describe.each(ADAPTERS)('README Alarms (%s)', (adapter) => {
  let app: TestApp;
  let pager: DeliveryPager;

  beforeEach(async () => {
    app = await startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          signatureSecrets: [SECRET],
          allowedIps: false,
          alarms: { silentForMs: 300 },
        }),
        TerminusModule,
      ],
      controllers: [AlarmsHealthController],
      providers: [DeliveryPager, MessenteDlrHealthIndicator],
    });
    pager = app.app.get(DeliveryPager);
  });
  afterEach(() => app.close());

  const health = async () => (await fetch(`${app.baseUrl}/health`)).status;

  it('pages on refusals and on an account problem; the health check turns down on refusals', async () => {
    expect(await health()).toBe(200);
    for (let i = 0; i < 10; i++) await postDlr(app.baseUrl, dlrPayload(), { secret: 'an-old-secret' });
    await waitFor(() => pager.pages.length === 1);
    expect(pager.pages).toEqual(['webhook refused 10/10: signature_invalid']);
    expect(await health()).toBe(503);

    for (let i = 0; i < 10; i++) await postDlr(app.baseUrl, dlrPayload(), { secret: SECRET });
    await waitFor(() => pager.pages.length === 2);
    expect(pager.pages[1]).toBe('resolved: refusals');
    expect(await health()).toBe(200);

    await postDlr(app.baseUrl, dlrPayload({ status: 'FAILED', err: 4 }), { secret: SECRET });
    await waitFor(() => pager.pages.length === 3);
    expect(pager.pages[2]).toBe('Messente account default: account_not_credited');
  });

  it('pages on silence while a tracked send is pending', async () => {
    await app.app.get(DeliveryStatusService).track(buildSendAnswer());
    await waitFor(() => pager.pages.length === 1, 3_000);
    expect(pager.pages).toEqual(['no delivery report for 0.3 s, sends pending']);
    await postDlr(app.baseUrl, dlrPayload(), { secret: SECRET });
    await waitFor(() => pager.pages.length === 2);
    expect(pager.pages[1]).toBe('resolved: silence');
  });
});
