import { dlrPayload } from '../../testing/dlr-payload.js';
import type { SendAnswer } from '../../testing/build-send-answer.js';
import { UsageError } from '../shared/cli-errors.js';
import { parseJsonText } from '../shared/parse-json-text.js';
import { invalidHeader } from '../shared/http-headers.js';
import type { Signing } from '../shared/webhook-request.js';

/** What a step expects; a step without one expects any 2xx answer. */
export interface ScenarioExpectation {
  readonly httpStatus?: number;
  readonly outcome?: string;
}

/** One step of a scenario, as written in its file (before `$step.N.field` is resolved). */
export interface ScenarioStep {
  readonly name: string | null;
  /** Fields that override a fresh valid report. */
  readonly report: Readonly<Record<string, unknown>>;
  readonly sign: Signing;
  /** Headers added to (or replacing) Content-Type and X-Messente-Signature. */
  readonly headers: Readonly<Record<string, string>>;
  readonly expect: ScenarioExpectation | null;
}

/** A send the scenario's reports belong to: its name, channels in fallback order, ref and recipient. */
export interface ScenarioSend {
  readonly name: string;
  readonly channels: readonly string[];
  readonly ref: string | null;
  /** The recipient in E.164 (`+37251234567`), or null for the testing kit's default. */
  readonly to: string | null;
}

/** A scenario: sends its reports belong to, and steps run in order against one webhook. */
export interface Scenario {
  readonly sends: readonly ScenarioSend[];
  readonly steps: readonly ScenarioStep[];
}

/** The ids of a scenario's sends, by name: Messente's send answer for each. */
export type SendAnswers = ReadonlyMap<string, SendAnswer>;

const STEP_KEYS = new Set(['name', 'report', 'sign', 'headers', 'expect']);
const EXPECT_KEYS = new Set(['httpStatus', 'outcome']);
const REFERENCE = /^\$step\.(\d+)\.(.+)$/;
const SEND_REFERENCE = /^\$send\.([^.]+)\.(.+)$/;
const SEND_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** E.164: a plus, then up to 15 digits, the first not 0. */
const E164 = /^\+[1-9][0-9]{5,14}$/;

/** Parses and checks a scenario file's text; a usage error naming the file and the step. */
export function parseScenario(text: string, source: string): Scenario {
  return checkScenario(parseJsonText(text, source), source);
}

/**
 * Checks a scenario's shape: `{ "steps": [{ "name", "report", "sign", "headers", "expect" }] }`.
 * Unknown step keys are refused, so that a typo (`"expected"`) cannot silently check nothing.
 */
export function checkScenario(value: unknown, source: string): Scenario {
  const fail = (what: string): never => {
    throw new UsageError(`${source}: ${what}`);
  };
  if (!isObject(value)) return fail('must be a JSON object with "steps"');
  const steps = value['steps'];
  if (!Array.isArray(steps) || steps.length === 0) return fail('"steps" must be a non-empty array');
  return {
    sends: checkSends(value['sends'] ?? {}, fail),
    steps: steps.map((step: unknown, index): ScenarioStep => {
      const at = `step ${index + 1}`;
      if (!isObject(step)) return fail(`${at} must be an object`);
      const unknown = Object.keys(step).find((key) => !STEP_KEYS.has(key));
      if (unknown !== undefined) {
        fail(`${at}: unknown key "${unknown}" (known: ${[...STEP_KEYS].join(', ')})`);
      }
      const { name = null, report = {}, sign = true, headers = {}, expect = null } = step;
      if (name !== null && typeof name !== 'string') fail(`${at}: "name" must be a string`);
      if (!isObject(report)) fail(`${at}: "report" must be an object`);
      if (sign !== true && sign !== false && sign !== 'wrong')
        fail(`${at}: "sign" must be true, false or "wrong"`);
      if (!isObject(headers) || Object.values(headers).some((v) => typeof v !== 'string')) {
        fail(`${at}: "headers" must be an object of strings`);
      }
      const badHeader = invalidHeader(headers as Record<string, string>);
      if (badHeader) fail(`${at}: ${badHeader}`);
      return {
        name: name as string | null,
        report: report as Record<string, unknown>,
        sign: sign === true ? 'valid' : sign === false ? 'none' : 'wrong',
        headers: headers as Record<string, string>,
        expect: expect === null ? null : checkExpectation(expect, (what) => fail(`${at}: ${what}`)),
      };
    }),
  };
}

