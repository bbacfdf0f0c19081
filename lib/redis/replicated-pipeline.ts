import { Cluster } from 'ioredis';
import type { RedisClient } from './redis-connection.js';
import type { Script, ScriptCall } from './redis-dlr.scripts.js';

/** How many replicas must acknowledge a write, and how long `WAIT` waits for them. */
export interface Replication {
  readonly replicas: number;
  readonly timeoutMs: number;
}

/**
 * Runs a script and `WAIT` in one pipeline (one round trip, on the node of the script's slot),
 * and fails unless `replicas` replicas acknowledged what it wrote: Redis replicates
 * asynchronously, and a 200 must survive the loss of the master that gave it.
 */
export async function runReplicated(
  client: RedisClient,
  script: Script,
  keys: readonly string[],
  args: readonly string[],
  replication: Replication,
  redirected = false,
): Promise<unknown> {
  // (ioredis sends a script as EVAL on a connection's first use, so NOSCRIPT, whose retry
  // would leave the pipeline, only follows a SCRIPT FLUSH on a live connection.)
  const pipeline = client.pipeline();
  (pipeline as unknown as Record<string, ScriptCall>)[script.name]!(...keys, ...args);
  pipeline.call('WAIT', replication.replicas, replication.timeoutMs);
  const [[scriptError, reply], [waitError, acknowledged]] = (await pipeline.exec()) as [
    [Error | null, unknown],
    [Error | null, unknown],
  ];
  if (scriptError) {
    // ioredis follows a redirection for a pipeline only when every command in it was
    // redirected, and WAIT, which has no key, never is: after a failover or a resharding,
    // learn the new slot owners and send the pipeline once more (the script did not run).
    if (!redirected && client instanceof Cluster && /^(MOVED|ASK) /.test(scriptError.message)) {
      await new Promise<void>((resolve) => client.refreshSlotsCache(() => resolve()));
      return runReplicated(client, script, keys, args, replication, true);
    }
    throw scriptError;
  }
  if (waitError) throw waitError;
  if (Number(acknowledged) < replication.replicas) {
    throw new Error(
      `${Number(acknowledged)} of ${replication.replicas} replicas acknowledged within ${replication.timeoutMs} ms`,
    );
  }
  return reply;
}
