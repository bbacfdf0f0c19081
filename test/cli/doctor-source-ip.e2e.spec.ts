import { createServer, request, type Server } from 'node:http';
import { ADAPTERS } from '../support/app.js';
import { ADMIN, AdminGuard, startBoardApp } from '../support/board-app.js';
import { jsonOf, runCli } from '../support/cli.js';

const SECRET = 'doctor-ip-secret';
/** An allowlist that holds neither doctor's address nor any proxy's. */
const ELSEWHERE = ['192.0.2.1'];
const BOARD_HEADER = `authorization: ${ADMIN.authorization}`;
/** The loopback address the proxy connects to the app from, unlike doctor's 127.0.0.1. */
const PROXY_IP = '127.0.0.2';

interface DoctorJson {
  ok: boolean;
  checks: { result: string; httpStatus: number | null; cause: string | null; ipSeen: string | null }[];
}

/** A reverse proxy without X-Forwarded-For whose connections to the app come from PROXY_IP. */
async function startProxy(target: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const forward = request(
      `${target}${req.url}`,
      { method: req.method, headers: req.headers, localAddress: PROXY_IP },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

describe.each(ADAPTERS)('doctor names the address an app on %s saw for its refused request', (adapter) => {
  async function doctor(options: { proxy?: boolean; board?: string[] }) {
    const app = await startBoardApp(adapter, {
      secret: SECRET,
      board: { guards: [AdminGuard] },
      dlr: { allowedIps: ELSEWHERE },
    });
    const proxy = options.proxy ? await startProxy(app.baseUrl) : null;
    try {
      const args = ['doctor', '--url', `${proxy?.url ?? app.baseUrl}/messente/dlr`, '--secret', SECRET];
      args.push(...(options.board ?? []).map((arg) => arg.replace('BOARD', `${app.baseUrl}/messente/board`)));
      const human = await runCli(args);
      const json = await runCli([...args, '--json']);
      expect(human.stderr).toBe('');
      expect(human.code).toBe(1);
      expect(json.code).toBe(1);
      return { human: human.stdout, check: jsonOf<DoctorJson>(json).checks[0]! };
    } finally {
      proxy?.server.close();
      await app.close();
    }
  }

  it("says doctor's own IP is not allowed when the app saw doctor's address", async () => {
    const { human, check } = await doctor({ board: ['--board', 'BOARD', '--board-header', BOARD_HEADER] });
    expect(check).toMatchObject({
      result: 'fail',
      httpStatus: 403,
      cause: 'ip_not_allowed',
      ipSeen: '127.0.0.1',
    });
    expect(human).toMatch(
      /cause: this machine's IP is not allowed\n +your IP 127\.0\.0\.1 is not in allowedIps; add it for local testing/,
    );
  });

  it("says the app is behind a proxy when it saw the proxy's address", async () => {
    const { human, check } = await doctor({
      proxy: true,
      board: ['--board', 'BOARD', '--board-header', BOARD_HEADER],
    });
    expect(check).toMatchObject({ httpStatus: 403, cause: 'trust_proxy', ipSeen: PROXY_IP });
    expect(human).toMatch(
      /cause: behind a proxy without trust proxy\n +behind a proxy: the app sees the proxy's address 127\.0\.0\.2; enable trust proxy/,
    );
  });

  it('names both cases, and how to tell them apart, without the board', async () => {
    const { human, check } = await doctor({ proxy: true });
    expect(check).toMatchObject({ httpStatus: 403, cause: 'source_ip', ipSeen: null });
    expect(human).toMatch(/doctor connected from 127\.0\.0\.1\. Either it sees this machine's address/);
    expect(human).toMatch(/add it to allowedIps for local testing; or a proxy .* 'trust proxy'/);
    expect(human).toMatch(
      /warn log line for this refusal, which names the IP the app saw, or run doctor again with --board URL/,
    );
  });

  it("says the board may be another instance's when it shows no refusal of doctor's", async () => {
    const other = await startBoardApp(adapter, { secret: SECRET, board: { guards: [AdminGuard] } });
    try {
      const { human, check } = await doctor({
        board: ['--board', `${other.baseUrl}/messente/board`, '--board-header', BOARD_HEADER],
      });
      expect(check).toMatchObject({ cause: 'source_ip', ipSeen: null });
      expect(human).toMatch(/shows no IP refusal from the last minute: .* another instance's board/);
    } finally {
      await other.close();
    }
  });

  it("says why it could not read the board when the board's guard refuses it", async () => {
    const { human, check } = await doctor({ board: ['--board', 'BOARD'] });
    expect(check).toMatchObject({ cause: 'source_ip', ipSeen: null });
    expect(human).toMatch(
      /messente\/board\/api\/stats answered 401: pass what the board's guard wants with --board-header/,
    );
  });
});

describe('doctor and trigger against a URL that redirects', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // What an http -> https redirect in front of the app answers, whatever is posted.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res.writeHead(301, { location: 'https://example.com/messente/dlr/' }).end('Moved Permanently'),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/messente/dlr`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('doctor fails the check and names the Location', async () => {
    const run = await runCli(['doctor', '--url', url, '--secret', SECRET]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAIL {2}signed report +301 Moved Permanently$/m);
    expect(run.stdout).toMatch(
      /cause: the URL redirects\n +the URL answers 301 with Location https:\/\/example\.com\/messente\/dlr\//,
    );
    const json = jsonOf<DoctorJson>(await runCli(['doctor', '--url', url, '--secret', SECRET, '--json']));
    expect(json.checks[0]).toMatchObject({ result: 'fail', httpStatus: 301, cause: 'redirect' });
  });

  it('trigger exits 1 and shows the Location', async () => {
    const run = await runCli(['trigger', 'DELIVRD', '--url', url, '--secret', SECRET]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^DELIVRD {2}301 redirect to https:\/\/example\.com\/messente\/dlr\/: Messente would count it as received/m,
    );
    const json = jsonOf(await runCli(['trigger', 'DELIVRD', '--url', url, '--secret', SECRET, '--json']));
    expect(json).toMatchObject({
      ok: false,
      results: [{ httpStatus: 301, location: 'https://example.com/messente/dlr/' }],
    });
  });
});
