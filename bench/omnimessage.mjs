// Cost per report when one omnimessage collects many messages, run by run.mjs as
// `node bench/omnimessage.mjs` after the build. The store keeps half the messages, so half of
// the reports also evict one: indexing and unindexing are both measured. The cost per report
// at 80 000 messages is compared with the cost at 10 000 in the same run: a constant cost per
// report gives about 1x, an index that scans its list grows with the number of messages. A query
// first builds the index, which the store otherwise builds only when it is first asked.
import { InMemoryDlrStore } from '../dist/index.js';

const SMALL = 10_000;
const LARGE = 80_000;
const BOUND = 2;

async function perReportMicros(messages) {
  const store = new InMemoryDlrStore({ maxMessages: messages / 2, maxPending: messages * 2 });
  // The index is built by the first query; from then on every report keeps it.
  await store.forOmnimessage('one');
  const started = performance.now();
  for (let i = 0; i < messages; i++) {
    await store.record({ message_id: `m-${i}`, status: 'DELIVRD', omnimessage_id: 'one' }, 0, 60_000);
  }
  return ((performance.now() - started) * 1000) / messages;
}

function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

const rounds = { [SMALL]: [], [LARGE]: [] };
for (let round = 0; round < 3; round++) {
  for (const messages of [SMALL, LARGE]) rounds[messages].push(await perReportMicros(messages));
}
const small = median(rounds[SMALL]);
const large = median(rounds[LARGE]);
const ratio = large / small;
console.log('omnimessage index: one omnimessage, half its messages evicted (medians of 3 rounds)');
console.log(`  ${SMALL.toLocaleString('en')} messages: ${small.toFixed(2)} µs per report`);
console.log(`  ${LARGE.toLocaleString('en')} messages: ${large.toFixed(2)} µs per report`);
console.log(
  `  cost per report at ${LARGE.toLocaleString('en')} = ${ratio.toFixed(2)}x at ${SMALL.toLocaleString('en')}: ` +
    `${ratio <= BOUND ? 'constant' : 'NOT CONSTANT'} (limit ${BOUND}x)`,
);
if (ratio > BOUND) process.exitCode = 1;
