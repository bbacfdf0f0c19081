import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRequiring } from './requires.js';
import { freePort } from './redis-server.js';

/** A private PostgreSQL server on a loopback port, in a temporary directory, owned by one test file. */
export interface PostgresServer {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  /** Stops it (`pg_ctl stop -m fast`) and deletes its directory. */
  stop(): Promise<void>;
  /** Stops it as in a crash (`pg_ctl stop -m immediate`): recovery runs at the next start. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
}

/** The newest `/usr/lib/postgresql/<version>/bin` holding `initdb`, or null. */
function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0]!, 'bin') : null;
}

const isRoot = process.getuid?.() === 0;

/** True when Debian's PostgreSQL server binaries are installed (and, as root, a `postgres` user to run them). */
export function postgresAvailable(): boolean {
  if (binDir() === null) return false;
  if (!isRoot) return true;
  return spawnSync('id', ['-u', 'postgres']).status === 0;
}

/** `describe` for suites that need PostgreSQL: fails in CI without it, skips with a notice elsewhere. */
export function describeWithPostgres(name: string, fn: () => void): void {
  describeRequiring(postgresAvailable(), 'PostgreSQL', 'apt-get install postgresql')(name, fn);
}

const running = new Set<string>();
// A test run that dies halfway must not leave servers behind.
process.once('exit', () => running.forEach((data) => pgCtl(['stop', '-D', data, '-m', 'immediate'], true)));

/**
 * Runs a PostgreSQL binary; as root through `runuser -u postgres`, since initdb and pg_ctl
 * refuse to run as root.
 */
function pgBin(name: string, args: string[], cwd: string, quiet = false): void {
  const bin = join(binDir()!, name);
  const [command, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const result = spawnSync(command, argv, { cwd, encoding: 'utf8' });
  if (result.status !== 0 && !quiet) {
    throw new Error(`${name} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  }
}

function pgCtl(args: string[], quiet = false): void {
  pgBin('pg_ctl', args, tmpdir(), quiet);
}

/**
 * Creates a cluster in a fresh temporary directory (owned by `postgres` when running as root),
 * starts it on a free loopback port with `pg_stat_statements` loaded, and resolves once it
 * accepts connections. Never the machine's own server: tests stop and crash it.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'dlr-postgres-'));
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  pgBin('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'], dir);
  const port = await freePort();
  // fsync off: a test "crash" stops the process, not the machine, so what was written survives.
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c max_connections=200',
    '-c shared_preload_libraries=pg_stat_statements',
    '-c pg_stat_statements.track=all',
  ].join(' ');
  const start = async () => {
    pgCtl(['start', '-D', data, '-w', '-t', '30', '-l', join(dir, 'log'), '-o', options]);
    running.add(data);
  };
  const halt = async (mode: 'fast' | 'immediate') => {
    pgCtl(['stop', '-D', data, '-m', mode, '-w'], true);
    running.delete(data);
  };
  await start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    kill: () => halt('immediate'),
    async stop() {
      await halt('fast');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
