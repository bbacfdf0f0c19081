// What outcome tracking costs, in one process: `node bench/tracking.mjs` (npm run bench:tracking;
// npm run bench runs it after the telemetry run unless BENCH_SKIP_TRACKING=1).
//
// How it works: the current tree is built (`npm run build`, skipped with BENCH_SKIP_BUILD=1) and
// loaded once. Per store, three Fastify apps of it are started, configured alike
// (MessenteDlrModule.forRoot with one secret, loopback allowed, one `@OnDlrStatus('*')` and one
// `@OnDeliveryOutcome('*')` handler that count their calls; bench/in-process.mjs): "tracking off"
// gets reports of omnimessages nobody tracked; "tracking on" gets the same reports, every one's
// omnimessage tracked with `DeliveryStatusService.track()` before its batch; "off again" is an
// A/A control, a second "off" app, whose spread against "off" is what noise looks like in this run.
//
// Each round makes fresh sends as Messente answers them (`buildSendAnswer`, 1 or 2 channels in
// turn: sms alone, or viber then its sms fallback) and one signed report per message (`dlrPayload`,
// `signDlr`): the first channel of a two-channel send UNDELIV (err 1), every send's last message
// DELIVRD, so each tracked send yields exactly one `delivered` outcome. All three apps get the same
// signed bodies, each its own store. The track() calls are the "on" app's send path: they run
// before its batch, outside the measured time (their own CPU time is printed apart). What is
// compared is the process's CPU time per batch (process.cpuUsage, user + system) from the first
// request until the last answer and every handler call the batch causes (status handlers in every
// app, outcome handlers in "on"), paired by round, the order of the three apps going through all
// six permutations round by round, as in bench/baseline.mjs.
//
// The in-memory store first, then RedisDlrStore if a Redis server answers at
// BENCH_TRACKING_REDIS_URL (default redis://127.0.0.1:6379) and the built store tracks
// (`RedisDlrStore.prototype.track`): a key prefix per run and per app, deleted at the end.
//
// Verdict: target on/off median >= 0.85 (tracking costs at most 15 %). Exit code 1 only for errors
// (non-200 answers, handler calls that differ from the 200s or from the tracked sends, a failed
// build), not for the verdict.
//
// Env: BENCH_TRACKING_ROUNDS (default 30), BENCH_TRACKING_BATCH (reports per batch, default 1000),
// BENCH_TRACKING_WARMUP (unmeasured batches per app first, default 3), BENCH_TRACKING_REDIS_URL,
// BENCH_TRACKING_REDIS=0 (skip Redis), BENCH_SKIP_BUILD=1 (reuse dist/).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CONCURRENCY,
  HANDLER_WAIT_MS,
  PERMUTATIONS,
  buildPackage,
  checkCalls,
  deleteRedisKeys,
  describeRun,
  median,
  noiseOf,
  pairedRatios,
  printNoise,
  printRates,
  printRatios,
  redisAnswers,
  runBatch,
  startApp,
  targetVerdict,
  workingTree,
} from './in-process.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.env.BENCH_TRACKING_ROUNDS ?? 30);
const batch = Number(process.env.BENCH_TRACKING_BATCH ?? 1000);
const warmupBatches = Number(process.env.BENCH_TRACKING_WARMUP ?? 3);
const redisUrl = process.env.BENCH_TRACKING_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** On/off median at least this: tracking costs at most 15 % throughput. */
const TARGET = 0.85;

