// What the list form of module option `accounts` costs the webhook, in one process:
// `node bench/accounts.mjs` (npm run bench:accounts; npm run bench runs it after the tracking run
// unless BENCH_SKIP_ACCOUNTS=1).
//
// How it works: the current tree is built (`npm run build`, skipped with BENCH_SKIP_BUILD=1) and
// loaded once. Four Fastify apps of it are started (MessenteDlrModule.forRoot, loopback allowed,
// one `@OnDlrStatus('*')` handler that counts its calls; bench/in-process.mjs), differing only in
// their secrets: "single secret" (`signatureSecrets: [one]`, the baseline); "3 accounts x 2
// secrets, first matches" (`accounts: [{ id, signatureSecrets: [s1, s2] }, x 3]`, reports signed
// with the first account's first secret); "3 accounts x 2 secrets, last matches" (the same list,
// reports signed with the third account's second secret: the last of six, the worst case); and
// "single secret again" (A/A control: a second baseline app, whose spread against the first is
// what noise looks like in this run).
//
// Each round makes fresh reports (`dlrPayload`, a new message_id each) and signs every body with
// each app's secret; every app gets the same bodies. What is compared is the process's CPU time
// per batch (process.cpuUsage, user + system) from the first request until the last answer and
// handler call, paired by round, the order of the four apps going through all 24 permutations
// round by round. From the worst case's ratio: the extra CPU time per report of its five extra
// HMACs, in µs, set beside a direct measurement (HMAC-SHA256 of a typical report body, with
// node:crypto in a tight loop).
//
// Verdict: target (3 x 2) / single >= 0.90 for both list apps. Exit code 1 only for errors
// (non-200 answers, handler calls that differ from the 200s, a failed build), not for the verdict.
//
// Env: BENCH_ACCOUNTS_ROUNDS (default 24), BENCH_ACCOUNTS_BATCH (reports per batch, default 1000),
// BENCH_ACCOUNTS_WARMUP (unmeasured batches per app first, default 3), BENCH_ACCOUNTS_HMACS (HMACs
// per timing of the direct measurement, default 200000), BENCH_SKIP_BUILD=1 (reuse dist/).
import { createHmac } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HANDLER_WAIT_MS,
  buildPackage,
  checkCalls,
  describeRun,
  median,
  medianInterval,
  noiseOf,
  pairedRatios,
  printNoise,
  printRates,
  printRatios,
  runBatch,
  startApp,
  targetVerdict,
  workingTree,
} from './in-process.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.env.BENCH_ACCOUNTS_ROUNDS ?? 24);
const batch = Number(process.env.BENCH_ACCOUNTS_BATCH ?? 1000);
const warmupBatches = Number(process.env.BENCH_ACCOUNTS_WARMUP ?? 3);
const hmacsPerTiming = Number(process.env.BENCH_ACCOUNTS_HMACS ?? 200_000);
/** List form / single secret, median at least this: six secrets cost at most 10 % throughput. */
const TARGET = 0.9;

/** Every order of `n` items (n! of them), e.g. the 24 orders of four apps. */
function permutations(n) {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((order) =>
    Array.from({ length: n }, (_, at) => [...order.slice(0, at), n - 1, ...order.slice(at)]),
  );
}

/** µs of CPU time per HMAC-SHA256 of `body` (a Buffer): the median of 5 timings of `count` each. */
function timeHmac(secret, body, count) {
  let sink = 0;
  const timings = [];
  for (let run = 0; run < 6; run++) {
    const started = process.cpuUsage();
    for (let i = 0; i < count; i++) sink ^= createHmac('sha256', secret).update(body).digest()[0];
    const used = process.cpuUsage(started);
    if (run > 0) timings.push((used.user + used.system) / count); // the first one warms up
  }
  if (sink === 256) console.log(''); // never: keeps the loop's result alive
  return { perHmac: median(timings), min: Math.min(...timings), max: Math.max(...timings) };
}

