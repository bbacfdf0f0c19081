import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { runCli as runInProcess } from '../../lib/cli/cli.js';
import { sendHttp } from '../../lib/cli/shared/http-send.js';
import { MAX_RECORDING_BYTES } from '../../lib/cli/replay/read-recording.js';
import { runCli, type CliRun } from '../support/cli.js';

/** A line of a file that must never be shown: what /etc/shadow holds. */
const SECRET_LINE = 'root:$6$s3cr3tSalt$hashOfTheRootPassword:19000:0:99999:7:::';
/** Control characters in output (line feeds end lines and are not counted). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** A usage error: exit 2, nothing on stdout, one line on stderr, no stack, no file contents. */
function expectUsageError(run: CliRun, message: RegExp): void {
  expect(run).toMatchObject({ code: 2, stdout: '' });
  expect(run.stderr).toMatch(/^messente-dlr [^\n]*\n$/);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/\bat .*:\d+:\d+/);
  for (const part of ['root', 's3cr3t', 'hashOf', '19000']) expect(run.stderr).not.toContain(part);
}

let dir: string;
let server: Server;
let url: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'messente-dlr-input-'));
  // Answers requests (PUT with a refusal, so that replay meets both), and CONNECT with a
  // tunnel, as a proxy would.
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(req.method === 'PUT' ? 401 : 200).end('{"outcome":"change"}'));
  });
  server.on('connect', (_req, socket) => socket.end('HTTP/1.1 200 Connection Established\r\n\r\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('replay and scenario on files that are not what they should be', () => {
  it('refuses a recording larger than its limit at once, without reading it into one string', async () => {
    const file = join(dir, 'huge.jsonl');
    await writeFile(file, '');
    // Sparse: 600 MiB that take no disk (the audit's 540 MB file gave a V8 string error).
    await truncate(file, 600 * 1024 * 1024);
    expect(MAX_RECORDING_BYTES).toBeLessThan(600 * 1024 * 1024);
    expectUsageError(await runCli(['replay', file, '--url', url]), /huge\.jsonl is larger than 64 MiB/);
    expectUsageError(
      await runCli(['scenario', file, '--url', url, '--secret', 's']),
      /huge\.jsonl is larger than 16 MiB/,
    );
  });

  it('stops reading a device that never ends at the limit', async () => {
    expectUsageError(
      await runCli(['replay', '/dev/zero', '--url', url]),
      /\/dev\/zero is larger than 64 MiB/,
    );
  });

  it.each([
    ['replay', (file: string) => ['replay', file, '--url', url], /shadow:1: not valid JSON \(see/],
    [
      'scenario',
      (file: string) => ['scenario', file, '--url', url, '--secret', 's'],
      /shadow: not valid JSON \(see/,
    ],
  ])('%s never quotes a file that is not JSON (a copy of /etc/shadow)', async (_command, args, message) => {
    const file = join(dir, 'shadow');
    await writeFile(file, `${SECRET_LINE}\ndaemon:*:19000:0:99999:7:::\n`);
    const run = await runCli(args(file));
    expectUsageError(run, message);
  });

  it('never quotes JSON lines that are not recorded requests', async () => {
    const file = join(dir, 'not-a-recording.jsonl');
    await writeFile(file, `${JSON.stringify({ method: SECRET_LINE, headers: {}, body: '' })}\n`);
    expectUsageError(await runCli(['replay', file, '--url', url]), /:1: not a recorded request: "method"/);
    await writeFile(
      file,
      `${JSON.stringify({ method: 'POST', headers: { [SECRET_LINE]: 'x' }, body: '' })}\n`,
    );
    expectUsageError(await runCli(['replay', file, '--url', url]), /:1: not a recorded request: header 1/);
  });

  it('refuses a CONNECT line with exit 2 (it exited 13, printing nothing)', async () => {
    const file = join(dir, 'connect.jsonl');
    await writeFile(file, `${JSON.stringify({ method: 'CONNECT', path: '/', headers: {}, body: '{}' })}\n`);
    expectUsageError(
      await runCli(['replay', file, '--url', url]),
      /connect\.jsonl:1: not a recorded request: "method" must be an HTTP method listen can receive \(not CONNECT\)/,
    );
  });

  it('sendHttp settles on a CONNECT answered with a tunnel instead of hanging', async () => {
    const answer = await sendHttp(new URL(url), { method: 'CONNECT', headers: {}, body: Buffer.alloc(0) });
    expect(answer.status).toBe(200);
  });
});

describe('replay on random recording lines (fast-check, in process)', () => {
  it('exits 0, 1 or 2 with at most one line on stderr, never a stack, never a control character', async () => {
    // Any characters, control characters included, where the file holds text.
    const text = fc.string({ unit: 'binary', maxLength: 30 });
    const answer = fc.oneof(
      { weight: 2, arbitrary: fc.record({ httpStatus: fc.integer({ min: 100, max: 599 }), body: text }) },
      { weight: 2, arbitrary: fc.record({ error: text }) },
      { weight: 1, arbitrary: fc.jsonValue() },
    );
    // Mostly well-formed entries, so that many get as far as being sent and printed.
    const entry = fc.record(
      {
        method: fc.oneof(
          { weight: 5, arbitrary: fc.constantFrom('POST', 'PUT', 'GET', 'OPTIONS') },
          { weight: 1, arbitrary: fc.oneof(fc.constantFrom('CONNECT', 'post', ''), text) },
        ),
        path: text,
        headers: fc.oneof(
          {
            weight: 5,
            arbitrary: fc.dictionary(fc.constantFrom('content-type', 'x-messente-signature'), fc.string()),
          },
          { weight: 1, arbitrary: fc.oneof(fc.dictionary(text, text), fc.jsonValue()) },
        ),
        body: fc.oneof(
          fc.record({ message_id: text, status: text }).map((report) => JSON.stringify(report)),
          text,
        ),
        bodyBase64: fc.oneof({ weight: 4, arbitrary: fc.base64String() }, { weight: 1, arbitrary: text }),
        answer,
      },
      { requiredKeys: ['method', 'headers', 'body'] },
    );
    const line = fc.oneof(
      { weight: 4, arbitrary: entry.map((value) => JSON.stringify(value)) },
      { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
      { weight: 1, arbitrary: text },
    );
    const file = join(dir, 'fuzz.jsonl');
    const codes = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 3 }), async (lines) => {
        await writeFile(file, lines.join('\n'));
        let stdout = '';
        let stderr = '';
        const code = await runInProcess(['replay', file, '--url', url], {
          stdout: { write: (chunk: string) => (stdout += chunk) },
          stderr: { write: (chunk: string) => (stderr += chunk) },
          stdin: Readable.from([]),
          env: {},
          signal: new AbortController().signal,
        });
        expect([0, 1, 2]).toContain(code);
        codes.add(code);
        expect(stderr.split('\n').length).toBeLessThanOrEqual(2);
        expect(stderr).not.toMatch(/unexpected error|\bat .*:\d+:\d+/);
        expect(stdout).not.toMatch(CONTROL);
        expect(stderr).not.toMatch(CONTROL);
      }),
      { numRuns: 200 },
    );
    // Some files were sent and printed (0 or 1), some refused (2): both paths were fuzzed.
    expect([...codes].sort()).toEqual([0, 1, 2]);
  });
});
