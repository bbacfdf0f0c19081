import { Injectable } from '@nestjs/common';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DLR_STORE,
  DeliveryStatusChanged,
  MessenteDlrModule,
  OnDlrStatus,
  type DlrStore,
} from '../../lib/index.js';
import { signDlr } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, startApp, waitFor, type TestApp } from '../support/app.js';
import { jsonOf, runCli, startCli } from '../support/cli.js';

const SECRET = 'cli-e2e-secret';
const ENV = { MESSENTE_API_PASSWORD: SECRET };

/** Every change any handler saw, as `messageId status`. */
const seen: DeliveryStatusChanged[] = [];

@Injectable()
class SeeEverything {
  @OnDlrStatus('*') onAny(event: DeliveryStatusChanged) {
    seen.push(event);
  }
}

/** A plain HTTP server that keeps the bytes and headers of each request and answers 200. */
async function startCapture(): Promise<{
  url: string;
  requests: { headers: IncomingHttpHeaders; body: Buffer }[];
  server: Server;
}> {
  const requests: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"captured":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, requests, server };
}

describe.each(ADAPTERS)('messente-dlr against a correctly configured app on %s', (adapter) => {
  let running: TestApp;
  let url: string;
  let store: DlrStore;
  let dir: string;

  beforeAll(async () => {
    running = await startApp(adapter, {
      imports: [MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: ['127.0.0.1'] })],
      providers: [SeeEverything],
    });
    url = `${running.baseUrl}/messente/dlr`;
    store = running.app.get(DLR_STORE);
    dir = await mkdtemp(join(tmpdir(), 'messente-dlr-cli-e2e-'));
  });
  afterAll(async () => {
    await running.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('trigger sends one signed report per status, in order, and prints each answer', async () => {
    const run = await runCli(
      [
        'trigger',
        'ACCEPTD',
        'DELIVRD',
        'DELIVRD',
        '--url',
        url,
        '--message-id',
        'cli-m-1',
        '--channel',
        'viber',
        '--set',
        'err=0',
        '--set',
        'price_info.parts_count=2',
        '--set',
        'sender=Shop',
        '--json',
      ],
      { env: ENV },
    );
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({
      ok: true,
      messageId: 'cli-m-1',
      results: [
        { status: 'ACCEPTD', httpStatus: 200, body: '{"outcome":"change"}' },
        { status: 'DELIVRD', httpStatus: 200, body: '{"outcome":"change"}' },
        { status: 'DELIVRD', httpStatus: 200, body: '{"outcome":"duplicate"}' },
      ],
    });
    await waitFor(() => seen.length === 2);
    expect(seen.map((event) => [event.messageId, event.status, event.channel, event.sender])).toEqual([
      ['cli-m-1', 'ACCEPTD', 'viber', 'Shop'],
      ['cli-m-1', 'DELIVRD', 'viber', 'Shop'],
    ]);
    expect(seen[1]!.priceInfo).toEqual({ partPrice: '0.1', partsCount: 2, totalPrice: '0.1' });

    const human = await runCli(['trigger', 'FAILED', '--url', url, '--set', 'err=1'], { env: ENV });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^FAILED {3}200 \{"outcome":"change"\}$/m);
  });

  it('trigger exits 1 when an answer is not 2xx', async () => {
    const run = await runCli(['trigger', 'DELIVRD', '--url', url, '--unsigned']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^DELIVRD {2}401 .*X-Messente-Signature/m);
    const invalid = await runCli(['trigger', 'delivered', '--url', url], { env: ENV });
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toMatch(/^delivered 400 .*status must be/m);
    expect(seen).toEqual([]);
  });

  it('scenario runs the built-in scenario and every expectation holds', async () => {
    const run = await runCli(['scenario', '--url', url], { env: ENV });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^13 of 13 steps as expected$/m);
    for (const text of ['200 duplicate', '200 stale', 'fallback to SMS', 'viber', 'whatsapp', 'unsigned']) {
      expect(run.stdout).toContain(text);
    }
    const json = jsonOf<{
      ok: boolean;
      steps: { report: Record<string, unknown>; outcome: string | null; httpStatus: number }[];
    }>(await runCli(['scenario', '--url', url, '--json'], { env: ENV }));
    expect(json.ok).toBe(true);
    const [viber, , fallback] = [json.steps[3]!, json.steps[4]!, json.steps[5]!];
    expect(fallback.report['omnimessage_id']).toBe(viber.report['omnimessage_id']);
    expect(fallback.report['message_id']).not.toBe(viber.report['message_id']);
    expect(json.steps.map((step) => step.outcome ?? step.httpStatus)).toEqual([
      'change',
      'change',
      'duplicate',
      'change',
      'change',
      'change',
      'change',
      'change',
      'stale',
      'change',
      'change',
      401,
      401,
    ]);
  });

  it('scenario runs a file, reuses ids with $step.N, and exits 1 on an unmet expectation', async () => {
    const file = join(dir, 'scenario.json');
    await writeFile(
      file,
      JSON.stringify({
        steps: [
          {
            name: 'first',
            report: { status: 'ACK', to: '+37255000001' },
            expect: { httpStatus: 200, outcome: 'change' },
          },
          {
            name: 'again',
            report: { message_id: '$step.1.message_id', status: 'ACK' },
            expect: { outcome: 'duplicate' },
          },
          {
            name: 'text',
            report: { message_id: '$step.1.message_id' },
            headers: { 'content-type': 'text/plain' },
            expect: { httpStatus: 415 },
          },
          {
            name: 'wrong guess',
            report: { message_id: '$step.1.message_id', status: 'DELIVRD' },
            expect: { outcome: 'stale' },
          },
        ],
      }),
    );
    const run = await runCli(['scenario', file, '--url', url], { env: ENV });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^4 +wrong guess .* 200 change +stale +FAIL$/m);
    expect(run.stdout).toMatch(/^step 4: expected outcome stale, got change/m);
    expect(run.stdout).toMatch(/^3 of 4 steps as expected$/m);
    await waitFor(() => seen.length === 2);
    expect(seen.map((event) => [event.status, event.to])).toEqual([
      ['ACK', '+37255000001'],
      ['DELIVRD', '+3725555555'],
    ]);
    expect(seen[1]!.messageId).toBe(seen[0]!.messageId);
  });

  it('doctor passes, and the app recorded nothing and called no handler', async () => {
    const pendingBefore = await store.countPending();
    const run = await runCli(['doctor', '--url', url, '--json'], { env: ENV });
    expect(run.code).toBe(0);
    const report = jsonOf<{
      ok: boolean;
      checks: { name: string; result: string; httpStatus: number }[];
      messageIds: string[];
    }>(run);
    expect(report.ok).toBe(true);
    expect(report.checks.map((check) => `${check.result} ${check.httpStatus}`)).toEqual([
      'ok 200',
      'ok 200',
      'ok 401',
      'ok 401',
      'ok 401',
    ]);
    expect(report.messageIds.length).toBeGreaterThanOrEqual(5);
    const human = await runCli(['doctor', '--url', url], { env: ENV });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^All 5 checks passed/m);
    // Handlers run after the answer: give them the time a real report would take.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([]);
    for (const id of report.messageIds) expect(await store.history(id)).toEqual([]);
    expect(await store.countPending()).toBe(pendingBefore);
  });

  it('listen forwards and records requests that replay sends again byte for byte', async () => {
    const record = join(dir, `recording-${adapter}.jsonl`);
    const listen = await startCli(['listen', '--port', '0', '--forward-to', url, '--record', record], {
      env: ENV,
    });
    const [, port] = await listen.waitForLine(/^Listening on http:\/\/127\.0\.0\.1:(\d+), forwarding to /);
    const proxy = `http://127.0.0.1:${port}`;
    // Not what JSON.stringify makes: any re-encoding on the way would break the signature.
    const body = `{ "message_id": "cli-listen-1",\n  "status": "DELIVRD", "channel": "sms", "sender": "Caf\\u00e9 ☕" }\n`;
    const signed = await postDlr(proxy, body, { secret: SECRET, path: 'anything' });
    expect(signed).toMatchObject({ status: 200, body: { outcome: 'change' } });
    const unsigned = await postDlr(proxy, body.replace('cli-listen-1', 'cli-listen-2'));
    expect(unsigned.status).toBe(401);
    await listen.waitForLine(/cli-listen-2 .*signature missing +-> 401/);
    const stopped = await listen.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toBe('');
    expect(stopped.stdout).toMatch(
      /^\d\d:\d\d:\d\d {2}DELIVRD {3}message cli-listen-1 .*signature valid +-> 200 \{"outcome":"change"\}$/m,
    );
    expect(stopped.stdout).toMatch(/^Stopped after 2 requests$/m);
    await waitFor(() => seen.length === 1);
    expect(seen[0]!.sender).toBe('Café ☕');

    const lines = (await readFile(record, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      method: 'POST',
      path: '/anything',
      body,
      headers: { 'content-type': 'application/json', 'x-messente-signature': signDlr(body, SECRET) },
      answer: { httpStatus: 200, body: '{"outcome":"change"}' },
    });

    const replay = await runCli(['replay', record, '--url', url, '--index', '1', '--json']);
    expect(replay.code).toBe(0);
    expect(jsonOf(replay)).toMatchObject({
      ok: true,
      requests: [{ index: 1, httpStatus: 200, outcome: 'duplicate' }],
    });
    const all = await runCli(['replay', record, '--url', url]);
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(/^#1 .*recorded: 200 change {2}now: 200 duplicate$/m);
    expect(all.stdout).toMatch(/^#2 .*recorded: 401 {2}now: 401 /m);
    expect(seen).toHaveLength(1);

    const capture = await startCapture();
    try {
      expect((await runCli(['replay', record, '--url', capture.url, '--index', '1'])).code).toBe(0);
      expect(capture.requests).toHaveLength(1);
      expect(capture.requests[0]!.body.equals(Buffer.from(body))).toBe(true);
      expect(capture.requests[0]!.headers['x-messente-signature']).toBe(signDlr(body, SECRET));
      expect(capture.requests[0]!.headers['content-type']).toBe('application/json');
    } finally {
      await new Promise((resolve) => capture.server.close(resolve));
    }
  });
});

describe('listen in front of an app that is down', () => {
  it('answers 502, prints why and records it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'messente-dlr-cli-e2e-'));
    const capture = await startCapture();
    const deadUrl = capture.url;
    await new Promise((resolve) => capture.server.close(resolve));
    try {
      const record = join(dir, 'down.jsonl');
      const listen = await startCli([
        'listen',
        '--port',
        '0',
        '--forward-to',
        deadUrl,
        '--record',
        record,
        '--json',
      ]);
      const [, port] = await listen.waitForLine(/"listening":"http:\/\/127\.0\.0\.1:(\d+)"/);
      const answer = await postDlr(`http://127.0.0.1:${port}`, '{"status":"DELIVRD"}', { secret: 'x' });
      expect(answer.status).toBe(502);
      const stopped = await listen.stop('SIGTERM');
      expect(stopped.code).toBe(0);
      const printed = stopped.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(printed[1]).toMatchObject({
        status: 'DELIVRD',
        signature: 'unchecked',
        answer: { error: expect.stringMatching(/app unreachable: nothing is listening/) },
      });
      const recorded = JSON.parse(await readFile(record, 'utf8'));
      expect(recorded).toMatchObject({ body: '{"status":"DELIVRD"}', answer: { error: expect.any(String) } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
