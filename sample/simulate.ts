/**
 * `npm run simulate`: runs `messente-dlr scenario sample/scenario.json --track .../messages`
 * against the running sample: the sample tracks the scenario's four sends (POST /messages), then
 * gets a realistic stream of their signed delivery reports. Then the same with the sample's
 * traffic (traffic.ts): two dozen sends to seven countries on four channels, delivered, seen,
 * failed or still pending, for the board's Delivery panel. It prints what the scenario sent,
 * what the sample answered, what GET /messages/:omnimessageId says now, the outcome of each send
 * (GET /outcomes/:ref), what the Delivery panel shows for the last hour, and the sample's
 * counters from GET /metrics.
 * PORT and MESSENTE_API_PASSWORD as for `npm start`.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DeliveryGroupStats } from 'nestjs-messente-dlr';
import { readSampleConfig } from './sample-config.js';
import { sampleTraffic } from './traffic.js';

// The package's own root, found as users find it: by its name.
const PACKAGE_ROOT = dirname(createRequire(import.meta.url).resolve('nestjs-messente-dlr/package.json'));

/** The sample's scenario: three omnimessages, a Viber-to-SMS fallback, duplicates, late and refused reports. */
export const SAMPLE_SCENARIO = join(PACKAGE_ROOT, 'sample', 'scenario.json');

/** `node <the package's messente-dlr bin>`. */
function packageCli(): string[] {
  const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  return [process.execPath, join(PACKAGE_ROOT, manifest.bin['messente-dlr']!)];
}

/** One step as `messente-dlr scenario --json` prints it. */
interface ScenarioStep {
  readonly name: string | null;
  readonly report: Record<string, unknown>;
  readonly httpStatus: number;
  readonly outcome: string | null;
}

/** What the simulation sent and what the sample says afterwards, as table rows. */
export interface SimulationResult {
  readonly sent: string[][];
  readonly now: string[][];
  /** `[ref, omnimessage, channels, result, delivered via, reasons]`, from GET /outcomes/:ref. */
  readonly outcomes: string[][];
  /** The same for the sends of the traffic (traffic.ts). */
  readonly traffic: string[][];
  /**
   * `[by, key, delivered, failed, pending, rate, median, p90]`, the Delivery panel's rows for
   * the last hour from GET /messente/board/api/delivery; empty when the board has no panel.
   */
  readonly delivery: string[][];
  /** `[counter, labels, value now, added by this run]`, from GET /metrics. */
  readonly counters: string[][];
  /** Every step of both scenarios got the answer it expects. */
  readonly ok: boolean;
}

/** The package's counters and gauge in a Prometheus scrape, by `name{labels}`. */
async function scrapeCounters(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const counters = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(messente_dlr_\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || !(match[1]!.endsWith('_total') || match[1] === 'messente_dlr_pending')) continue;
    const labels = (match[2] ?? '').replace(/,?otel_scope_\w+="[^"]*"/g, '').replace(/^,/, '');
    counters.set(`${match[1]}{${labels}}`, Number(match[3]));
  }
  return counters;
}

/** A send of the scenario as `messente-dlr scenario --json` prints it. */
interface ScenarioSend {
  readonly name: string;
  readonly ref: string | null;
  readonly answer: { readonly omnimessage_id: string };
}

/** What `messente-dlr scenario --json` prints, as far as the simulation reads it. */
interface ScenarioRun {
  readonly ok: boolean;
  readonly steps: ScenarioStep[];
  readonly sends: ScenarioSend[];
}

/**
 * Runs `messente-dlr scenario <file> --track <sample>/messages --json`: the sample tracks the
 * scenario's sends first, then gets their reports. Resolves with its document.
 */
function runScenario(
  cli: readonly string[],
  file: string,
  baseUrl: string,
  secret: string,
): Promise<ScenarioRun> {
  const [command, ...args] = cli;
  return new Promise((resolve, reject) => {
    execFile(
      command!,
      [
        ...args,
        'scenario',
        file,
        '--url',
        `${baseUrl}/messente/dlr`,
        '--track',
        `${baseUrl}/messages`,
        '--json',
      ],
      // The secret goes in the environment, not on the command line where `ps` shows it.
      { env: { ...process.env, MESSENTE_API_PASSWORD: secret } },
      (error, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout) as ScenarioRun);
        } catch {
          reject(new Error(stderr.trim() || error?.message || 'messente-dlr scenario printed no result'));
        }
      },
    );
  });
}

