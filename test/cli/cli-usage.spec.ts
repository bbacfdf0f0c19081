import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { UsageError } from '../../lib/cli/shared/cli-errors.js';
import { runCli as runInProcess } from '../../lib/cli/cli.js';
import { parseRecording } from '../../lib/cli/replay/read-recording.js';
import { recordedBody } from '../../lib/cli/shared/recording.js';
import { UnreachableError, sendHttp } from '../../lib/cli/shared/http-send.js';
import { endToEndHeaders } from '../../lib/cli/shared/http-headers.js';
import { buildReports, checkScenario } from '../../lib/cli/scenario/scenario-file.js';
import { postReport } from '../../lib/cli/shared/webhook-request.js';
import { signDlr } from '../../lib/testing/index.js';
import { describeRequiring } from '../support/requires.js';
import { jsonOf, runCli, startCli, type CliRun } from '../support/cli.js';

/** The escape character that starts every colour code. */
const ESC = '\u001b';
const COMMANDS = ['trigger', 'scenario', 'doctor', 'listen', 'replay', 'sign'];

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A usage error: exit 2, nothing on stdout, one line on stderr without a stack trace. */
function expectUsageError(run: CliRun, message: RegExp): void {
  expect(run).toMatchObject({ code: 2, stdout: '' });
  expect(run.stderr).toMatch(/^messente-dlr[^\n]*\n$/);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/\bat .*:\d+:\d+/);
}

