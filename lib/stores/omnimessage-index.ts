/** Message ids of one omnimessage: the one id most have, or a Set (O(1) however many). */
type OmnimessageIds = string | Set<string>;

/** What the index needs of a message it may file: its omnimessage and when it got it. */
export interface Fileable {
  /** The omnimessage of the message's first change, which the index files it under. */
  omnimessageId: string | null;
  /** When it got its omnimessage, in filing order: a late-built index keeps that order. */
  filed: number;
}

/**
 * `InMemoryDlrStore`'s omnimessage → message ids index. Built on the first lookup, from the
 * messages then held, and kept up to date from then on: an app that never asks spares two
 * lookups in a large map per report. Most omnimessages have one message: it is kept as a plain
 * id, and only a second message turns the entry into a Set.
 */
export class OmnimessageIndex {
  private byOmnimessage: Map<string, OmnimessageIds> | null = null;
  private filings = 0;

  /** Omnimessages indexed now; 0 until the first lookup builds the index (for tests). */
  get size(): number {
    return this.byOmnimessage?.size ?? 0;
  }

  /** Files a message under `omnimessageId`, unless it has an omnimessage already. */
  file(entry: Fileable, omnimessageId: unknown, messageId: string): void {
    if (typeof omnimessageId !== 'string' || entry.omnimessageId !== null) return;
    entry.omnimessageId = omnimessageId;
    entry.filed = ++this.filings;
    if (this.byOmnimessage) add(this.byOmnimessage, omnimessageId, messageId);
  }

  /** Forgets a message the store evicted. */
  unfile(entry: Fileable, messageId: string): void {
    const omnimessageId = entry.omnimessageId;
    const index = this.byOmnimessage;
    if (omnimessageId === null || index === null) return;
    const ids = index.get(omnimessageId);
    if (ids === messageId) index.delete(omnimessageId);
    else if (ids instanceof Set && ids.delete(messageId) && ids.size === 0) index.delete(omnimessageId);
  }

  /**
   * The ids filed under `omnimessageId`, in the order they were filed. `held` lists the
   * messages the store holds, read only when the index is built (on the first lookup).
   */
  lookup(omnimessageId: string, held: () => Iterable<[string, Fileable]>): Iterable<string> {
    const ids = (this.byOmnimessage ??= build(held())).get(omnimessageId);
    return ids === undefined ? [] : typeof ids === 'string' ? [ids] : ids;
  }
}

/** The index of the messages held, in filing order, as if it had been kept all along. */
function build(held: Iterable<[string, Fileable]>): Map<string, OmnimessageIds> {
  const filed: [string, Fileable][] = [];
  for (const [messageId, entry] of held) if (entry.omnimessageId !== null) filed.push([messageId, entry]);
  // `forOmnimessage` lists the messages in the order they first changed.
  filed.sort(([, a], [, b]) => a.filed - b.filed);
  const index = new Map<string, OmnimessageIds>();
  for (const [messageId, entry] of filed) add(index, entry.omnimessageId!, messageId);
  return index;
}

function add(index: Map<string, OmnimessageIds>, omnimessageId: string, messageId: string): void {
  const ids = index.get(omnimessageId);
  if (ids === undefined) index.set(omnimessageId, messageId);
  else if (typeof ids !== 'string') ids.add(messageId);
  else if (ids !== messageId) index.set(omnimessageId, new Set([ids, messageId]));
}
