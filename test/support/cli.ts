import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = join(ROOT, 'node_modules', '.cache', 'messente-dlr-cli');

let built: Promise<string> | undefined;

/**
 * The package built as `npm run build` builds it (tsc, tsconfig.build.json) into a cache
 * directory named after a hash of the sources, so that suites run the real bin and rebuild
 * only after a change. Resolves with the path of the built `messente-dlr` bin.
 */
export function builtCli(): Promise<string> {
  built ??= build();
  return built;
}

async function build(): Promise<string> {
  const hash = await sourceHash();
  const target = join(CACHE, hash);
  const bin = join(target, 'dist', 'cli', 'main.js');
  if (await exists(bin)) return bin;
  const staging = `${target}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  await promisify(execFile)(
    process.execPath,
    [tsc, '-p', 'tsconfig.build.json', '--outDir', join(staging, 'dist')],
    {
      cwd: ROOT,
    },
  );
  await cp(join(ROOT, 'package.json'), join(staging, 'package.json'));
  try {
    await rename(staging, target);
  } catch {
    // Another suite built the same sources at the same time: use its copy.
    await rm(staging, { recursive: true, force: true });
  }
  // Builds of older sources are of no more use.
  for (const entry of await readdir(CACHE)) {
    if (entry !== hash && !entry.endsWith('.tmp'))
      await rm(join(CACHE, entry), { recursive: true, force: true });
  }
  return bin;
}

async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];
  for (const entry of await readdir(join(ROOT, 'lib'), { recursive: true })) {
    if (entry.endsWith('.ts')) files.push(join('lib', entry));
  }
  for (const file of files.sort())
    hash
      .update(file)
      .update('\0')
      .update(await readFile(join(ROOT, file)));
  return hash.digest('hex').slice(0, 16);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** What a finished CLI run printed and exited with. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of a CLI run. */
export interface CliRunOptions {
  /** The child's whole environment besides PATH: nothing leaks in from the test's own. */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed. */
  input?: string | Buffer;
  cwd?: string;
}

/** A running `messente-dlr` child process. */
export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with the first stdout line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` and resolves when the process exits. */
  stop(signal?: NodeJS.Signals): Promise<CliRun>;
  /** Resolves when the process exits by itself. */
  readonly exited: Promise<CliRun>;
}

/** Starts the built bin as a child process: `node dist/cli/main.js ...args`. */
export async function startCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliProcess> {
  const bin = await builtCli();
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<CliRun>((done) =>
    child.once('close', (code) => {
      for (const listener of listeners) listener();
      done({ code, stdout, stderr });
    }),
  );
  if (options.input !== undefined) child.stdin.end(options.input);
  else child.stdin.end();
  return {
    child,
    exited,
    waitForLine(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of stdout.split('\n')) {
            const match = pattern.exec(line);
            if (match) {
              cleanup();
              return resolve(match);
            }
          }
          if (child.exitCode !== null) {
            cleanup();
            reject(
              new Error(`CLI exited (${child.exitCode}) before printing ${pattern}: ${stdout}${stderr}`),
            );
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`CLI did not print ${pattern} within ${timeoutMs} ms: ${stdout}${stderr}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the built bin to its end. */
export async function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  const cli = await startCli(args, options);
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), 30_000);
  try {
    return await cli.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Parses the one JSON document a `--json` run printed. */
export function jsonOf<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not one JSON document (exit ${run.code}): ${run.stdout}${run.stderr}`);
  }
}