let dir: string;
let deadUrl: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'messente-dlr-cli-'));
  deadUrl = `http://127.0.0.1:${await closedPort()}/messente/dlr`;
  await writeFile(join(dir, 'broken.json'), '{"steps": [ {"name": "x", }');
  await writeFile(
    join(dir, 'typo.json'),
    JSON.stringify({ steps: [{ report: {}, expected: { httpStatus: 200 } }] }),
  );
  await writeFile(
    join(dir, 'forward-ref.json'),
    JSON.stringify({ steps: [{ report: { message_id: '$step.2.message_id' } }, {}] }),
  );
  await writeFile(join(dir, 'empty.json'), JSON.stringify({ steps: [] }));
  await writeFile(join(dir, 'body.json'), '{"status": "DELIVRD",\n "message_id": "m-1"}\n');
  await writeFile(join(dir, 'recording.jsonl'), '{"method":"POST","headers":{},"body":"{}"}\nnot json\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('messente-dlr as a child process', () => {
  it('prints its version from package.json', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      expect(await runCli([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('has --help for the tool and for every command', async () => {
    const tool = await runCli(['--help']);
    expect(tool.code).toBe(0);
    for (const command of COMMANDS) expect(tool.stdout).toMatch(new RegExp(`^  ${command}\\s+\\S`, 'm'));
    for (const command of COMMANDS) {
      const help = await runCli([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: messente-dlr ${command}\\b`));
      expect(help.stdout).toMatch(/--json/);
      expect(await runCli(['help', command])).toEqual(help);
    }
  });

  it('shows the help on stderr with exit 2 when no command is given', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^Usage: messente-dlr <command>/);
  });

  it.each([
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['an unknown option', ['trigger', 'DELIVRD', '--url', 'http://x', '--colour'], /unknown option --colour/],
    ['a missing --url', ['trigger', 'DELIVRD', '--secret', 's'], /missing --url/],
    ['--url without a value', ['doctor', '--secret', 's', '--url'], /option --url needs a value/],
    [
      'a --url that is not a URL',
      ['doctor', '--secret', 's', '--url', 'localhost:3000'],
      /must start with http:\/\/ or https:\/\//,
    ],
    ['a --url with spaces', ['doctor', '--secret', 's', '--url', 'not a url'], /'not a url' is not a URL/],
    [
      'a --url that is not http',
      ['doctor', '--secret', 's', '--url', 'ftp://x/'],
      /'ftp:\/\/x\/' must start with http:\/\//,
    ],
    ['no STATUS', ['trigger', '--url', 'http://x', '--secret', 's'], /at least one STATUS/],
    [
      'no secret',
      ['trigger', 'DELIVRD', '--url', 'http://x'],
      /missing --secret \(or set MESSENTE_API_PASSWORD\)/,
    ],
    [
      'a --set without =',
      ['trigger', 'DELIVRD', '--url', 'http://x', '--unsigned', '--set', 'err'],
      /--set 'err' must be key=value/,
    ],
    [
      'a --set with no key',
      ['trigger', 'DELIVRD', '--url', 'http://x', '--unsigned', '--set', '=1'],
      /must be key=value/,
    ],
    [
      'a --set with a bad key',
      ['trigger', 'DELIVRD', '--url', 'http://x', '--unsigned', '--set', 'a..b=1'],
      /not a field name/,
    ],
    [
      'a boolean with a value',
      ['trigger', 'DELIVRD', '--url', 'http://x', '--unsigned=yes'],
      /--unsigned takes no value/,
    ],
    ['doctor without a secret', ['doctor', '--url', 'http://x'], /missing --secret/],
    [
      'a bad --index',
      ['replay', 'r.jsonl', '--url', 'http://x', '--index', '0'],
      /--index must be a positive integer/,
    ],
    [
      'a bad --port',
      ['listen', '--port', '99999', '--forward-to', 'http://x'],
      /--port must be a port number/,
    ],
    ['listen without --forward-to', ['listen', '--port', '0'], /missing --forward-to/],
    ['replay without FILE', ['replay', '--url', 'http://x'], /give the FILE/],
    ['two FILEs for sign', ['sign', 'a', 'b', '--secret', 's'], /unexpected argument 'b'/],
  ])('exits 2 with one line for %s', async (_what, args, message) => {
    expectUsageError(await runCli(args), message);
  });

  it.each([
    ['a scenario file that is not JSON', 'broken.json', /broken\.json: not valid JSON \(column 27\)/],
    ['a scenario step with an unknown key', 'typo.json', /typo\.json: step 1: unknown key "expected"/],
    [
      'a reference to a later step',
      'forward-ref.json',
      /step 1: "\$step\.2\.message_id" must name an earlier step/,
    ],
    ['a scenario without steps', 'empty.json', /"steps" must be a non-empty array/],
    ['a scenario file that does not exist', 'missing.json', /cannot read .*missing\.json: no such file/],
    ['a directory as scenario file', '.', /cannot read .*: is a directory/],
  ])('exits 2 with one line for %s', async (_what, file, message) => {
    expectUsageError(await runCli(['scenario', join(dir, file), '--url', deadUrl, '--secret', 's']), message);
  });

  it('exits 2 with one line for a recording with a broken line', async () => {
    expectUsageError(
      await runCli(['replay', join(dir, 'recording.jsonl'), '--url', deadUrl]),
      /recording\.jsonl:2: not valid JSON/,
    );
  });

  it('exits 1 with one line when the URL cannot be reached', async () => {
    const run = await runCli(['trigger', 'DELIVRD', '--url', deadUrl, '--secret', 's']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^messente-dlr trigger: cannot reach .*: nothing is listening at 127\.0\.0\.1:\d+ \(connection refused\)\n$/,
    );
    const json = await runCli(['scenario', '--url', deadUrl, '--secret', 's', '--json']);
    expect(json.code).toBe(1);
    expect(jsonOf(json)).toMatchObject({
      ok: false,
      steps: [],
      error: expect.stringMatching(/step 1: cannot reach/),
    });
    expect(json.stderr.split('\n')).toHaveLength(2);
  });

  it('stops at once on Ctrl-C while waiting for an answer', async () => {
    const silent = createHttpServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}/messente/dlr`;
      const cli = await startCli(['doctor', '--url', url, '--secret', 's']);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = Date.now();
      const run = await cli.stop('SIGINT');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(cli.child.signalCode).toBe('SIGINT');
      expect(run.stderr).toBe('');
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('sign prints what signDlr computes, for a file and for stdin', async () => {
    const bytes = await readFile(join(dir, 'body.json'));
    const expected = signDlr(bytes, 's3cret');
    expect(await runCli(['sign', join(dir, 'body.json'), '--secret', 's3cret'])).toEqual({
      code: 0,
      stdout: `${expected}\n`,
      stderr: '',
    });
    expect((await runCli(['sign'], { input: bytes, env: { MESSENTE_API_PASSWORD: 's3cret' } })).stdout).toBe(
      `${expected}\n`,
    );
    expect(jsonOf(await runCli(['sign', '-', '--secret', 's3cret', '--json'], { input: bytes }))).toEqual({
      signature: expected,
      bytes: bytes.length,
    });
    const binary = Buffer.from([0xff, 0x00, 0x7b, 0xc3]);
    expect((await runCli(['sign', '--secret', 'k'], { input: binary })).stdout).toBe(
      `${signDlr(binary, 'k')}\n`,
    );
  });

  it('writes no colour codes when its output is not a terminal', async () => {
    const run = await runCli(['doctor', '--url', deadUrl, '--secret', 's']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}signed report/);
    expect(run.stdout).not.toContain(ESC);
  });
});

const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describeRequiring(
  hasScript,
  'script (util-linux)',
  'apt-get install bsdutils',
)('messente-dlr on a terminal', () => {
  /** Runs the CLI under `script`, which gives it a pseudo-terminal as stdout. */
  async function onTerminal(env: Record<string, string>): Promise<string> {
    const { builtCli } = await import('../support/cli.js');
    const bin = await builtCli();
    const command = `${process.execPath} ${bin} doctor --url ${deadUrl} --secret s`;
    return execFileSync('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env['PATH'] ?? '', TERM: 'xterm', ...env },
      encoding: 'utf8',
    }).toString();
  }

  it('colours its output, unless NO_COLOR is set', async () => {
    // script exits with the command's code (1 here); execFileSync throws on it.
    const output = (env: Record<string, string>) =>
      onTerminal(env).catch((error: { stdout?: string }) => String(error.stdout ?? ''));
    expect(await output({})).toMatch(new RegExp(`${ESC}\\[31mFAIL${ESC}\\[39m`));
    const plain = await output({ NO_COLOR: '1' });
    expect(plain).toMatch(/FAIL {2}signed report/);
    expect(plain).not.toContain(ESC);
  });
});

describe('argument parsing under fuzzing (in process)', () => {
  it('answers any arguments with exit 0, 1 or 2 and at most one line on stderr, never a stack', async () => {
    const vocabulary = [
      ...COMMANDS,
      'help',
      '--help',
      '-h',
      '--version',
      '--json',
      '--url',
      deadUrl,
      'http://',
      'not a url',
      '--secret',
      's',
      '',
      '--set',
      'err=1',
      'a.b.c={"x":1}',
      '__proto__.polluted=1',
      '=',
      '--unsigned',
      '--message-id',
      '--channel',
      '--index',
      '2',
      '-1',
      '--port',
      '0',
      '70000',
      '--forward-to',
      '--record',
      join(dir, 'rec.jsonl'),
      join(dir, 'no-such-dir', 'rec.jsonl'),
      join(dir, 'broken.json'),
      join(dir, 'typo.json'),
      join(dir, 'recording.jsonl'),
      join(dir, 'missing'),
      'DELIVRD',
      'ACCEPTD',
      '--',
      '-x',
      '--url=',
    ];
    const token = fc.oneof(fc.constantFrom(...vocabulary), fc.string({ maxLength: 12 }));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...COMMANDS),
        fc.array(token, { maxLength: 8 }),
        async (command, rest) => {
          // Mostly a real command, so that parsing gets past the command name.
          const argv = rest[0] === '--' ? rest : [command, ...rest];
          let stdout = '';
          let stderr = '';
          const code = await runInProcess(argv, {
            stdout: { write: (text: string) => (stdout += text) },
            stderr: { write: (text: string) => (stderr += text) },
            stdin: Readable.from([]),
            env: {},
            // listen stops as soon as it has started.
            signal: AbortSignal.abort(),
          });
          expect([0, 1, 2]).toContain(code);
          if (!stderr.startsWith('Usage:')) expect(stderr.split('\n').length).toBeLessThanOrEqual(2);
          expect(stderr).not.toMatch(/unexpected error|\bat .*:\d+:\d+/);
          expect(stdout).not.toMatch(/\bat .*:\d+:\d+\)/);
          expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('scenario and recording files under fuzzing', () => {
  // Whatever a file passes the checks with must also be sendable: requests go to this server.
  let server: Server;
  let url: URL;
  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{"outcome":"change"}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/hook`);
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('any JSON as a scenario is either sent or refused with a UsageError', async () => {
    const step = fc.record(
      {
        name: fc.oneof(fc.string(), fc.integer()),
        report: fc.oneof(
          fc.dictionary(
            fc.constantFrom('message_id', 'status', 'omnimessage_id', '__proto__', 'x'),
            fc.oneof(
              fc.jsonValue(),
              fc.constantFrom('$step.1.message_id', '$step.0.x', '$step.9.status', '$step.x'),
            ),
          ),
          fc.jsonValue(),
        ),
        sign: fc.oneof(fc.boolean(), fc.constantFrom('wrong', 'yes')),
        headers: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.jsonValue()),
        expect: fc.oneof(
          fc.record({ httpStatus: fc.integer(), outcome: fc.string() }, { requiredKeys: [] }),
          fc.jsonValue(),
        ),
        other: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const scenario = fc.oneof(
      fc.jsonValue(),
      fc.record({ steps: fc.oneof(fc.array(step, { maxLength: 4 }), fc.jsonValue()) }),
    );
    await fc.assert(
      fc.asyncProperty(scenario, async (value) => {
        let checked;
        let reports;
        try {
          checked = checkScenario(value, 'fuzz.json');
          reports = buildReports(checked, 'fuzz.json');
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          expect((error as Error).message).toMatch(/^fuzz\.json: [^\n]+$/);
          return;
        }
        expect(reports).toHaveLength(checked.steps.length);
        for (const [index, step] of checked.steps.entries()) {
          const answer = await postReport(url, JSON.stringify(reports[index]), step.sign, 's', step.headers);
          expect(answer.status).toBe(200);
        }
        expect(({} as Record<string, unknown>)['message_id']).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('any text as a recording is either sent or refused with a UsageError', async () => {
    const line = fc.oneof(
      fc.string(),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc
        .record({
          method: fc.oneof(fc.string(), fc.constantFrom('POST', 'PUT', 'CONNECT', 'A')),
          headers: fc.dictionary(fc.string(), fc.string()),
          body: fc.string(),
        })
        .map((value) => JSON.stringify(value)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 5 }), async (lines) => {
        let requests;
        try {
          requests = parseRecording(lines.join('\n'), 'rec.jsonl');
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          expect((error as Error).message).toMatch(/^rec\.jsonl(:\d+)?: [^\n]+$/);
          return;
        }
        for (const request of requests) {
          const body = recordedBody(request);
          // An answer (whatever the server makes of the method), or a clean UnreachableError.
          await sendHttp(url, {
            method: request.method,
            headers: endToEndHeaders(request.headers),
            body,
          }).then(
            (answer) => expect(answer.status).toBeGreaterThanOrEqual(100),
            (error: unknown) => expect(error).toBeInstanceOf(UnreachableError),
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
