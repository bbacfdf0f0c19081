// README.md "Quickstart" quotes ./quickstart/*.ts and the two `main.ts` bodies below: this suite
// runs them as a user would, on both adapters, and sends them reports with the CLI.
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { waitFor } from '../support/app.js';
import { runCli } from '../support/cli.js';

const SECRET = 'quickstart-password';
process.env['MESSENTE_API_PASSWORD'] = SECRET;
process.env['PORT'] = '0';
// The module reads the environment when it is first imported, as an app's module does.
const { AppModule } = await import('./quickstart/app.module.js');
const { DeliveryHandlers } = await import('./quickstart/delivery.handlers.js');

/** The README's `main.ts` for Express. */
async function expressMain(): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule, { rawBody: true }); // the signature needs the raw body
  await app.listen(process.env.PORT ?? 3000);
  return app;
}

/** The README's `main.ts` for Fastify. */
async function fastifyMain(): Promise<INestApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
    rawBody: true,
  });
  await app.listen(process.env.PORT ?? 3000);
  return app;
}

describe.each([
  ['express', expressMain],
  ['fastify', fastifyMain],
] as const)('README quickstart on %s', (_adapter, main) => {
  let app: INestApplication;
  let url: string;
  /** What the handlers logged (they log through Nest's Logger, as the README's do). */
  const logged: string[] = [];
  const record = (message: unknown, context?: unknown) => {
    if (context === DeliveryHandlers.name) logged.push(String(message));
  };

  beforeAll(async () => {
    app = await main();
    app.useLogger({ log: record, warn: record, error: record, debug: record, verbose: record });
    const address = app.getHttpServer().address() as { port: number };
    url = `http://127.0.0.1:${address.port}/messente/dlr`;
  });
  afterAll(() => app.close());
  beforeEach(() => {
    logged.length = 0;
  });

  it('calls the handlers for reports the CLI signs and sends from this machine', async () => {
    const run = await runCli(['trigger', 'ACCEPTD', 'DELIVRD', '--url', url, '--json'], {
      env: { MESSENTE_API_PASSWORD: SECRET },
    });
    expect(run.code).toBe(0);
    await waitFor(() => logged.length === 1);
    expect(logged[0]).toMatch(/^\S+ delivered to \+\d+ via sms$/);
  });

  it('routes failures to the failure handler', async () => {
    const run = await runCli(['trigger', 'UNDELIV', '--url', url, '--set', 'err=1', '--json'], {
      env: { MESSENTE_API_PASSWORD: SECRET },
    });
    expect(run.code).toBe(0);
    await waitFor(() => logged.length === 1);
    expect(logged[0]).toMatch(/^\S+ not delivered: UNDELIV \(err 1\)$/);
  });

  it('refuses a report signed with another secret', async () => {
    const run = await runCli(['trigger', 'DELIVRD', '--url', url, '--secret', 'not-the-password', '--json'], {
      env: {},
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('401');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(logged).toEqual([]);
  });
});
