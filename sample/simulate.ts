/**
 * Sends the running sample a realistic stream of signed delivery reports and prints what
 * was sent, what the sample answered, what GET /messages/:omnimessageId says now, and the
 * sample's counters from GET /metrics.
 * Usage: `npm run simulate` (PORT and MESSENTE_API_PASSWORD as for `npm start`).
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { dlrPayload, signDlr } from 'nestjs-messente-dlr/testing';
import { readSampleConfig } from './sample-config.js';

interface Step {
  readonly omnimessage: string;
  readonly message: string;
  readonly channel: string;
  readonly status: string;
  readonly note: string;
  readonly err?: number;
  readonly error?: string;
  readonly unsigned?: boolean;
  readonly forwardedFor?: string;
}

/** Three omnimessages: delivered and seen, failed, and one whose reports arrive out of order. */
function scenario(): Step[] {
  const seen = { omnimessage: randomUUID(), message: randomUUID(), channel: 'viber' };
  const failed = { omnimessage: randomUUID(), message: randomUUID(), channel: 'sms' };
  const fallback = { omnimessage: seen.omnimessage, message: randomUUID(), channel: 'sms' };
  const late = { omnimessage: randomUUID(), message: randomUUID(), channel: 'whatsapp' };
  const undeliv = { omnimessage: randomUUID(), message: randomUUID(), channel: 'sms' };
  return [
    { ...seen, status: 'ACCEPTD', note: '' },
    { ...seen, status: 'DELIVRD', note: '' },
    { ...seen, status: 'DELIVRD', note: 'duplicate' },
    { ...seen, status: 'SEEN', note: '' },
    { ...fallback, status: 'ACCEPTD', note: '' },
    { ...fallback, status: 'EXPIRED', note: 'err 2', err: 2, error: 'Sending message expired' },
    { ...failed, status: 'ACCEPTD', note: '' },
    { ...failed, status: 'FAILED', note: 'err 1', err: 1, error: 'Delivery failure' },
    { ...failed, status: 'FAILED', note: 'duplicate', err: 1, error: 'Delivery failure' },
    { ...undeliv, status: 'UNDELIV', note: 'err 3', err: 3, error: 'Invalid number' },
    { ...late, status: 'DELIVRD', note: 'arrives first' },
    { ...late, status: 'ACCEPTD', note: 'out of order' },
    { ...late, status: 'SEEN', note: 'unsigned', unsigned: true },
    { ...late, status: 'SEEN', note: 'from 203.0.113.9 (XFF)', forwardedFor: '203.0.113.9' },
  ];
}

async function send(baseUrl: string, secret: string, step: Step): Promise<string> {
  const body = JSON.stringify(
    dlrPayload({
      message_id: step.message,
      omnimessage_id: step.omnimessage,
      status: step.status,
      channel: step.channel,
      err: step.err ?? 0,
      error: step.error ?? null,
    }),
  );
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (!step.unsigned) headers['x-messente-signature'] = signDlr(body, secret);
  if (step.forwardedFor) headers['x-forwarded-for'] = step.forwardedFor;
  const response = await fetch(`${baseUrl}/messente/dlr`, { method: 'POST', headers, body });
  const answer = (await response.json().catch(() => null)) as { outcome?: string } | null;
  return `${response.status}${answer?.outcome ? ` ${answer.outcome}` : ''}`;
}

/** What the simulation sent and what the sample says afterwards, as table rows. */
export interface SimulationResult {
  readonly sent: string[][];
  readonly now: string[][];
  /** `[counter, labels, value now, added by this run]`, from GET /metrics. */
  readonly counters: string[][];
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

/** Runs the scenario against a sample at `baseUrl` signing with `secret`. */
export async function simulate(baseUrl: string, secret: string): Promise<SimulationResult> {
  const steps = scenario();
  const before = await scrapeCounters(baseUrl);
  const short = (id: string) => id.slice(0, 8);
  const sent: string[][] = [];
  for (const [index, step] of steps.entries()) {
    const answer = await send(baseUrl, secret, step);
    sent.push([
      String(index + 1),
      short(step.omnimessage),
      short(step.message),
      step.channel,
      step.status,
      step.note,
      answer,
    ]);
  }
  // Handlers run after the 200; give them a moment before reading the store.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const now: string[][] = [];
  for (const omnimessage of [...new Set(steps.map((step) => step.omnimessage))]) {
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
  const counters = [...(await scrapeCounters(baseUrl))].map(([key, value]) => {
    const [name, labels] = key.split('{') as [string, string];
    const added = value - (before.get(key) ?? 0);
    return [name, labels.slice(0, -1), String(value), name.endsWith('_total') ? `+${added}` : ''];
  });
  return { sent, now, counters };
}

async function main(): Promise<void> {
  const config = readSampleConfig();
  const baseUrl = `http://127.0.0.1:${config.port}`;
  try {
    const { sent, now, counters } = await simulate(baseUrl, config.secret);
    console.log('\nSent to POST /messente/dlr');
    printTable(['#', 'omnimessage', 'message', 'channel', 'status', 'note', 'answer'], sent);
    console.log('\nNow at GET /messages/:omnimessageId');
    printTable(['omnimessage', 'message', 'channel', 'status', 'previous', 'err'], now);
    console.log('\nCounters at GET /metrics (OpenTelemetry, Prometheus format)');
    printTable(['metric', 'labels', 'now', 'this run'], counters);
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
