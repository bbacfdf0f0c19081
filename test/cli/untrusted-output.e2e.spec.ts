import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessenteDlrModule } from '../../lib/index.js';
import { ADAPTERS, postDlr, startApp, type TestApp } from '../support/app.js';
import { runCli, startCli, type CliRun } from '../support/cli.js';

const SECRET = 'untrusted-output-secret';
const ENV = { MESSENTE_API_PASSWORD: SECRET };

/**
 * A message_id that, printed raw, sets the terminal's title (OSC), clears the screen (CSI)
 * and starts a line of its own that passes for listen's "signature valid -> 200".
 */
const HOSTILE_ID =
  'evil\u001b]0;owned\u0007\u001b[2J\r\n12:00:00  DELIVRD   message forged  signature valid  -> 200 {"outcome":"change"}';
/** How HOSTILE_ID must look in human output. */
const SHOWN_ID =
  'evil\\u001b]0;owned\\u0007\\u001b[2J\\u000d\\u000a12:00:00  DELIVRD   message forged  signature valid  -> 200 {"outcome":"change"}';
/** An app's answer with the same tricks. */
const HOSTILE_ANSWER = 'nope\u001b[31m\u009b2J\r\rok    wrong signature is refused';

/** Control characters a human output may hold: only the line feeds that end its lines. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** Nothing in `run`'s output acts on a terminal, and no line was forged. */
function expectSafe(run: CliRun): void {
  expect(run.stdout).not.toMatch(CONTROL);
  expect(run.stderr).not.toMatch(CONTROL);
  expect(run.stdout).not.toMatch(/^12:00:00/m);
  expect(run.stdout).not.toMatch(/^ok {4}wrong signature/m);
}

/** A webhook that answers `status` with HOSTILE_ANSWER, whatever it gets. */
async function startHostile(status: number): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': 'text/plain' }).end(HOSTILE_ANSWER));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, server };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'messente-dlr-untrusted-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each(ADAPTERS)(
  'listen prints what a report holds with control characters escaped, on %s',
  (adapter) => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(adapter, {
        imports: [MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: ['127.0.0.1'] })],
      });
    });
    afterAll(() => app.close());

    it('shows a message_id with ESC, OSC and CR/LF escaped, on its one line', async () => {
      const listen = await startCli(
        ['listen', '--port', '0', '--forward-to', `${app.baseUrl}/messente/dlr`],
        {
          env: ENV,
        },
      );
      const [, port] = await listen.waitForLine(/^Listening on http:\/\/127\.0\.0\.1:(\d+)/);
      const body = JSON.stringify({ message_id: HOSTILE_ID, omnimessage_id: HOSTILE_ID, status: 'DELIVRD' });
      const answer = await postDlr(`http://127.0.0.1:${port}`, body, { secret: SECRET });
      expect(answer.status).toBe(200);
      await listen.waitForLine(/Stopped|signature valid/);
      const run = await listen.stop();
      expectSafe(run);
      const lines = run.stdout.split('\n').filter((line) => line.includes('evil'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`DELIVRD   message ${SHOWN_ID}  omnimessage ${SHOWN_ID}  signature valid`);
      expect(lines[0]).toMatch(/-> 200 \{"outcome":"change"\}$/);
    });
  },
);

describe('the other printing commands escape what reports, answers and files hold', () => {
  let hostile: { url: string; server: Server };
  beforeAll(async () => {
    hostile = await startHostile(200);
  });
  afterAll(() => new Promise((resolve) => hostile.server.close(resolve)));

  it('trigger: the message_id and the answer', async () => {
    const run = await runCli(['trigger', 'DELIVRD', '--url', hostile.url, '--message-id', HOSTILE_ID], {
      env: ENV,
    });
    expect(run.code).toBe(0);
    expectSafe(run);
    expect(run.stdout).toContain(`message_id ${SHOWN_ID}  omnimessage_id`);
    expect(run.stdout).toContain(
      '200 nope\\u001b[31m\\u009b2J\\u000d\\u000dok    wrong signature is refused',
    );
  });

  it('doctor: the answer, and the note that quotes it', async () => {
    const run = await runCli(['doctor', '--url', hostile.url], { env: ENV });
    expect(run.code).toBe(1);
    expectSafe(run);
    expect(run.stdout).toMatch(/^ok {4}signed report +200 nope\\u001b\[31m\\u009b2J/m);
    expect(run.stdout).toMatch(/note: answered nope\\u001b\[31m/);
  });

  it('scenario: step names and ids from the file, the answer, and an error naming a step', async () => {
    const file = join(dir, 'hostile-scenario.json');
    await writeFile(
      file,
      JSON.stringify({
        steps: [{ name: HOSTILE_ID, report: { message_id: HOSTILE_ID }, expect: { httpStatus: 201 } }],
      }),
    );
    const run = await runCli(['scenario', file, '--url', hostile.url], { env: ENV });
    expect(run.code).toBe(1);
    expectSafe(run);
    expect(run.stdout).toContain(`1  ${SHOWN_ID}`);
    expect(run.stdout).toMatch(/^step 1: expected HTTP 201, got 200: nope\\u001b\[31m/m);

    const reference = join(dir, 'hostile-reference.json');
    await writeFile(
      reference,
      JSON.stringify({ steps: [{}, { report: { status: `$step.9${HOSTILE_ID}` } }] }),
    );
    const refused = await runCli(['scenario', reference, '--url', hostile.url], { env: ENV });
    expect(refused.code).toBe(2);
    expectSafe(refused);
    expect(refused.stderr).toContain(`"$step.9${SHOWN_ID}" must name an earlier step`);
    expect(refused.stderr.split('\n')).toHaveLength(2);
  });

  it('replay: ids and answers from the recording, and the answer now', async () => {
    const file = join(dir, 'hostile.jsonl');
    const line = {
      receivedAt: new Date().toISOString(),
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message_id: HOSTILE_ID, status: `DELIVRD${HOSTILE_ANSWER}` }),
      answer: { error: HOSTILE_ANSWER },
    };
    await writeFile(file, `${JSON.stringify(line)}\n`);
    const run = await runCli(['replay', file, '--url', hostile.url]);
    expect(run.code).toBe(0);
    expectSafe(run);
    expect(run.stdout).toContain(`message ${SHOWN_ID}  recorded: nope\\u001b[31m`);
    expect(run.stdout).toMatch(
      /now: 200 nope\\u001b\[31m\\u009b2J\\u000d\\u000dok {4}wrong signature is refused$/m,
    );
  });
});