const apps = [];
let redisCleanup = null;
try {
  buildPackage(ROOT);
  // Loaded only now, from dist/ (the package by its own name).
  const pkg = await import('nestjs-messente-dlr');
  const { buildSendAnswer, dlrPayload, signDlr } = await import('nestjs-messente-dlr/testing');
  const { RedisDlrStore } = await import('nestjs-messente-dlr/redis');
  const { DLR_PATH, SECRET } = await import('./harness.mjs');

  const VARIANTS = [
    { name: 'tracking off', short: 'off', tracks: false },
    { name: 'tracking on', short: 'on', tracks: true },
    { name: 'off again (A/A)', short: 'A/A', tracks: false },
  ];

  let sendCount = 0;
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  /**
   * `batch` signed reports and the sends they belong to, made outside the measured time: sends of
   * 1 and 2 channels in turn, one report per message, the last of each send DELIVRD.
   */
  function traffic() {
    const sends = [];
    const requests = [];
    while (requests.length < batch) {
      const channels = sendCount++ % 2 && batch - requests.length >= 2 ? ['viber', 'sms'] : ['sms'];
      const answer = buildSendAnswer({ channels });
      sends.push({ answer, ref: `bench-${runId}-${sendCount}` });
      answer.messages.forEach((message, index) => {
        const last = index === answer.messages.length - 1;
        const body = JSON.stringify(
          dlrPayload({
            message_id: message.message_id,
            omnimessage_id: answer.omnimessage_id,
            channel: message.channel,
            to: answer.to,
            sender: message.sender,
            status: last ? 'DELIVRD' : 'UNDELIV',
            err: last ? 0 : 1,
            error: last ? null : 'Delivery failure',
          }),
        );
        requests.push({
          body,
          headers: { 'content-type': 'application/json', 'x-messente-signature': signDlr(body, SECRET) },
        });
      });
    }
    return { sends, requests };
  }

  /** The "on" app's send path: track() of every send, CONCURRENCY at once; returns sends per CPU-second. */
  async function trackAll(entry, sends) {
    let next = 0;
    const worker = async () => {
      while (next < sends.length) {
        const { answer, ref } = sends[next++];
        await entry.statuses.track(answer, { ref });
      }
    };
    const started = process.cpuUsage();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const used = process.cpuUsage(started);
    await new Promise((resolve) => setImmediate(resolve)); // whatever track() left queued, unmeasured
    return sends.length / ((used.user + used.system) / 1e6);
  }

  /** One batch of `round` to one app: track first when it tracks, then the measured reports. */
  async function batchOf(entry, { sends, requests }) {
    if (entry.variant.tracks) {
      entry.trackRates.push(await trackAll(entry, sends));
      entry.tracked += sends.length;
    }
    const calls = entry.counter.calls + requests.length;
    const outcomes = entry.counter.outcomes + (entry.variant.tracks ? sends.length : 0);
    return runBatch(entry, requests, DLR_PATH, async () => {
      const reached = await Promise.all([
        entry.counter.reach('calls', calls, HANDLER_WAIT_MS),
        entry.counter.reach('outcomes', outcomes, HANDLER_WAIT_MS),
      ]);
      if (reached.includes(false)) entry.late++;
    });
  }

  let problems = 0;
  /** One comparison: the three apps on `storeFor(variant)`, `rounds` rounds, then the report. */
  async function compare(title, storeFor) {
    const entries = [];
    for (const variant of VARIANTS) {
      const store = storeFor(variant);
      const entry = await startApp(pkg, {
        secret: SECRET,
        options: store ? { store } : {},
        outcomes: true,
        extra: { variant, tracked: 0, trackRates: [], late: 0 },
      });
      entry.statuses = entry.app.get(pkg.DeliveryStatusService);
      apps.push(entry);
      entries.push(entry);
    }
    for (let i = 0; i < warmupBatches; i++) {
      const warmup = traffic();
      for (const entry of entries) await batchOf(entry, warmup);
    }
    for (const entry of entries) entry.trackRates.length = 0;
    for (let round = 0; round < rounds; round++) {
      const made = traffic();
      for (const i of PERMUTATIONS[round % PERMUTATIONS.length]) {
        entries[i].rates.push(await batchOf(entries[i], made));
      }
    }
    const [off, on, control] = entries;
    const onRatios = pairedRatios(on, off);
    const controlRatios = pairedRatios(control, off);
    const noise = noiseOf(controlRatios);

    console.log('');
    console.log(`${title}:`);
    printRates(entries, (entry) => entry.variant.name);
    printRatios([
      ['on / off', onRatios],
      ['A/A: again / off', controlRatios],
    ]);
    printNoise(noise);
    console.log(
      `  verdict: target on/off >= ${TARGET.toFixed(2)} (tracking costs at most ${Math.round(100 * (1 - TARGET))} %) ` +
        targetVerdict(onRatios, TARGET, noise, 'on/off').text,
    );
    console.log(
      `  send path, not measured above: track() ${median(on.trackRates).toFixed(0)} sends per CPU-second ` +
        `(median; ${on.tracked} sends tracked, ${CONCURRENCY} at once)`,
    );

    const statusChecks = [];
    const outcomeChecks = [];
    let wrong = 0;
    for (const entry of entries) {
      const status = await checkCalls(entry, entry.variant.short);
      const outcome = await checkCalls(entry, entry.variant.short, 'outcomes', entry.tracked);
      const delivered = entry.counter.results.delivered ?? 0;
      if (!status.ok) wrong++;
      if (!outcome.ok || delivered !== entry.tracked) wrong++;
      statusChecks.push(status.text);
      const others = Object.entries(entry.counter.results)
        .filter(([result]) => result !== 'delivered')
        .map(([result, count]) => `, ${result} ${count}`)
        .join('');
      outcomeChecks.push(
        outcome.text + (entry.tracked || outcome.count ? ` (delivered ${delivered}${others})` : ''),
      );
      if (entry.late) {
        outcomeChecks.push(
          `${entry.variant.short}: ${entry.late} batch(es) waited ${HANDLER_WAIT_MS} ms in vain`,
        );
      }
    }
    console.log(`  status handler calls = 200s: ${statusChecks.join('; ')}`);
    console.log(
      `  outcome handler calls = tracked sends: ${outcomeChecks.join('; ')}${wrong ? '  WARNING' : ''}`,
    );
    problems += wrong;
    for (const entry of entries) await entry.app.close();
    apps.length = 0;
  }

  console.log('outcome tracking on against off in one process (bench/tracking.mjs):');
  console.log(`  build     ${workingTree(ROOT).text}`);
  console.log('  off       reports of omnimessages nobody tracked');
  console.log(
    '  on        the same reports, each omnimessage tracked (track()) before its batch, outside the measured time',
  );
  console.log('  A/A       "off" again: a second app, same build, same configuration');
  console.log(
    `${describeRun({ rounds, batch, warmupBatches })}; sends of 1 and 2 ` +
      'channels in turn, one report per message, the last DELIVRD; CPU time (user + system) per batch up to its ' +
      'last answer and handler call; order permuted every round',
  );

  await compare('InMemoryDlrStore (default)', () => undefined);

  if (process.env.BENCH_TRACKING_REDIS === '0') {
    console.log('\nRedisDlrStore: skipped (BENCH_TRACKING_REDIS=0)');
  } else if (typeof RedisDlrStore.prototype.track !== 'function') {
    console.log('\nRedisDlrStore: skipped (the store does not track yet: no RedisDlrStore.prototype.track)');
  } else if (!(await redisAnswers(redisUrl))) {
    console.log(`\nRedisDlrStore: skipped (no Redis answering at ${redisUrl})`);
  } else {
    const runPrefix = `bench-tracking:${runId}:`;
    redisCleanup = () => deleteRedisKeys(redisUrl, runPrefix);
    const names = { off: 'off', on: 'on', 'A/A': 'aa' };
    await compare(
      `RedisDlrStore (${redisUrl}, key prefix ${runPrefix}<off|on|aa>:)`,
      (variant) => new RedisDlrStore({ url: redisUrl, keyPrefix: `${runPrefix}${names[variant.short]}:` }),
    );
  }
  if (problems) {
    console.log(
      `\n  WARNING: ${problems} problem(s): refused reports, or handler calls != 200s or != tracked sends`,
    );
    process.exitCode = 1;
  }
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  for (const entry of apps) await entry.app.close().catch(() => {});
  if (redisCleanup) await redisCleanup().catch((error) => console.error(`Redis key cleanup: ${error}`));
}
