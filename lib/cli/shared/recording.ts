/*
 * The format of a `listen --record` file, one JSON object per line: `listen` writes it and
 * `replay` reads it, so the two directions of the body's encoding live side by side here.
 */

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
  /** Always written by `listen`; a hand-made recording may leave it out. */
  readonly answer?: RecordedAnswer;
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