/** The traffic (traffic.ts) as a scenario file of its own, in a temporary folder, for the run of `use`. */
async function withTrafficFile<T>(use: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'messente-dlr-sample-'));
  try {
    const file = join(dir, 'traffic.json');
    await writeFile(file, JSON.stringify(sampleTraffic()));
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One row per tracked send of a scenario run, from GET /outcomes/:ref (see SimulationResult). */
async function outcomesOf(baseUrl: string, run: ScenarioRun): Promise<string[][]> {
  const short = (id: unknown) => String(id).slice(0, 8);
  const outcomes: string[][] = [];
  for (const { ref, answer } of run.sends) {
    if (ref === null) continue;
    const found = (await (await fetch(`${baseUrl}/outcomes/${encodeURIComponent(ref)}`)).json()) as Array<{
      omnimessageId: string;
      result: string;
      deliveredVia: string | null;
      messages: Array<{ channel: string; reason: string | null }>;
    }>;
    // Earlier runs tracked the same refs: this run's send is the one with this run's id.
    for (const outcome of found.filter((one) => one.omnimessageId === answer.omnimessage_id)) {
      outcomes.push([
        ref,
        short(outcome.omnimessageId),
        outcome.messages.map((message) => message.channel).join(' > '),
        outcome.result,
        outcome.deliveredVia ?? '-',
        outcome.messages.map((message) => message.reason ?? '-').join(', '),
      ]);
    }
  }
  return outcomes;
}

/** One row of the Delivery panel, as GET {board}/api/delivery answers it. */
type DeliveryRow = DeliveryGroupStats;

/** The Delivery panel's rows for the last hour, by channel then by country; none without a panel. */
async function deliveryPanel(baseUrl: string): Promise<string[][]> {
  const response = await fetch(`${baseUrl}/messente/board/api/delivery?window=1h`);
  if (!response.ok) return [];
  const stats = (await response.json()) as { byChannel: DeliveryRow[]; byCountry: DeliveryRow[] };
  const seconds = (value: number | null) => (value === null ? '-' : `${value} s`);
  const rows = (by: string, groups: DeliveryRow[]) =>
    groups.map((group) => [
      by,
      group.key,
      String(group.delivered),
      String(group.failed),
      String(group.pending),
      group.rate === null ? '-' : `${Math.round(group.rate * 100)} %`,
      seconds(group.p50Seconds),
      seconds(group.p90Seconds),
    ]);
  return [...rows('channel', stats.byChannel), ...rows('country', stats.byCountry)];
}

/**
 * Runs the sample scenario, then the sample's traffic, against a sample at `baseUrl` signing
 * with `secret`, through `cli` (default: this package's `messente-dlr` bin).
 */
export async function simulate(
  baseUrl: string,
  secret: string,
  options: { cli?: readonly string[] } = {},
): Promise<SimulationResult> {
  const cli = options.cli ?? packageCli();
  const before = await scrapeCounters(baseUrl);
  const result = await runScenario(cli, SAMPLE_SCENARIO, baseUrl, secret);
  const traffic = await withTrafficFile((file) => runScenario(cli, file, baseUrl, secret));
  const short = (id: unknown) => String(id).slice(0, 8);
  const sent = result.steps.map((step, index) => [
    String(index + 1),
    short(step.report['omnimessage_id']),
    short(step.report['message_id']),
    String(step.report['channel']),
    String(step.report['status']),
    step.name ?? '',
    `${step.httpStatus}${step.outcome ? ` ${step.outcome}` : ''}`,
  ]);
  // Handlers run after the 200; give them a moment before reading the store.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const now: string[][] = [];
  for (const omnimessage of new Set(result.steps.map((step) => String(step.report['omnimessage_id'])))) {
    const response = await fetch(`${baseUrl}/messages/${omnimessage}`);
    const body = (await response.json()) as {
      messages?: Array<{
        messageId: string;
        channel: string;
        status: string;
        previousStatus: string | null;
        err: number | null;
      }>;
    };
    for (const message of body.messages ?? []) {
      now.push([
        short(omnimessage),
        short(message.messageId),
        message.channel,
        message.status,
        message.previousStatus ?? '-',
        String(message.err ?? '-'),
      ]);
    }
  }
  const outcomes = await outcomesOf(baseUrl, result);
  const trafficOutcomes = await outcomesOf(baseUrl, traffic);
  const delivery = await deliveryPanel(baseUrl);
  const counters = [...(await scrapeCounters(baseUrl))].map(([key, value]) => {
    const [name, labels] = key.split('{') as [string, string];
    const added = value - (before.get(key) ?? 0);
    return [name, labels.slice(0, -1), String(value), name.endsWith('_total') ? `+${added}` : ''];
  });
  return {
    sent,
    now,
    outcomes,
    traffic: trafficOutcomes,
    delivery,
    counters,
    ok: result.ok && traffic.ok,
  };
}

async function main(): Promise<void> {
  const config = readSampleConfig();
  const baseUrl = `http://127.0.0.1:${config.port}`;
  try {
    const { sent, now, outcomes, traffic, delivery, counters, ok } = await simulate(baseUrl, config.secret);
    console.log('\nSent to POST /messente/dlr (messente-dlr scenario sample/scenario.json)');
    printTable(['#', 'omnimessage', 'message', 'channel', 'status', 'note', 'answer'], sent);
    console.log('\nNow at GET /messages/:omnimessageId');
    printTable(['omnimessage', 'message', 'channel', 'status', 'previous', 'err'], now);
    console.log('\nOutcomes of the sends at GET /outcomes/:ref (tracked by POST /messages)');
    printTable(['ref', 'omnimessage', 'channels', 'result', 'via', 'reasons'], outcomes);
    console.log(
      `\nThen the sample's traffic (sample/traffic.ts): ${traffic.length} sends, tracked and reported`,
    );
    printTable(['ref', 'omnimessage', 'channels', 'result', 'via', 'reasons'], traffic);
    if (delivery.length > 0) {
      console.log(`\nThe Delivery panel, last hour (${baseUrl}/messente/board)`);
      printTable(['by', 'key', 'delivered', 'failed', 'pending', 'rate', 'median', 'p90'], delivery);
    }
    console.log('\nCounters at GET /metrics (OpenTelemetry, Prometheus format)');
    printTable(['metric', 'labels', 'now', 'this run'], counters);
    if (!ok) {
      console.error(
        '\nSome answers were not what the scenarios expect: run messente-dlr scenario sample/scenario.json to see which',
      );
      process.exitCode = 1;
    }
  } catch (error) {
    console.error(`Simulation failed: ${error instanceof Error ? error.message : String(error)}`);
    console.error(`Is the sample running on ${baseUrl}? Start it with: npm start`);
    process.exitCode = 1;
  }
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(row));
}

// Run only as a script: the tests import `simulate` without running it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
