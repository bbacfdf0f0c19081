import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessenteDlrModule } from '../../lib/index.js';
import { signDlr } from '../../lib/testing/index.js';
import { ADAPTERS, type AdapterName } from '../support/app.js';
import { jsonOf, runCli, startCli } from '../support/cli.js';

const SECRET = 'listen-e2e-secret';
/** The address a tunnel (ngrok, cloudflared) names in X-Forwarded-For: here, "Messente's". */
const SENDER_IP = '203.0.113.7';

/**
 * An app as docs/cli.md ("Behind a tunnel") sets it up behind `listen` and a tunnel: the allowlist
 * holds the sender's IP, and the app trusts the loopback proxy (`trust` 'loopback'), or not.
 */
async function startApp(adapter: AdapterName, trust: 'loopback' | false) {
  @Module({ imports: [MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: [SENDER_IP] })] })
  class TunnelAppModule {}
  const app =
    adapter === 'fastify'
      ? await NestFactory.create(TunnelAppModule, new FastifyAdapter({ trustProxy: trust }), {
          rawBody: true,
          logger: false,
        })
      : await NestFactory.create<NestExpressApplication>(TunnelAppModule, new ExpressAdapter(), {
          rawBody: true,
          logger: false,
        });
  if (adapter === 'express') (app as NestExpressApplication).set('trust proxy', trust);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { url: `http://127.0.0.1:${port}/messente/dlr`, close: () => app.close() };
}

/** Posts raw bytes, as a tunnel hands them to `listen`. */
async function post(url: string, body: Buffer | string, headers: Record<string, string>) {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const answer = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-messente-signature': signDlr(bytes, SECRET),
      ...headers,
    },
    body: new Uint8Array(bytes),
  });
  return { status: answer.status, text: await answer.text() };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'messente-dlr-listen-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each(ADAPTERS)('listen behind a tunnel, in front of an app on %s', (adapter) => {
  it.each([
    ['trusts the loopback proxy', 'loopback', 200],
    ['does not trust it', false, 403],
  ] as const)(
    'forwards X-Forwarded-For to an app that %s (trust proxy %p): it answers %i',
    async (_what, trust, httpStatus) => {
      const app = await startApp(adapter, trust);
      const listen = await startCli(['listen', '--port', '0', '--forward-to', app.url, '--json']);
      try {
        const [, port] = await listen.waitForLine(/"listening":"http:\/\/127\.0\.0\.1:(\d+)"/);
        const body = JSON.stringify({ message_id: `tunnel-${adapter}-${trust}`, status: 'DELIVRD' });
        // What ngrok and cloudflared add: the address the report came from.
        const answer = await post(`http://127.0.0.1:${port}/`, body, { 'x-forwarded-for': SENDER_IP });
        expect(answer.status).toBe(httpStatus);
        if (httpStatus === 200) expect(JSON.parse(answer.text)).toEqual({ outcome: 'change' });
      } finally {
        await listen.stop();
        await app.close();
      }
    },
  );

  it('records a body that is not UTF-8 losslessly, and replay sends the same bytes again', async () => {
    const app = await startApp(adapter, 'loopback');
    const record = join(dir, `latin1-${adapter}.jsonl`);
    // "Café" in Latin-1: 0xE9 alone is not UTF-8; as text it would come back as U+FFFD.
    const body = Buffer.concat([
      Buffer.from(`{"message_id":"latin1-${adapter}","status":"DELIVRD","sender":"Caf`),
      Buffer.from([0xe9]),
      Buffer.from('"}'),
    ]);
    const listen = await startCli(['listen', '--port', '0', '--forward-to', app.url, '--record', record]);
    const captured: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const capture = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        captured.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    try {
      const [, port] = await listen.waitForLine(/^Listening on http:\/\/127\.0\.0\.1:(\d+)/);
      const first = await post(`http://127.0.0.1:${port}/`, body, { 'x-forwarded-for': SENDER_IP });
      expect(first.status).toBe(200);
      expect((await listen.stop()).code).toBe(0);

      const line = JSON.parse(await readFile(record, 'utf8')) as Record<string, unknown>;
      expect(line['body']).toBeUndefined();
      expect(Buffer.from(line['bodyBase64'] as string, 'base64').equals(body)).toBe(true);

      // The app checks the signature over the bytes: the same bytes pass it again.
      const replay = await runCli(['replay', record, '--url', app.url, '--json']);
      expect(jsonOf(replay)).toMatchObject({
        ok: true,
        requests: [{ httpStatus: 200, outcome: 'duplicate' }],
      });

      await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
      const target = `http://127.0.0.1:${(capture.address() as { port: number }).port}/hook`;
      expect((await runCli(['replay', record, '--url', target])).code).toBe(0);
      expect(captured).toHaveLength(1);
      expect(captured[0]!.body.equals(body)).toBe(true);
      expect(captured[0]!.headers['x-messente-signature']).toBe(signDlr(body, SECRET));
    } finally {
      await listen.stop();
      capture.close();
      await app.close();
    }
  });
});
