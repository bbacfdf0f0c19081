import { createServer, type Server } from 'node:http';
import { MessenteDlrModule, type MessenteDlrModuleOptions } from '../../lib/index.js';
import { ADAPTERS, startApp, type TestApp, type TestAppOptions } from '../support/app.js';
import { jsonOf, runCli } from '../support/cli.js';

const SECRET = 'doctor-secret';
const LOOPBACK = ['127.0.0.1', '::1'];

interface DoctorJson {
  ok: boolean;
  checks: { name: string; result: 'ok' | 'fail' | 'skip'; httpStatus: number | null; cause: string | null }[];
}

/**
 * A reverse proxy in front of the app that changes each request on the way, as a
 * misconfigured gateway would: `rewrite` gets and returns the headers and body.
 */
async function startProxy(
  target: string,
  rewrite: (
    headers: Record<string, string>,
    body: Buffer,
  ) => { headers: Record<string, string>; body: Buffer },
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name))
          headers[name] = value;
      }
      const changed = rewrite(headers, Buffer.concat(chunks));
      fetch(`${target}${req.url}`, {
        method: req.method,
        headers: changed.headers,
        body: new Uint8Array(changed.body),
      }).then(
        async (answer) => {
          res.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'text/plain',
          });
          res.end(Buffer.from(await answer.arrayBuffer()));
        },
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What Python's json.dumps writes by default: `", "` and `": "` separators, non-ASCII escaped. */
function pythonJsonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, field]) => `${pythonJsonDumps(key)}: ${pythonJsonDumps(field)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Re-serialises a JSON body, as API gateways and serverless adapters do. */
const reserialise =
  (serialise: (value: unknown) => string) => (headers: Record<string, string>, body: Buffer) => ({
    headers,
    body: Buffer.from(serialise(JSON.parse(body.toString('utf8')))),
  });

interface Setup {
  readonly module?: MessenteDlrModuleOptions;
  readonly app?: TestAppOptions;
  /** The path doctor is given, when it is not the one the app serves. */
  readonly path?: string;
  readonly secret?: string;
  readonly proxy?: Parameters<typeof startProxy>[1];
  readonly down?: boolean;
}

const CORRECT: MessenteDlrModuleOptions = { signatureSecrets: [SECRET], allowedIps: LOOPBACK };

describe.each(ADAPTERS)('messente-dlr doctor against misconfigured apps on %s', (adapter) => {
  async function doctor(setup: Setup): Promise<{ json: DoctorJson; human: string; code: number | null }> {
    const running: TestApp = await startApp(
      adapter,
      { imports: [MessenteDlrModule.forRoot(setup.module ?? CORRECT)] },
      setup.app,
    );
    const proxy = setup.proxy ? await startProxy(running.baseUrl, setup.proxy) : null;
    try {
      if (setup.down) await running.close();
      const url = `${proxy?.url ?? running.baseUrl}/${setup.path ?? 'messente/dlr'}`;
      const args = ['doctor', '--url', url, '--secret', setup.secret ?? SECRET];
      const human = await runCli(args);
      const json = await runCli([...args, '--json']);
      expect(human.stderr).toBe('');
      expect(json.code).toBe(human.code);
      return { json: jsonOf<DoctorJson>(json), human: human.stdout, code: human.code };
    } finally {
      await proxy?.close();
      if (!setup.down) await running.close();
    }
  }

  /** Doctor exits 1, and its first failing check names `cause`, in JSON and in words. */
  function expectCause(result: Awaited<ReturnType<typeof doctor>>, cause: string, words: RegExp): void {
    expect(result.code).toBe(1);
    expect(result.json.ok).toBe(false);
    expect(result.json.checks.find((check) => check.result === 'fail')?.cause).toBe(cause);
    expect(result.human).toMatch(words);
    expect(result.json.checks).toHaveLength(5);
  }

  it('names a wrong path or global prefix (404)', async () => {
    const result = await doctor({ app: { globalPrefix: 'api' } });
    expectCause(result, 'path_or_prefix', /cause: wrong path or global prefix/);
    expect(result.human).toMatch(/FAIL {2}signed report +404/);
    expect(result.human).toMatch(
      /A webhook answers at http:\/\/127\.0\.0\.1:\d+\/api\/messente\/dlr \(it answered 200\)/,
    );
    expect(result.json.checks.slice(1).map((check) => check.result)).toEqual([
      'skip',
      'skip',
      'skip',
      'skip',
    ]);
  });

  it('names the source IP and trust proxy (403)', async () => {
    const result = await doctor({ module: { signatureSecrets: [SECRET] } });
    expectCause(result, 'source_ip', /cause: source IP not allowed \(allowedIps \/ trust proxy\)/);
    expect(result.human).toMatch(/trust proxy/);
  });

  it('names rawBody when the app was created without it (500)', async () => {
    const result = await doctor({ app: { rawBody: false } });
    expectCause(result, 'raw_body', /cause: raw body not enabled \(rawBody: true\)/);
    expect(result.human).toMatch(/FAIL {2}signed report +500 .*raw request body is not available/);
  });

  it('names the secret when a correctly signed report gets 401', async () => {
    const result = await doctor({ secret: 'not-what-the-app-has' });
    expectCause(result, 'secret', /cause: wrong secret/);
    expect(result.json.checks.map((check) => check.result)).toEqual(['fail', 'fail', 'skip', 'skip', 'skip']);
  });

  it('names a proxy that re-serialises the JSON (as JSON.stringify does)', async () => {
    const result = await doctor({ proxy: reserialise((value) => JSON.stringify(value)) });
    expectCause(result, 'json_rewritten', /cause: a proxy rewrites the JSON/);
    expect(result.json.checks.map((check) => `${check.result} ${check.httpStatus}`)).toEqual([
      'ok 200',
      'fail 401',
      'ok 401',
      'ok 401',
      'ok 401',
    ]);
  });

  it('names a proxy that re-serialises the JSON (as Python json.dumps does)', async () => {
    const result = await doctor({ proxy: reserialise(pythonJsonDumps) });
    expectCause(result, 'json_rewritten', /cause: a proxy rewrites the JSON/);
    expect(result.json.checks.map((check) => `${check.result} ${check.httpStatus}`)).toEqual([
      'fail 401',
      'ok 200',
      'ok 401',
      'ok 401',
      'ok 401',
    ]);
  });

  it('names a Content-Type changed on the way (415)', async () => {
    const result = await doctor({
      proxy: (headers, body) => ({ headers: { ...headers, 'content-type': 'text/plain' }, body }),
    });
    expectCause(result, 'content_type', /cause: Content-Type changed on the way/);
    expect(result.human).toMatch(/FAIL {2}signed report +415/);
  });

  it('names nothing listening (connection refused)', async () => {
    const result = await doctor({ down: true });
    expectCause(result, 'not_listening', /cause: nothing listening\n.*connection refused/);
  });

  it('names signatures that are not checked (no secret configured)', async () => {
    const result = await doctor({ module: { allowedIps: LOOPBACK } });
    expectCause(result, 'signature_not_checked', /cause: signatures are not checked/);
    expect(result.json.checks.map((check) => `${check.result} ${check.httpStatus}`)).toEqual([
      'ok 200',
      'ok 200',
      'fail 200',
      'fail 200',
      'fail 200',
    ]);
  });
});

describe('messente-dlr doctor against an endpoint that is not this module', () => {
  it('notes that the test report may have been recorded, and fails the refusal checks', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
      const run = await runCli(['doctor', '--url', url, '--secret', SECRET]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(
        /^ok {4}signed report +200 \{"ok":true\}\n {6}note: .*did not recognise doctor's test report/m,
      );
      expect(run.stdout).toMatch(/cause: signatures are not checked/);
      expect(run.stdout).not.toMatch(/nothing was recorded/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
