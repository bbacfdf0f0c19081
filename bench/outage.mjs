// What a report costs during a downstream outage, when failed changes pile up past the package's
// bounds; run by run.mjs as `node bench/outage.mjs` after the build. Two parts, each against a
// baseline measured in the same run:
// - InMemoryDlrStore past `maxPending`: 100 000 pending changes, then 50 000 more, each of which
//   drops the oldest, against the same 50 000 into a store with room for all. Checked: at most
//   3x the baseline (a fresh Map iterator per drop measured 4.9x, the kept one 1.2-1.8x).
// - The dispatcher past its 100 000 remembered failed changes: a handler that always fails, and
//   20 000 reports timed after 120 000 failed ones, against 20 000 timed after 5 000. Checked:
//   at most 1.5x (forgetting one change per report, by a walk from the map's start, measured
//   1.9x; the larger heap alone costs a little).
// The store's error log (one line per dropped change) is silenced; building its message on each
// drop is still counted.
import 'reflect-metadata';
import { Injectable, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InMemoryDlrStore, MessenteDlrModule, OnDlrStatus } from '../dist/index.js';
import { DlrIntakeService } from '../dist/services/dlr-intake.service.js';
import { median } from './harness.mjs';

const ROUNDS = 3;
const STORE_LIMIT = 3;
const DISPATCH_LIMIT = 1.5;
Logger.overrideLogger(false);

/** µs per record() for `count` changes after `filled` pending ones, in a store of `maxPending`. */
async function storeMicros(maxPending, filled = 100_000, count = 50_000) {
  const store = new InMemoryDlrStore({ maxMessages: 400_000, maxPending });
  for (let i = 0; i < filled; i++) await store.record({ message_id: `a-${i}`, status: 'FAILED' }, 0, 60_000);
  const started = performance.now();
  for (let i = 0; i < count; i++) await store.record({ message_id: `b-${i}`, status: 'FAILED' }, 0, 60_000);
  return ((performance.now() - started) * 1000) / count;
}

class AlwaysFailing {
  onAny() {
    throw new Error('downstream unavailable');
  }
}
OnDlrStatus('*')(
  AlwaysFailing.prototype,
  'onAny',
  Object.getOwnPropertyDescriptor(AlwaysFailing.prototype, 'onAny'),
);
Injectable()(AlwaysFailing);

/** µs per accepted report (its handler failing) after `failed` failed changes. */
async function dispatchMicros(failed, count = 20_000) {
  class OutageModule {}
  Module({
    imports: [
      MessenteDlrModule.forRoot({
        handlerAttempts: 1,
        pendingSweepIntervalMs: 0,
        store: new InMemoryDlrStore({ maxMessages: 400_000, maxPending: 400_000 }),
      }),
    ],
    providers: [AlwaysFailing],
  })(OutageModule);
  const app = await NestFactory.createApplicationContext(OutageModule, { logger: false });
  const intake = app.get(DlrIntakeService);
  let next = 0;
  const feed = async (reports) => {
    for (let i = 0; i < reports; i += 32) {
      const batch = [];
      for (let j = 0; j < 32; j++)
        batch.push(intake.accept({ message_id: `m-${next++}`, status: 'DELIVRD' }));
      await Promise.all(batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await feed(failed);
  const started = performance.now();
  await feed(count);
  const micros = ((performance.now() - started) * 1000) / count;
  await app.close();
  return micros;
}

const roomy = [];
const dropping = [];
const few = [];
const many = [];
// JIT warm-up of both paths.
await storeMicros(1_000_000, 20_000, 20_000);
await storeMicros(20_000, 20_000, 20_000);
for (let round = 0; round < ROUNDS; round++) {
  roomy.push(await storeMicros(1_000_000));
  dropping.push(await storeMicros(100_000));
  few.push(await dispatchMicros(5_000));
  many.push(await dispatchMicros(120_000));
}
const storeRatio = median(dropping) / median(roomy);
const dispatchRatio = median(many) / median(few);
console.log(`outage: failed changes piling up past the bounds (medians of ${ROUNDS} rounds)`);
console.log(
  `  store past maxPending:  ${median(dropping).toFixed(2)} µs per record, dropping the oldest each time; ` +
    `${median(roomy).toFixed(2)} µs with room (${storeRatio.toFixed(2)}x) ` +
    `${storeRatio <= STORE_LIMIT ? 'constant' : 'NOT CONSTANT'} (limit ${STORE_LIMIT}x)`,
);
console.log(
  `  dispatcher past 100,000 failed changes: ${median(many).toFixed(2)} µs per report after 120,000; ` +
    `${median(few).toFixed(2)} µs after 5,000 (${dispatchRatio.toFixed(2)}x) ` +
    `${dispatchRatio <= DISPATCH_LIMIT ? 'constant' : 'NOT CONSTANT'} (limit ${DISPATCH_LIMIT}x)`,
);
if (storeRatio > STORE_LIMIT || dispatchRatio > DISPATCH_LIMIT) process.exitCode = 1;
