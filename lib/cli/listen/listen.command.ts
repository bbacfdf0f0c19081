import { open, type FileHandle } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CliFailure, UsageError, oneLine } from '../shared/cli-errors.js';
import type { CliCommand } from '../shared/cli-command.js';
import { Printer } from '../shared/printer.js';
import type { CliIo } from '../shared/cli-io.js';
import { answerText, isSuccess } from '../shared/http-answer.js';
import { ListenProxy, type ListenLine } from './listen-proxy.js';
import { escapeControl } from '../shared/terminal-text.js';
import { optionalSecret, parseCommandArgs, requireUrl } from '../shared/parse-command-args.js';

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
    const { values } = parseCommandArgs(args, {
      port: { type: 'string' },
      host: { type: 'string' },
      'forward-to': { type: 'string' },
      secret: { type: 'string' },
      record: { type: 'string' },
    });
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

async function openRecord(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'a');
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${(error as { code?: string }).code ?? oneLine(error)}`);
  }
}

function printLine(printer: Printer, line: ListenLine): void {
  // Everything but the time comes from the request or the app: shown with controls escaped,
  // so that a report cannot rewrite the terminal or forge a line of its own.
  const time = line.receivedAt.slice(11, 19);
  const what =
    line.status === null
      ? `${escapeControl(line.method)} ${escapeControl(line.path)} (not a JSON report)`
      : escapeControl(line.status);
  const ids = `message ${escapeControl(line.messageId ?? '-')}  omnimessage ${escapeControl(line.omnimessageId ?? '-')}`;
  const signature = printer.paint(
    line.signature === 'valid' ? 'green' : line.signature === 'unchecked' ? 'dim' : 'red',
    `signature ${line.signature}`,
  );
  const answer =
    'error' in line.answer
      ? printer.paint('red', escapeControl(line.answer.error))
      : printer.paint(
          isSuccess(line.answer.httpStatus) ? 'green' : 'red',
          escapeControl(`${line.answer.httpStatus} ${answerText(Buffer.from(line.answer.body))}`.trimEnd()),
        );
  printer.line(`${time}  ${what.padEnd(8)}  ${ids}  ${signature}  -> ${answer}`);
}
