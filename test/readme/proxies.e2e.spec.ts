// README.md "Proxies and the client IP" quotes the two main.ts variants below: behind a proxy
// the app trusts, the allowlist sees the client from X-Forwarded-For; otherwise the proxy.
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { MessenteDlrModule } from 'nestjs-messente-dlr';
import { dlrPayload } from 'nestjs-messente-dlr/testing';
import { postDlr } from '../support/app.js';

const secret = 'proxy-secret';
const MESSENTE_IP = '159.69.33.20';

@Module({ imports: [MessenteDlrModule.forRoot({ signatureSecrets: [secret], allowedIps: [MESSENTE_IP] })] })
class AppModule {}

async function expressBehindProxy(): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { rawBody: true, logger: false });
  app.set('trust proxy', 'loopback'); // or 1 (one hop), or the proxy's IP
  return app;
}

async function fastifyBehindProxy(): Promise<INestApplication> {
  const adapter = new FastifyAdapter({ trustProxy: '127.0.0.1' }); // or 1, or true behind one proxy
  return NestFactory.create<NestFastifyApplication>(AppModule, adapter, { rawBody: true, logger: false });
}

describe.each([
  ['express', expressBehindProxy],
  ['fastify', fastifyBehindProxy],
] as const)('behind a trusted proxy on %s', (_adapter, create) => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    app = await create();
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(() => app.close());

  it("takes Messente's address from X-Forwarded-For set by the proxy", async () => {
    const forwarded = await postDlr(baseUrl, dlrPayload(), {
      secret,
      headers: { 'x-forwarded-for': MESSENTE_IP },
    });
    expect(forwarded.status).toBe(200);
  });

  it("refuses another address the proxy forwarded, and the proxy's own", async () => {
    const other = await postDlr(baseUrl, dlrPayload(), {
      secret,
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(other.status).toBe(403);
    expect((await postDlr(baseUrl, dlrPayload(), { secret })).status).toBe(403);
  });
});
