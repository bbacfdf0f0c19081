import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { type RedisServer, freePort, startRedisServer } from './redis-server.js';

/** One node as `CLUSTER NODES` describes it. */
export interface ClusterNodeInfo {
  readonly id: string;
  readonly port: number;
  readonly role: 'master' | 'replica';
  /** For a replica, its master's id. */
  readonly masterId: string | null;
  /** Slot ranges served by a master, inclusive. */
  readonly slots: ReadonlyArray<readonly [number, number]>;
  /** Marked failed or unreachable by the node asked. */
  readonly failing: boolean;
}

/** A private Redis Cluster on loopback ports, owned by one test file. */
export interface RedisCluster {
  /** Startup nodes for ioredis `Cluster`. */
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  /** The cluster as a live node sees it. */
  topology(): Promise<ClusterNodeInfo[]>;
  /** Port of the master serving a slot. */
  masterOf(slot: number): Promise<number>;
  /** `CLUSTER KEYSLOT` of each key, asked of a node. */
  keyslots(keys: readonly string[]): Promise<number[]>;
  /** Promotes a master's replica with `CLUSTER FAILOVER` and waits until the cluster is ok again. */
  failover(masterPort: number): Promise<{ replicaPort: number }>;
  /** SIGKILLs a node, as in a crash; it stays down until `revive`. */
  kill(port: number): Promise<void>;
  /** Starts a killed node again, empty: it rejoins as a replica; waits until it is in sync. */
  revive(port: number): Promise<void>;
  /** Waits until every live node reports `cluster_state:ok` and sees every slot served by a live master. */
  waitUntilOk(timeoutMs?: number): Promise<void>;
  /** Stops every node. */
  stop(): Promise<void>;
}

const run = promisify(execFile);

/** Runs a command; its failure says what it printed. */
async function runOrSay(file: string, args: string[]): Promise<void> {
  try {
    await run(file, args);
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: error });
  }
}

