// Builds what the bench runs: the package into dist/ (`npm run build`) and the bench servers
// into bench/dist/ (`tsc -p bench/tsconfig.json`). Set BENCH_SKIP_BUILD=1 to reuse both.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status})`);
}

export function build() {
  if (process.env.BENCH_SKIP_BUILD === '1') return;
  run('npm', ['run', '--silent', 'build']);
  rmSync(join(root, 'bench', 'dist'), { recursive: true, force: true });
  run(process.execPath, [
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    'bench/tsconfig.json',
  ]);
  // The test suite's server helpers, so that the store bench starts Redis and PostgreSQL alike.
  run(process.execPath, [
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    'bench/tsconfig.support.json',
  ]);
}
