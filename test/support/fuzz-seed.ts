/**
 * The seed of this run's generated test data: `FUZZ_SEED` replays an earlier run, otherwise
 * the clock picks one. Every suite that generates data (fast-check properties and samples,
 * shuffles) draws from it, and a failure names it, so that any failure can be replayed with
 * `FUZZ_SEED=<seed> npm test`.
 */
export const FUZZ_SEED = readFuzzSeed(process.env);

/** `FUZZ_SEED` as an integer, or a fresh seed from the clock when unset. */
export function readFuzzSeed(env: NodeJS.ProcessEnv): number {
  const raw = env['FUZZ_SEED']?.trim();
  if (!raw) return Date.now() % 2 ** 31;
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new Error(`FUZZ_SEED must be an integer, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** Wraps a test body so that its failure message ends with the seed that replays it. */
export function replayable(run: () => unknown): () => Promise<void> {
  return async () => {
    try {
      await run();
    } catch (error) {
      if (error instanceof Error) error.message += `\n\nReplay this run with FUZZ_SEED=${FUZZ_SEED}`;
      throw error;
    }
  };
}

/** A seeded generator of numbers in [0, 1) (mulberry32): `Math.random` that can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A copy of `items` in an order drawn from `random` (Fisher–Yates). */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
