import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { type AddressInfo, connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { describeRequiring } from './requires.js';

/** A private `redis-server` process on a loopback port, owned by one test file. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Shuts it down gracefully. */
  stop(): Promise<void>;
  /** Kills it with SIGKILL, as in a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port: empty, or with what it had written when `durable`. */
  restart(): Promise<void>;
}

/** Options of `startRedisServer`. */
export interface RedisServerOptions {
  /**
   * Write every command to an append-only file, fsynced each time, so that a SIGKILL loses
   * nothing Redis acknowledged: lets a test check what survived a crash.
   */
  durable?: boolean;
}

/** True when a `redis-server` executable is on PATH. */
export function redisAvailable(): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, 'redis-server'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * `describe` for suites that need `redis-server`: fails in CI without it, skips with a notice
 * elsewhere.
 */
export function describeWithRedis(name: string, fn: () => void): void {
  describeRequiring(redisAvailable(), 'redis-server', 'apt-get install redis-server')(name, fn);
}

/**
 * Starts `redis-server` on a free loopback port, without persistence, and resolves once it
 * answers PING. Never the machine's own Redis: tests may flush, kill and restart it.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const persistence = options.durable
    ? ['--dir', mkdtempSync(join(tmpdir(), 'dlr-redis-')), '--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  let child = await launch(port, persistence);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => terminate(child, 'SIGTERM'),
    kill: () => terminate(child, 'SIGKILL'),
    async restart() {
      await terminate(child, 'SIGTERM');
      child = await launch(port, persistence);
    },
  };
}

const running = new Set<ChildProcess>();
// A test run that dies halfway must not leave servers behind.
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

async function launch(port: number, persistence: string[]): Promise<ChildProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--enable-debug-command',
    'local',
    ...persistence,
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.once('exit', () => running.delete(child));
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await answersPing(port)) return child;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await terminate(child, 'SIGKILL');
  throw new Error(`redis-server on port ${port} did not start:\n${output}`);
}

function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.setTimeout(500, () => socket.destroy());
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('close', () => resolve(false));
    socket.once('error', () => resolve(false));
  });
}

/** A free TCP port on 127.0.0.1, for a server a test starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
