import { UsageError, oneLine } from './cli-errors.js';
import { invalidHeader, isHttpMethod } from './http-send.js';

/** What the app answered a recorded request, or why it could not. */
export type RecordedAnswer =
  { readonly httpStatus: number; readonly body: string } | { readonly error: string };

/**
 * One line of a `listen --record` file: a request exactly as it arrived. The body is kept
 * as text when it is valid UTF-8 (`body`), as base64 otherwise (`bodyBase64`), so that
 * `replay` can send the very same bytes.
 */
export interface RecordedRequest {
  readonly receivedAt: string;
  readonly method: string;
  readonly path: string;
  /** Header names lower-cased, as Node's http module gives them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly bodyBase64?: string;
  readonly answer: RecordedAnswer;
}

/** `{ body }` when the bytes are valid UTF-8 (they survive a round trip), else `{ bodyBase64 }`. */
export function encodeBody(bytes: Buffer): { body: string } | { bodyBase64: string } {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? { body: text } : { bodyBase64: bytes.toString('base64') };
}

/** The exact bytes of a recorded request's body. */
export function recordedBody(request: RecordedRequest): Buffer {
  return request.bodyBase64 !== undefined
    ? Buffer.from(request.bodyBase64, 'base64')
    : Buffer.from(request.body ?? '', 'utf8');
}

/** Parses a recording (one JSON object per line); a usage error naming the file and line. */
export function parseRecording(text: string, source: string): RecordedRequest[] {
  const requests: RecordedRequest[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const at = `${source}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`${at}: invalid JSON: ${oneLine(error)}`);
    }
    requests.push(checkRecordedRequest(value, at));
  }
  if (requests.length === 0) throw new UsageError(`${source}: no recorded requests`);
  return requests;
}

function checkRecordedRequest(value: unknown, at: string): RecordedRequest {
  const fail = (what: string): never => {
    throw new UsageError(`${at}: not a recorded request: ${what}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('not an object');
  const entry = value as Record<string, unknown>;
  if (typeof entry['method'] !== 'string' || !isHttpMethod(entry['method']))
    fail('"method" must be an HTTP method');
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
  if (typeof entry['body'] !== 'string' && typeof entry['bodyBase64'] !== 'string') {
    fail('"body" or "bodyBase64" must be a string');
  }
  return value as RecordedRequest;
}
