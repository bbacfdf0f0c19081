import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { DeliveryStatusService, MessenteDlrModule } from '../../lib/index.js';
import { ADAPTERS, startApp, type TestApp } from '../support/app.js';
import { jsonOf, runCli } from '../support/cli.js';

const SECRET = 'scenario-sends-secret';

/** The app's own endpoint that `--track` posts each send to. */
@Controller('sends')
class SendsController {
  constructor(private readonly statuses: DeliveryStatusService) {}

  @Post()
  @HttpCode(201)
  async track(@Body() body: { ref: string | null; answer: unknown }) {
    return this.statuses.track(body.answer, { ref: body.ref ?? undefined });
  }
}

const SCENARIO = {
  sends: { 'order-1': { channels: ['viber', 'sms'], ref: 'order-1' } },
  steps: [
    {
      name: 'viber fails',
      report: {
        message_id: '$send.order-1.viber',
        omnimessage_id: '$send.order-1.omnimessage_id',
        channel: 'viber',
        status: 'FAILED',
        err: 1,
      },
      expect: { httpStatus: 200, outcome: 'change' },
    },
    {
      name: 'sms delivers',
      report: {
        message_id: '$send.order-1.sms',
        omnimessage_id: '$send.order-1.omnimessage_id',
        channel: 'sms',
        status: 'DELIVRD',
      },
    },
  ],
};

describe.each(ADAPTERS)('messente-dlr scenario with sends (%s)', (adapter) => {
  let app: TestApp;
  let dir: string;
  const write = async (scenario: unknown) => {
    const file = join(dir, `scenario-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, JSON.stringify(scenario));
    return file;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'messente-dlr-sends-'));
    app = await startApp(adapter, {
      imports: [MessenteDlrModule.forRoot({ allowedIps: ['127.0.0.1', '::1'], signatureSecrets: [SECRET] })],
      controllers: [SendsController],
    });
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('tracks the sends at --track, fills the steps with their ids, and the app sees one outcome', async () => {
    const file = await write(SCENARIO);
    const run = await runCli([
      'scenario',
      file,
      '--url',
      `${app.baseUrl}/messente/dlr`,
      '--secret',
      SECRET,
      '--track',
      `${app.baseUrl}/sends`,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const document = jsonOf<{
      sends: {
        name: string;
        ref: string;
        answer: { omnimessage_id: string; messages: { message_id: string }[] };
      }[];
      steps: { report: Record<string, unknown> }[];
    }>(run);
    const [send] = document.sends;
    expect(send).toMatchObject({ name: 'order-1', ref: 'order-1' });
    expect(document.steps.map((step) => step.report['message_id'])).toEqual(
      send!.answer.messages.map((message) => message.message_id),
    );
    const outcome = await app.app.get(DeliveryStatusService).outcome(send!.answer.omnimessage_id);
    expect(outcome).toMatchObject({ ref: 'order-1', result: 'delivered', deliveredVia: 'sms' });
  });

  it('gives a send the recipient its "to" names, and "$send.NAME.to" puts it in a report', async () => {
    const to = '+37061234567';
    const scenario = {
      sends: { 'order-2': { channels: ['sms'], ref: 'order-2', to } },
      steps: [
        {
          report: {
            message_id: '$send.order-2.sms',
            omnimessage_id: '$send.order-2.omnimessage_id',
            to: '$send.order-2.to',
            status: 'DELIVRD',
          },
          expect: { httpStatus: 200, outcome: 'change' },
        },
      ],
    };
    const run = await runCli([
      'scenario',
      await write(scenario),
      '--url',
      `${app.baseUrl}/messente/dlr`,
      '--secret',
      SECRET,
      '--track',
      `${app.baseUrl}/sends`,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const document = jsonOf<{
      sends: { answer: { omnimessage_id: string; to: string } }[];
      steps: { report: Record<string, unknown> }[];
    }>(run);
    const [send] = document.sends;
    expect(send!.answer.to).toBe(to);
    expect(document.steps[0]!.report['to']).toBe(to);
    const outcome = await app.app.get(DeliveryStatusService).outcome(send!.answer.omnimessage_id);
    expect(outcome).toMatchObject({ ref: 'order-2', to, result: 'delivered' });
  });

  it.each([
    [{ ...SCENARIO, sends: { 'order-1': { channels: [] } } }, /sends\.order-1\.channels/],
    [
      { ...SCENARIO, sends: { 'order-1': { channels: ['viber', 'sms'], to: '37251234567' } } },
      /"sends\.order-1\.to" must be a number in E\.164/,
    ],
    [{ ...SCENARIO, sends: { 'bad name!': { channels: ['sms'] } } }, /a send's name/],
    [{ ...SCENARIO, sends: {} }, /"\$send\.order-1\.viber" must name a send/],
    [{ ...SCENARIO, sends: { 'order-1': { channels: ['sms'] } } }, /send "order-1" has no channel "viber"/],
  ])('refuses a scenario whose sends are wrong, in one line (%#)', async (scenario, message) => {
    const run = await runCli(['scenario', await write(scenario), '--url', `${app.baseUrl}/messente/dlr`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('says so when --track answers an error, and sends no report', async () => {
    const run = await runCli([
      'scenario',
      await write(SCENARIO),
      '--url',
      `${app.baseUrl}/messente/dlr`,
      '--secret',
      SECRET,
      '--track',
      `${app.baseUrl}/nowhere`,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--track .*\/nowhere answered 404 for send "order-1"/);
    expect(run.stdout).toBe('');
  });
});
