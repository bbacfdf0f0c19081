// Memory of the default store under a long stream of reports; run by run.mjs as
// `node --expose-gc bench/memory.mjs` (BENCH_MEMORY_REPORTS overrides the 1 000 000).
// Each report goes through record() then complete(), as the dispatcher does after its handlers.
import { randomUUID } from 'node:crypto';
import { InMemoryDlrStore } from '../dist/index.js';
import { dlrPayload } from '../dist/testing/index.js';

const MAX_MESSAGES = 100_000;
const TOTAL = Number(process.env.BENCH_MEMORY_REPORTS ?? 1_000_000);
const CHECKPOINT = 100_000;
const BOUND = 1.5;
const LEASE_MS = 60_000;

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');

function snapshot() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed: heapUsed / 2 ** 20, rss: rss / 2 ** 20 };
}

function line(label, { heapUsed, rss }, extra = '') {
  console.log(
    `  ${label.padEnd(13)} heapUsed ${heapUsed.toFixed(1).padStart(7)} MB   rss ${rss.toFixed(1).padStart(7)} MB${extra}`,
  );
}

const store = new InMemoryDlrStore({ maxMessages: MAX_MESSAGES });
const template = dlrPayload({ timestamp: '2024-05-01T12:00:00.000000' });
console.log(
  `memory: ${TOTAL.toLocaleString('en')} reports, record() + complete() each, into ` +
    `new InMemoryDlrStore({ maxMessages: ${MAX_MESSAGES.toLocaleString('en')} })`,
);
const before = snapshot();
line('before', before);

let afterCheckpoint = null;
let changes = 0;
const started = performance.now();
for (let i = 1; i <= TOTAL; i++) {
  const raw = { ...template, message_id: randomUUID(), omnimessage_id: randomUUID() };
  const { outcome } = await store.record(raw, Date.now(), LEASE_MS);
  if (outcome === 'change') {
    changes++;
    await store.complete({ messageId: raw.message_id, status: raw.status });
  }
  if (i === CHECKPOINT) {
    afterCheckpoint = snapshot();
    line('after 100k', afterCheckpoint, `   (store.size ${store.size.toLocaleString('en')})`);
  }
}
const seconds = (performance.now() - started) / 1000;
const after = snapshot();
line(
  `after ${TOTAL >= 1e6 ? `${TOTAL / 1e6}M` : TOTAL.toLocaleString('en')}`,
  after,
  `   (store.size ${store.size.toLocaleString('en')})`,
);
console.log(
  `  ${changes.toLocaleString('en')} changes recorded in ${seconds.toFixed(1)} s ` +
    `(${Math.round(TOTAL / seconds).toLocaleString('en')} record+complete per s, timing includes gc checkpoints)`,
);
if (afterCheckpoint) {
  const ratio = after.heapUsed / afterCheckpoint.heapUsed;
  const bounded = ratio <= BOUND;
  console.log(
    `  heap after ${TOTAL.toLocaleString('en')} = ${ratio.toFixed(2)}x heap after 100k: ` +
      `${bounded ? 'bounded' : 'NOT BOUNDED'} (limit ${BOUND}x)`,
  );
  if (!bounded || changes !== TOTAL) process.exitCode = 1;
}
