/**
 * Reading a shared index that is split into buckets: each bucket answers with its own head,
 * and the heads are merged here into one order.
 */

/** One entry of a shared index, read from one bucket (ties between buckets: walk order). */
export interface Entry {
  readonly bucket: number;
  readonly member: string;
  readonly score: number;
}

/**
 * Merges per-bucket `[member, score, member, score…]` replies (the reply of `buckets[i]` at
 * `replies[i]`; bucket `i` when omitted) into one list ordered by score; equal scores keep the
 * order of the replies (the walk), then of each reply.
 */
export function mergeByScore(replies: string[][], buckets?: number[]): Entry[] {
  const entries = replies.flatMap((reply, rank) => {
    const bucket = buckets?.[rank] ?? rank;
    const own: Entry[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      own.push({ bucket, member: reply[i]!, score: Number(reply[i + 1]) });
    }
    return own;
  });
  // Array.prototype.sort is stable: ties stay in walk order.
  return entries.sort((a, b) => a.score - b.score);
}

/** The entries of each bucket, in their order. */
export function groupByBucket(entries: readonly Entry[]): Map<number, Entry[]> {
  const groups = new Map<number, Entry[]>();
  for (const entry of entries) {
    const group = groups.get(entry.bucket);
    if (group) group.push(entry);
    else groups.set(entry.bucket, [entry]);
  }
  return groups;
}

/**
 * Reads every bucket of `walk` with `read` (a bounded ZRANGE… WITHSCORES), at once, and merges
 * the answers by score, ties in walk order.
 */
export async function readBuckets(
  walk: number[],
  read: (bucket: number) => Promise<string[]>,
): Promise<Entry[]> {
  return mergeByScore(await Promise.all(walk.map(read)), walk);
}