/** `"sends": { "<name>": { "channels": ["viber", "sms"], "ref": "order-1", "to": "+37251234567" } }`. */
function checkSends(value: unknown, fail: (what: string) => never): ScenarioSend[] {
  if (!isObject(value)) return fail('"sends" must be an object of named sends');
  return Object.entries(value).map(([name, send]) => {
    const at = `sends.${name}`;
    if (!SEND_NAME.test(name)) fail(`"${at}": a send's name is 1 to 64 of A-Z a-z 0-9 _ -`);
    if (!isObject(send)) return fail(`"${at}" must be an object`);
    const { channels, ref = null, to = null } = send;
    const valid = (item: unknown) => typeof item === 'string' && SEND_NAME.test(item);
    if (!Array.isArray(channels) || channels.length === 0 || channels.length > 16 || !channels.every(valid))
      fail(`"${at}.channels" must be a list of 1 to 16 channel names, in fallback order`);
    if (new Set(channels as string[]).size !== (channels as string[]).length)
      fail(`"${at}.channels" names a channel twice`);
    if (ref !== null && (typeof ref !== 'string' || ref === '' || ref.length > 255))
      fail(`"${at}.ref" must be a string of 1 to 255 characters`);
    if (to !== null && (typeof to !== 'string' || !E164.test(to)))
      fail(`"${at}.to" must be a number in E.164, such as "+37251234567"`);
    return { name, channels: channels as string[], ref: ref as string | null, to: to as string | null };
  });
}

function checkExpectation(value: unknown, fail: (what: string) => never): ScenarioExpectation {
  if (!isObject(value)) return fail('"expect" must be an object');
  const unknown = Object.keys(value).find((key) => !EXPECT_KEYS.has(key));
  if (unknown !== undefined) fail(`unknown key "expect.${unknown}" (known: httpStatus, outcome)`);
  const { httpStatus, outcome } = value;
  if (httpStatus !== undefined && !(Number.isInteger(httpStatus) && (httpStatus as number) >= 100)) {
    fail('"expect.httpStatus" must be an HTTP status code');
  }
  if (outcome !== undefined && typeof outcome !== 'string') fail('"expect.outcome" must be a string');
  return value as ScenarioExpectation;
}

/**
 * The report each step sends: a fresh valid report (`dlrPayload`) with the step's fields on
 * top, where a value `"$step.N.field"` is the `field` of step N's report (counting from 1), and
 * `"$send.NAME.omnimessage_id"` / `"$send.NAME.to"` / `"$send.NAME.CHANNEL"` the omnimessage id /
 * the recipient / that channel's message id in the answer of send NAME.
 */
export function buildReports(
  scenario: Scenario,
  source: string,
  sends: SendAnswers = new Map(),
): Record<string, unknown>[] {
  const reports: Record<string, unknown>[] = [];
  for (const [index, step] of scenario.steps.entries()) {
    const resolve = (value: unknown): unknown => {
      if (typeof value === 'string' && value.startsWith('$send.')) {
        return sendField(value, sends, `${source}: step ${index + 1}`);
      }
      if (typeof value === 'string' && value.startsWith('$step.')) {
        const match = REFERENCE.exec(value);
        const n = Number(match?.[1]);
        if (!match || !(n >= 1 && n <= index)) {
          throw new UsageError(
            `${source}: step ${index + 1}: "${value}" must name an earlier step, as "$step.N.field" with N from 1 to ${index}`,
          );
        }
        const earlier = reports[n - 1]!;
        if (!Object.hasOwn(earlier, match[2]!)) {
          throw new UsageError(`${source}: step ${index + 1}: step ${n}'s report has no field "${match[2]}"`);
        }
        return earlier[match[2]!];
      }
      if (Array.isArray(value)) return value.map(resolve);
      if (isObject(value)) return mapValues(value, resolve);
      return value;
    };
    reports.push(dlrPayload(mapValues(step.report, resolve)));
  }
  return reports;
}

/** The id `"$send.NAME.omnimessage_id"` or `"$send.NAME.CHANNEL"`, or the number `"$send.NAME.to"`, names. */
function sendField(value: string, sends: SendAnswers, at: string): string {
  const match = SEND_REFERENCE.exec(value);
  const answer = match ? sends.get(match[1]!) : undefined;
  if (!match || !answer) {
    throw new UsageError(
      `${at}: "${value}" must name a send of "sends", as "$send.NAME.omnimessage_id", "$send.NAME.to" or "$send.NAME.CHANNEL"`,
    );
  }
  if (match[2] === 'omnimessage_id') return answer.omnimessage_id;
  if (match[2] === 'to') return answer.to;
  const message = answer.messages.find((sent) => sent.channel === match[2]);
  if (!message) throw new UsageError(`${at}: send "${match[1]}" has no channel "${match[2]}"`);
  return message.message_id;
}

function mapValues(
  object: Readonly<Record<string, unknown>>,
  map: (value: unknown) => unknown,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    // Defined, not assigned: a key such as `__proto__` stays a field, as JSON.parse made it.
    Object.defineProperty(result, key, {
      value: map(value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
