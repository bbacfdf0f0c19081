import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SIGNATURE_HEADER } from '../../messente-dlr.constants.js';
import { oneLine } from '../shared/cli-errors.js';
import { sendHttp } from '../shared/http-send.js';
import { endToEndHeaders } from '../shared/http-headers.js';
import { encodeBody, type RecordedAnswer, type RecordedRequest } from '../shared/recording.js';
import { signatureVerdict, type SignatureVerdict } from './signature-verdict.js';
import { summarizeReport } from '../shared/report-summary.js';

// Messente's reports are a few hundred bytes; the port may be public through a tunnel.
const MAX_BODY_BYTES = 1024 * 1024;

/** What `listen` prints (and, with `--json`, writes) for one request. */
export interface ListenLine {
  readonly receivedAt: string;
  readonly method: string;
  readonly path: string;
  readonly status: string | null;
  readonly messageId: string | null;
  readonly omnimessageId: string | null;
  readonly signature: SignatureVerdict;
  readonly answer: RecordedAnswer;
}

/**
 * What `messente-dlr listen` runs for each request: forwards it unchanged, hands the app's
 * answer back, reports it, and appends it to the recording.
 */
export class ListenProxy {
  /** Requests received so far. */
  count = 0;
  private writes: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly forwardTo: URL,
    private readonly secret: string | null,
    private readonly record: FileHandle | null,
    private readonly print: (line: ListenLine) => void,
  ) {}

  /** Settles when every request received so far has been answered and recorded. */
  async idle(): Promise<void> {
    await Promise.all(this.inFlight);
    await this.writes;
  }

  /** Handles one request; the promise settles once it is answered, printed and recorded. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const done = this.forward(req, res).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
    return done;
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = new Date().toISOString();
    const body = await readBody(req);
    this.count++;
    let answer: RecordedAnswer;
    if (body === null) {
      answer = { error: `body larger than ${MAX_BODY_BYTES} bytes: not forwarded` };
      res.writeHead(413, { 'content-type': 'text/plain' }).end(`messente-dlr listen: ${answer.error}\n`);
    } else {
      try {
        const reply = await sendHttp(this.forwardTo, {
          method: req.method ?? 'POST',
          headers: endToEndHeaders(req.headers),
          body,
        });
        answer = { httpStatus: reply.status, body: reply.body.toString('utf8') };
        const headers = reply.headers['content-type']
          ? { 'content-type': reply.headers['content-type'] }
          : {};
        res.writeHead(reply.status, headers).end(reply.body);
      } catch (error) {
        // An UnreachableError's message is already one line; anything else is made one.
        const reason = oneLine(error);
        answer = { error: `app unreachable: ${reason}` };
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`messente-dlr listen: ${answer.error}\n`);
      }
    }
    const bytes = body ?? Buffer.alloc(0);
    const summary = summarizeReport(bytes);
    const header = req.headers[SIGNATURE_HEADER];
    this.print({
      receivedAt,
      method: req.method ?? '',
      path: req.url ?? '',
      status: summary?.status ?? null,
      messageId: summary?.messageId ?? null,
      omnimessageId: summary?.omnimessageId ?? null,
      signature: signatureVerdict(Array.isArray(header) ? header[0] : header, bytes, this.secret),
      answer,
    });
    const entry: RecordedRequest = {
      receivedAt,
      method: req.method ?? '',
      path: req.url ?? '',
      headers: endToEndHeaders(req.headers),
      ...encodeBody(bytes),
      answer,
    };
    const record = this.record;
    if (record) this.writes = this.writes.then(() => record.appendFile(`${JSON.stringify(entry)}\n`));
    await this.writes;
  }
}

/** The request's body, or null when it is larger than MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even past the limit, so that the sender still gets its answer.
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY_BYTES ? null : Buffer.concat(chunks);
}