const apps = [];
try {
  buildPackage(ROOT);
  // Loaded only now, from dist/ (the package by its own name).
  const pkg = await import('nestjs-messente-dlr');
  const { dlrPayload, signDlr } = await import('nestjs-messente-dlr/testing');
  const { DLR_PATH, SECRET } = await import('./harness.mjs');

  // Six distinct passwords, two per account; SECRET is the single app's one.
  const ACCOUNTS = ['shop-ee', 'shop-lv', 'shop-lt'].map((id) => ({
    id,
    signatureSecrets: [1, 2].map((k) => `bench-${id}-password-${k}-${'x'.repeat(8)}`),
  }));
  const listOptions = { signatureSecrets: undefined, accounts: ACCOUNTS };
  const VARIANTS = [
    { name: 'single secret', short: 'single', options: {}, signWith: SECRET, hmacs: 1 },
    {
      name: '3 accounts x 2 secrets, first matches',
      short: 'first',
      options: listOptions,
      signWith: ACCOUNTS[0].signatureSecrets[0],
      hmacs: 6,
    },
    {
      name: '3 accounts x 2 secrets, last matches',
      short: 'last',
      options: listOptions,
      signWith: ACCOUNTS[2].signatureSecrets[1],
      hmacs: 6,
    },
    { name: 'single secret again (A/A)', short: 'A/A', options: {}, signWith: SECRET, hmacs: 1 },
  ];
  const ORDERS = permutations(VARIANTS.length);

  /** `batch` fresh report bodies, each signed for every app, made outside the measured time. */
  function traffic() {
    const bodies = Array.from({ length: batch }, () => JSON.stringify(dlrPayload({})));
    return VARIANTS.map(({ signWith }) =>
      bodies.map((body) => ({
        body,
        headers: { 'content-type': 'application/json', 'x-messente-signature': signDlr(body, signWith) },
      })),
    );
  }

  async function batchOf(entry, requests) {
    const calls = entry.counter.calls + requests.length;
    return runBatch(entry, requests, DLR_PATH, async () => {
      if (!(await entry.counter.reach('calls', calls, HANDLER_WAIT_MS))) entry.late++;
    });
  }

  console.log('accounts (list form) against a single secret in one process (bench/accounts.mjs):');
  console.log(`  build     ${workingTree(ROOT).text}`);
  console.log('  single    signatureSecrets: [one secret]');
  console.log(
    '  first     accounts: 3 x { id, signatureSecrets: [2 secrets] }, reports signed with account 1, secret 1',
  );
  console.log('  last      the same list, reports signed with account 3, secret 2 (the 6th of 6)');
  console.log('  A/A       "single" again: a second app, same build, same configuration');
  console.log(
    `${describeRun({ rounds, batch, warmupBatches })}; fresh reports ` +
      'every round, the same bodies to every app; CPU time (user + system) per batch up to its last answer and ' +
      'handler call; order permuted every round (24 orders)',
  );

  const entries = [];
  for (const variant of VARIANTS) {
    const entry = await startApp(pkg, {
      secret: SECRET,
      options: variant.options,
      extra: { variant, late: 0 },
    });
    apps.push(entry);
    entries.push(entry);
  }
  for (let i = 0; i < warmupBatches; i++) {
    const warmup = traffic();
    for (const [index, entry] of entries.entries()) await batchOf(entry, warmup[index]);
  }
  for (let round = 0; round < rounds; round++) {
    const made = traffic();
    for (const i of ORDERS[round % ORDERS.length]) entries[i].rates.push(await batchOf(entries[i], made[i]));
  }

  const [single, first, last, control] = entries;
  const ratios = (entry) => pairedRatios(entry, single);
  const noise = noiseOf(ratios(control));

  console.log('');
  printRates(entries, (entry) => entry.variant.name);
  printRatios([
    ['first / single', ratios(first)],
    ['last / single', ratios(last)],
    ['A/A: again / single', ratios(control)],
  ]);
  printNoise(noise);
  for (const entry of [first, last]) {
    console.log(
      `  verdict ${entry.variant.short.padEnd(5)} / single >= ${TARGET.toFixed(2)} (within ${Math.round(100 * (1 - TARGET))} % ` +
        `of a single secret) ${targetVerdict(ratios(entry), TARGET, noise).text}`,
    );
  }

  // The cost of the extra HMACs: CPU µs per report of "last" minus that of "single", per round.
  const extraHmacs = last.variant.hmacs - single.variant.hmacs;
  const extraUs = last.rates.map((rate, round) => 1e6 / rate - 1e6 / single.rates[round]);
  const extra = median(extraUs);
  const extraInterval = medianInterval(extraUs);
  const singleUs = 1e6 / median(single.rates);
  const body = Buffer.from(JSON.stringify(dlrPayload({})));
  const hmac = timeHmac(Buffer.from(ACCOUNTS[0].signatureSecrets[0]), body, hmacsPerTiming);
  console.log('');
  console.log(
    `  extra HMACs, from the ratio: last - single = ${extra.toFixed(2)} µs CPU per report (median of ${rounds} rounds; ` +
      `95 % CI ${extraInterval[0].toFixed(2)}-${extraInterval[1].toFixed(2)}; a single-secret report takes ` +
      `${singleUs.toFixed(1)} µs), ${(extra / extraHmacs).toFixed(2)} µs per each of its ${extraHmacs} extra HMACs`,
  );
  console.log(
    `  HMAC-SHA256 measured directly: ${hmac.perHmac.toFixed(2)} µs per HMAC (node:crypto createHmac + update + digest ` +
      `of a ${body.length}-byte report body, median of 5 x ${hmacsPerTiming}; min ${hmac.min.toFixed(2)}, max ` +
      `${hmac.max.toFixed(2)}): ${extraHmacs} extra = ${(extraHmacs * hmac.perHmac).toFixed(2)} µs, ` +
      `all 6 = ${(6 * hmac.perHmac).toFixed(2)} µs per report`,
  );
  console.log(
    '  the guard stops at the first secret that matches (lib/webhook/dlr-signature.guard.ts, matchSecret): ' +
      '"first" does 1 HMAC, "last" 6, as does a report that no secret verifies (401)',
  );

  let problems = 0;
  const checks = [];
  for (const entry of entries) {
    const check = await checkCalls(entry, entry.variant.short);
    if (!check.ok || entry.late) problems++;
    checks.push(
      check.text + (entry.late ? ` (${entry.late} batch(es) waited ${HANDLER_WAIT_MS} ms in vain)` : ''),
    );
  }
  console.log(`  handler calls = 200s: ${checks.join('; ')}${problems ? '  WARNING' : ''}`);
  if (problems) {
    console.log(`\n  WARNING: ${problems} problem(s): refused reports, or handler calls != 200s`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  for (const entry of apps) await entry.app.close().catch(() => {});
}
