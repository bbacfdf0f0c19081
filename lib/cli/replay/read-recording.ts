import { METHODS } from 'node:http';
import { createInterface } from 'node:readline';
import { UsageError } from '../shared/cli-errors.js';
import { invalidHeader } from '../shared/http-headers.js';
import { parseJsonText } from '../shared/parse-json-text.js';
import { fileError, openInputFile, tooLarge } from '../shared/read-input-file.js';
import type { RecordedAnswer, RecordedRequest } from '../shared/recording.js';

/** Recordings larger than this are refused: replay holds every request in memory. */
export const MAX_RECORDING_BYTES = 64 * 1024 * 1024;

/**
 * Reads a recording line by line (node:readline over a stream, never the file as one string)
 * and checks each line; a usage error naming the file and line for anything else, one over
 * `MAX_RECORDING_BYTES` (a device such as /dev/zero included: reading stops there), or one
 * that cannot be read. Errors never quote the file.
 */
export async function readRecording(file: string): Promise<RecordedRequest[]> {
  const handle = await openInputFile(file, MAX_RECORDING_BYTES);
  const stream = handle.createReadStream({ end: MAX_RECORDING_BYTES });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let bytes = 0;
  let failure: unknown = null;
  stream.on('data', (chunk) => {
    bytes += chunk.length;
    if (bytes > MAX_RECORDING_BYTES) lines.close();
  });
  stream.once('error', (error) => {
    failure = error;
    lines.close();
  });
  const recording = new RecordingParser(file);
  try {
    for await (const line of lines) {
      if (bytes > MAX_RECORDING_BYTES) break;
      recording.add(line);
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  if (failure !== null) throw new UsageError(`cannot read ${file}: ${fileError(failure)}`);
  if (bytes > MAX_RECORDING_BYTES) throw tooLarge(file, MAX_RECORDING_BYTES);
  return recording.finish();
}

/** Parses a recording held as text (one JSON object per line), as `readRecording` does. */
export function parseRecording(text: string, source: string): RecordedRequest[] {
  const recording = new RecordingParser(source);
  for (const line of text.split('\n')) recording.add(line);
  return recording.finish();
}

/** Checks a recording one line at a time; a usage error naming the source and line. */
class RecordingParser {
  private readonly requests: RecordedRequest[] = [];
  private lineNumber = 0;

  constructor(private readonly source: string) {}

  add(line: string): void {
    this.lineNumber++;
    if (line.trim() === '') return;
    const at = `${this.source}:${this.lineNumber}`;
    this.requests.push(checkRecordedRequest(parseJsonText(line, at), at));
  }

  finish(): RecordedRequest[] {
    if (this.requests.length === 0) throw new UsageError(`${this.source}: no recorded requests`);
    return this.requests;
  }
}

function checkRecordedRequest(value: unknown, at: string): RecordedRequest {
  // Messages name the field, never its value: the file may be anything.
  const fail = (what: string): never => {
    throw new UsageError(`${at}: not a recorded request: ${what}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('not an object');
  const entry = value as Record<string, unknown>;
  if (typeof entry['method'] !== 'string' || !isRecordableMethod(entry['method'])) {
    fail('"method" must be an HTTP method listen can receive (not CONNECT)');
  }
  const headers = entry['headers'];
  if (
    headers === null ||
    typeof headers !== 'object' ||
    Array.isArray(headers) ||
    Object.values(headers).some((header) => typeof header !== 'string')
  ) {
    fail('"headers" must be an object of strings');
  }
  const badHeader = invalidHeader(headers as Record<string, string>);
  if (badHeader) fail(badHeader);
  const answer = entry['answer'];
  if (answer !== undefined && !isRecordedAnswer(answer)) {
    fail('"answer" must be {"httpStatus": n, "body": "..."} or {"error": "..."}');
  }
  if (typeof entry['bodyBase64'] === 'string') {
    if (!isBase64(entry['bodyBase64'])) fail('"bodyBase64" must be base64');
  } else if (typeof entry['body'] !== 'string') {
    fail('"body" or "bodyBase64" must be a string');
  }
  return value as RecordedRequest;
}

function isRecordedAnswer(value: unknown): value is RecordedAnswer {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const answer = value as Record<string, unknown>;
  if (typeof answer['error'] === 'string') return true;
  return Number.isInteger(answer['httpStatus']) && typeof answer['body'] === 'string';
}

/**
 * A method `listen` can have recorded: one Node's HTTP parser knows, but not CONNECT, which a
 * server never hands to its request handler (and which, sent, opens a tunnel, not a request).
 */
function isRecordableMethod(method: string): boolean {
  return METHODS.includes(method) && method !== 'CONNECT';
}

/** Strict base64, as `encodeBody` writes it: Node's decoder would skip anything else silently. */
function isBase64(text: string): boolean {
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text);
}