/**
 * Starts `masters` masters with one replica each (`redis-server --cluster-enabled yes`, node
 * timeout 2 s, bus ports picked free), joins them with `redis-cli --cluster create`, and waits
 * until every node reports `cluster_state:ok` and every replica is in sync.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'dlr-cluster-'));
  const servers = new Map<number, RedisServer>();
  const admins = new Map<number, Redis>();
  try {
    await Promise.all(
      Array.from({ length: masters * 2 }, async () => {
        // Six nodes pick their ports at once, so two can be handed the same one (a node's port
        // and another's bus port): the later then fails to bind, and tries fresh ports.
        for (let attempt = 1; ; attempt++) {
          try {
            return await startNode();
          } catch (error) {
            if (attempt >= 3) throw error;
          }
        }
      }),
    );
    async function startNode(): Promise<void> {
      const busPort = await freePort();
      const server = await startRedisServer({
        args: [
          // Its own directory: a replica writes the RDB of its full sync there, which a node
          // started later in a shared directory would load.
          '--dir',
          mkdtempSync(join(dir, 'node-')),
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${busPort}.conf`),
          '--cluster-node-timeout',
          '2000',
          '--cluster-port',
          String(busPort),
          // Replicas sync at once instead of after the default 5 s.
          '--repl-diskless-sync-delay',
          '0',
        ],
      });
      servers.set(server.port, server);
      admins.set(server.port, new Redis(server.port, '127.0.0.1', { lazyConnect: false }));
    }
    const ports = [...servers.keys()];
    await runOrSay('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
  } catch (error) {
    await Promise.all([...admins.values()].map((admin) => admin.disconnect()));
    await Promise.all([...servers.values()].map((server) => server.stop()));
    throw error;
  }
  const dead = new Set<number>();
  const live = () => [...admins].filter(([port]) => !dead.has(port));

  async function topology(): Promise<ClusterNodeInfo[]> {
    const [, admin] = live()[0]!;
    return parseNodes(await admin.call('CLUSTER', 'NODES'));
  }

  async function waitUntilOk(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        live().map(async ([, admin]) => {
          const info = String(await admin.call('CLUSTER', 'INFO'));
          const nodes = parseNodes(await admin.call('CLUSTER', 'NODES'));
          const served = nodes
            .filter((node) => node.role === 'master' && !node.failing && !dead.has(node.port))
            .flatMap((node) => node.slots)
            .reduce((total, [from, to]) => total + to - from + 1, 0);
          const replicasSynced = await Promise.all(
            nodes
              .filter((node) => node.role === 'replica' && !dead.has(node.port))
              .map(async (node) =>
                String(await admins.get(node.port)!.info('replication')).includes('master_link_status:up'),
              ),
          );
          return info.includes('cluster_state:ok') && served === 16384 && replicasSynced.every(Boolean);
        }),
      ).catch(() => [false]);
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error('Redis Cluster did not reach cluster_state:ok in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  // redis-cli returns before every replica has been told whom to follow.
  const deadline = Date.now() + 15_000;
  while ((await topology()).filter((node) => node.role === 'replica').length < masters) {
    if (Date.now() > deadline) throw new Error('Redis Cluster replicas did not join in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await waitUntilOk();
  return {
    nodes: [...servers.keys()].map((port) => ({ host: '127.0.0.1', port })),
    topology,
    async masterOf(slot) {
      const owner = (await topology()).find(
        (node) => node.role === 'master' && node.slots.some(([from, to]) => slot >= from && slot <= to),
      );
      if (!owner) throw new Error(`no master serves slot ${slot}`);
      return owner.port;
    },
    async keyslots(keys) {
      const [, admin] = live()[0]!;
      return Promise.all(keys.map(async (key) => Number(await admin.call('CLUSTER', 'KEYSLOT', key))));
    },
    async failover(masterPort) {
      const nodes = await topology();
      const master = nodes.find((node) => node.port === masterPort)!;
      const replica = nodes.find((node) => node.masterId === master.id && !dead.has(node.port));
      if (!replica) throw new Error(`master ${masterPort} has no live replica`);
      await admins.get(replica.port)!.call('CLUSTER', 'FAILOVER');
      const deadline = Date.now() + 10_000;
      while ((await topology()).find((node) => node.port === replica.port)?.role !== 'master') {
        if (Date.now() > deadline) throw new Error('CLUSTER FAILOVER did not complete in time');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await waitUntilOk();
      return { replicaPort: replica.port };
    },
    async kill(port) {
      dead.add(port);
      admins.get(port)!.disconnect();
      await servers.get(port)!.kill();
    },
    async revive(port) {
      await servers.get(port)!.restart();
      admins.set(port, new Redis(port, '127.0.0.1'));
      dead.delete(port);
      const deadline = Date.now() + 15_000;
      while ((await topology()).find((node) => node.port === port)?.role !== 'replica') {
        if (Date.now() > deadline) throw new Error(`node ${port} did not rejoin as a replica in time`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await waitUntilOk();
    },
    waitUntilOk,
    async stop() {
      for (const [, admin] of admins) admin.disconnect();
      await Promise.all([...servers.values()].map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Parses `CLUSTER NODES`. */
function parseNodes(reply: unknown): ClusterNodeInfo[] {
  return String(reply)
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.trim().split(' ');
      const flagList = flags!.split(',');
      return {
        id: id!,
        port: Number(address!.split('@')[0]!.split(':').at(-1)),
        role: flagList.includes('master') ? 'master' : 'replica',
        masterId: masterId === '-' ? null : masterId!,
        failing: flagList.includes('fail') || flagList.includes('fail?'),
        slots: slots
          .filter((range) => !range.startsWith('['))
          .map((range) => {
            const [from, to] = range.split('-').map(Number);
            return [from!, to ?? from!] as const;
          }),
      };
    });
}
