// Cost per report when one omnimessage collects many messages, run by run.mjs as
// `node bench/omnimessage.mjs` after the build. The store keeps half the messages, so half of
// the reports also evict one: indexing and unindexing are both measured. The baseline is the
// same store and the same number of messages without omnimessage ids, measured in the same run:
// an index with a constant cost per report stays within a small factor of it, an index that
// scans its list costs tens of times more at 80 000 messages. (Comparing 80 000 messages with
// 10 000 alone also measures the CPU caches: 40 000 messages do not fit, 5 000 do.)
import { InMemoryDlrStore } from '../dist/index.js';

const SIZES = [10_000, 80_000];
const BOUND = 2;

async function perReportMicros(messages, omnimessageId) {
  const store = new InMemoryDlrStore({ maxMessages: messages / 2, maxPending: messages * 2 });
  // The index is built by the first query; from then on every report keeps it.
  await store.forOmnimessage('one');
  const started = performance.now();
  for (let i = 0; i < messages; i++) {
    const report = { message_id: `m-${i}`, status: 'DELIVRD' };
    if (omnimessageId) report.omnimessage_id = omnimessageId;
    await store.record(report, 0, 60_000);
  }
  return ((performance.now() - started) * 1000) / messages;
}

function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

const ROUNDS = 5;
// One untimed pass of each kind first, so that the JIT has compiled the store before timing.
for (const size of SIZES) await perReportMicros(size, 'one');
for (const size of SIZES) await perReportMicros(size, null);
const runs = new Map(
  SIZES.flatMap((size) => [
    [`${size} one`, []],
    [`${size} none`, []],
  ]),
);
for (let round = 0; round < ROUNDS; round++) {
  for (const size of SIZES) {
    runs.get(`${size} one`).push(await perReportMicros(size, 'one'));
    runs.get(`${size} none`).push(await perReportMicros(size, null));
  }
}
console.log(`omnimessage index: one omnimessage, half its messages evicted (medians of ${ROUNDS} rounds)`);
let ratio = 0;
for (const size of SIZES) {
  const one = median(runs.get(`${size} one`));
  const none = median(runs.get(`${size} none`));
  ratio = one / none;
  console.log(
    `  ${size.toLocaleString('en').padStart(6)} messages: ${one.toFixed(2)} µs per report in one omnimessage, ` +
      `${none.toFixed(2)} µs without omnimessage ids (${ratio.toFixed(2)}x)`,
  );
}
const largest = SIZES.at(-1).toLocaleString('en');
console.log(
  `  at ${largest} messages the omnimessage costs ${ratio.toFixed(2)}x the baseline: ` +
    `${ratio <= BOUND ? 'constant' : 'NOT CONSTANT'} (limit ${BOUND}x)`,
);
if (ratio > BOUND) process.exitCode = 1;
