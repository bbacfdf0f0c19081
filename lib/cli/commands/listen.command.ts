import { parseArgs } from 'node:util';
import { open, type FileHandle } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER } from '../../messente-dlr.constants.js';
import { CliFailure, UsageError, oneLine } from '../cli-errors.js';
import type { CliCommand } from '../cli-command.js';
import { Printer, type CliIo } from '../cli-io.js';
import { UnreachableError, answerText, endToEndHeaders, isSuccess, sendHttp } from '../http-send.js';
import { COMMON_OPTIONS, optionalSecret, parseCommandArgs, requireUrl } from '../parse-command-args.js';
import { encodeBody, type RecordedAnswer, type RecordedRequest } from '../recording.js';
import { signatureVerdict, summarizeReport, type SignatureVerdict } from '../report-summary.js';

// Messente's reports are a few hundred bytes; the port may be public through a tunnel.
const MAX_BODY_BYTES = 1024 * 1024;

/** `messente-dlr listen --port P --forward-to URL`: a local proxy that shows and records reports. */
export const listenCommand: CliCommand = {
  name: 'listen',
  summary: 'a local proxy for a tunnel: print, forward and record every report',
  help: `Usage: messente-dlr listen --port P --forward-to URL [--secret S] [--record FILE] [--host H] [--json]

Listens on P (for a tunnel such as ngrok or cloudflared pointing at it) and forwards every
request to URL, the app's full webhook URL, with its headers and raw bytes unchanged. Prints
each report: status, ids, whether its signature is valid, invalid or missing, and the app's
answer, which goes back to the sender as it is. Stops on Ctrl-C.

Options:
  --port P            port to listen on (0: any free port, printed at start)
  --forward-to URL    the app's webhook, e.g. http://127.0.0.1:3000/messente/dlr
  --secret S          check signatures with this secret (default: MESSENTE_API_PASSWORD);
                      without one they show as "unchecked"
  --record FILE       append each request to FILE, one JSON object per line: its headers,
                      its body exactly, the app's answer (replay it with messente-dlr replay)
  --host H            address to listen on (default: 127.0.0.1)
  --json              print one JSON object per line: the start, then each request
  -h, --help          show this help

Example:
  messente-dlr listen --port 4000 --forward-to http://127.0.0.1:3000/messente/dlr --record dlr.jsonl`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(
      () =>
        parseArgs({
          args,
          options: {
            ...COMMON_OPTIONS,
            port: { type: 'string' },
            host: { type: 'string' },
            'forward-to': { type: 'string' },
            secret: { type: 'string' },
            record: { type: 'string' },
          },
          strict: true,
          allowPositionals: false,
        }),
      0,
    );
    if (values.port === undefined) throw new UsageError('missing --port');
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65_535) {
      throw new UsageError(`--port must be a port number from 0 to 65535, not '${values.port}'`);
    }
    const forwardTo = requireUrl(values['forward-to'], '--forward-to');
    const secret = optionalSecret(values.secret, io.env);
    const host = values.host ?? '127.0.0.1';
    const record = values.record === undefined ? null : await openRecord(values.record);

    const printer = new Printer(io);
    const proxy = new ListenProxy(forwardTo, secret, record, (line) => {
      if (values.json) io.stdout.write(`${JSON.stringify(line)}\n`);
      else printLine(printer, line);
    });
    const server = createServer((req, res) => void proxy.handle(req, res));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(values.port), host, () => resolve());
      });
    } catch (error) {
      await record?.close();
      const code = (error as { code?: string }).code;
      if (code === 'EADDRINUSE') throw new CliFailure(`port ${values.port} on ${host} is already in use`);
      throw new CliFailure(`cannot listen on ${host}:${values.port}: ${oneLine(error)}`);
    }
    const { port } = server.address() as AddressInfo;
    const listening = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify({ listening, forwardTo: forwardTo.href, record: values.record ?? null })}\n`,
      );
    } else {
      printer.line(`Listening on ${listening}, forwarding to ${forwardTo.href}`);
      if (values.record) printer.line(`Recording to ${values.record}`);
      printer.line(printer.paint('dim', 'Ctrl-C to stop'));
    }

    if (!io.signal.aborted) {
      await new Promise<void>((resolve) =>
        io.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    }
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    await proxy.idle();
    await record?.close();
    if (!values.json) printer.line(`Stopped after ${proxy.count} request${proxy.count === 1 ? '' : 's'}`);
    return 0;
  },
};

/** What `listen` prints (and, with `--json`, writes) for one request. */
interface ListenLine {
  readonly receivedAt: string;
  readonly method: string;
  readonly path: string;
  readonly status: string | null;
  readonly messageId: string | null;
  readonly omnimessageId: string | null;
  readonly signature: SignatureVerdict;
  readonly answer: RecordedAnswer;
}

/** Forwards requests one by one and records them in arrival order. */
class ListenProxy {
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
        const reason = error instanceof UnreachableError ? error.message : oneLine(error);
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

async function openRecord(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'a');
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${(error as { code?: string }).code ?? oneLine(error)}`);
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

function printLine(printer: Printer, line: ListenLine): void {
  const time = line.receivedAt.slice(11, 19);
  const what = line.status === null ? `${line.method} ${line.path} (not a JSON report)` : line.status;
  const ids = `message ${line.messageId ?? '-'}  omnimessage ${line.omnimessageId ?? '-'}`;
  const signature = printer.paint(
    line.signature === 'valid' ? 'green' : line.signature === 'unchecked' ? 'dim' : 'red',
    `signature ${line.signature}`,
  );
  const answer =
    'error' in line.answer
      ? printer.paint('red', line.answer.error)
      : printer.paint(
          isSuccess(line.answer.httpStatus) ? 'green' : 'red',
          `${line.answer.httpStatus} ${answerText(Buffer.from(line.answer.body))}`.trimEnd(),
        );
  printer.line(`${time}  ${what.padEnd(8)}  ${ids}  ${signature}  -> ${answer}`);
}
