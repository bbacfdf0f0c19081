/**
 * True when this run is CI. Any non-empty `CI` other than `false` or `0` counts: CI systems
 * set `true`, `1` or their own name.
 */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env['CI'] ?? '').trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

/**
 * `describe` for a suite that needs something installed on the machine (`redis-server`,
 * PostgreSQL, Chromium). Without it the suite fails in CI, so that a broken CI image cannot
 * pass silently, and is skipped elsewhere with a notice naming what to install.
 */
export function describeRequiring(
  available: boolean,
  what: string,
  install: string,
): (name: string, fn: () => void) => void {
  return (name, fn) => {
    if (available) {
      describe(name, fn);
    } else if (isCi()) {
      describe(name, () => {
        it(`has ${what}`, () => {
          throw new Error(`${what} is required in CI`);
        });
      });
    } else {
      console.warn(`${name}: skipped; install ${what} (${install}) to run these tests`);
      describe.skip(name, fn);
    }
  };
}
