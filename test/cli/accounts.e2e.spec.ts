import { MessenteDlrModule } from '../../lib/index.js';
import { ADAPTERS, startApp, type TestApp } from '../support/app.js';
import { jsonOf, runCli } from '../support/cli.js';

/** Only these in the environment: a test passes the secret it means, never the default. */
const ENV = {};

describe.each(ADAPTERS)('--account against an app whose accounts has a resolver, on %s', (adapter) => {
  let running: TestApp;
  let url: string;

  beforeAll(async () => {
    running = await startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          allowedIps: ['127.0.0.1', '::1'],
          accounts: {
            resolve: async (id) => (id === 'shop-ee' ? { signatureSecrets: ['ee-secret'] } : null),
          },
        }),
      ],
    });
    url = `${running.baseUrl}/messente/dlr`;
  });

  afterAll(() => running.close());

  it('trigger posts to URL/ID and signs with that account’s secret', async () => {
    const run = await runCli(
      ['trigger', 'DELIVRD', '--url', url, '--account', 'shop-ee', '--secret', 'ee-secret'],
      { env: ENV },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`POST ${url}/shop-ee`);
    expect(run.stdout).toMatch(/^DELIVRD {2}200 \{"outcome":"change"\}/m);
    const json = jsonOf(
      await runCli(
        ['trigger', 'DELIVRD', '--url', `${url}/`, '--account', 'shop-ee', '--secret', 'ee-secret', '--json'],
        { env: ENV },
      ),
    );
    expect(json).toMatchObject({ url: `${url}/shop-ee`, account: 'shop-ee', ok: true });
  });

  it('trigger: a wrong secret and an unknown account are answered 401, exit 1', async () => {
    const wrong = await runCli(
      ['trigger', 'DELIVRD', '--url', url, '--account', 'shop-ee', '--secret', 'lv-secret'],
      { env: ENV },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/^DELIVRD {2}401 /m);
    const unknown = await runCli(
      ['trigger', 'DELIVRD', '--url', url, '--account', 'shop-lv', '--secret', 'ee-secret'],
      { env: ENV },
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain(`POST ${url}/shop-lv`);
    expect(unknown.stdout).toMatch(/^DELIVRD {2}401 /m);
  });

  it('an id outside the rule is a usage error for every command: exit 2, one line', async () => {
    for (const [command, account] of [
      ['trigger', 'bad id!'],
      ['scenario', 'x'.repeat(65)],
      ['doctor', ''],
      ['trigger', '..'],
    ] as const) {
      const args = command === 'trigger' ? ['trigger', 'DELIVRD'] : [command];
      const run = await runCli([...args, '--url', url, '--account', account, '--secret', 'ee-secret'], {
        env: ENV,
      });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain('--account');
      expect(run.stderr).not.toMatch(/\bat .*:\d+:\d+/);
    }
  });

  it('scenario with --account: every expectation of the built-in scenario holds', async () => {
    const run = await runCli(['scenario', '--url', url, '--account', 'shop-ee', '--secret', 'ee-secret'], {
      env: ENV,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`-> POST ${url}/shop-ee`);
    expect(run.stdout).toMatch(/^13 of 13 steps as expected$/m);
    const json = jsonOf(
      await runCli(['scenario', '--url', url, '--account', 'shop-ee', '--secret', 'ee-secret', '--json'], {
        env: ENV,
      }),
    );
    expect(json).toMatchObject({ url: `${url}/shop-ee`, account: 'shop-ee', ok: true, failed: 0 });
  });

  it('doctor --account reports the account’s endpoint healthy', async () => {
    const run = await runCli(['doctor', '--url', url, '--account', 'shop-ee', '--secret', 'ee-secret'], {
      env: ENV,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Checking POST ${url}/shop-ee`);
    expect(run.stdout).toMatch(/^All 5 checks passed/m);
    const json = jsonOf<{ url: string; account: string; ok: boolean; checks: { result: string }[] }>(
      await runCli(['doctor', '--url', url, '--account', 'shop-ee', '--secret', 'ee-secret', '--json'], {
        env: ENV,
      }),
    );
    expect(json).toMatchObject({ url: `${url}/shop-ee`, account: 'shop-ee', ok: true });
    expect(json.checks.map((check) => check.result)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    // Without the account the resolver form has no route: doctor fails.
    const bare = await runCli(['doctor', '--url', url, '--secret', 'ee-secret'], { env: ENV });
    expect(bare.code).toBe(1);
  });

  it('doctor --account after a 404 finds the webhook with the account kept last in the path', async () => {
    const wrong = `${running.baseUrl}/api/messente/dlr`;
    const run = await runCli(['doctor', '--url', wrong, '--account', 'shop-ee', '--secret', 'ee-secret'], {
      env: ENV,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}signed report +404/);
    expect(run.stdout).toContain(`A webhook answers at ${url}/shop-ee (it answered 200)`);
  });
});
