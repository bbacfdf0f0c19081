import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

// Jest hands each test file a copy of process.env, so setting TZ here would not reach V8's
// time-zone cache. Each zone is therefore tried in a child process running the real source.
const source = ts.transpileModule(
  readFileSync(new URL('../../lib/utils/parse-utc-timestamp.ts', import.meta.url), 'utf8'),
  {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  },
).outputText;

function parseUnder(tz: string, value: string): { parsed: number | null; local: number } {
  const script = `${source}
const parsed = parseUtcTimestamp(${JSON.stringify(value)});
console.log(JSON.stringify({ parsed: parsed && parsed.getTime(), local: new Date('2020-02-04T08:09:42').getTime() }));`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, TZ: tz },
  });
  return JSON.parse(output.toString()) as { parsed: number | null; local: number };
}

describe('parseUtcTimestamp', () => {
  const instant = Date.UTC(2020, 1, 4, 8, 9, 42, 389);

  it.each(['Europe/Tallinn', 'UTC', 'America/New_York'])(
    'reads an offset-less timestamp as UTC under TZ=%s',
    (tz) => {
      const result = parseUnder(tz, '2020-02-04T08:09:42.389630');
      expect(result.parsed).toBe(instant);
      // Proves the zone took effect: a local-time parse differs from UTC everywhere but UTC.
      expect(result.local === Date.UTC(2020, 1, 4, 8, 9, 42)).toBe(tz === 'UTC');
    },
  );

  it('honours an explicit offset', () => {
    expect(parseUnder('Europe/Tallinn', '2020-02-04T10:09:42.389+02:00').parsed).toBe(instant);
    expect(parseUnder('Europe/Tallinn', '2020-02-04T08:09:42.389Z').parsed).toBe(instant);
  });

  it.each(['', 'yesterday', '2020-02-30T25:00:00', '2020-02-04', 42])('returns null for %p', (value) => {
    expect(parseUnder('UTC', value as string).parsed).toBeNull();
  });
});
