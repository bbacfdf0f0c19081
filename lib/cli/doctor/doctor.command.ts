import { DLR_TEST_REPORT_FIELD } from '../../payload/dlr-test-report.js';
import type { CliCommand } from '../shared/cli-command.js';
import { Printer, printJson } from '../shared/printer.js';
import type { CliIo } from '../shared/cli-io.js';
import { UsageError } from '../shared/cli-errors.js';
import { Doctor, type CheckResult } from './doctor-checks.js';
import type { BoardAccess } from './doctor-source-ip.js';
import { invalidHeader } from '../shared/http-headers.js';
import { escapeControl } from '../shared/terminal-text.js';
import { accountUrl, parseCommandArgs, requireSecret, requireUrl } from '../shared/parse-command-args.js';

/** `messente-dlr doctor --url URL`: would Messente's reports be accepted, and if not, why. */
export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary: 'check a running webhook and name the cause of each failure',
  help: `Usage: messente-dlr doctor --url URL [--account ID] [--secret S] [--board URL [--board-header 'name: value']...] [--json]

Checks a running webhook the way Messente will use it: a signed report must be accepted
(compact JSON as Messente sends it, and the same JSON spaced out), and a tampered body, a
missing and a wrong signature must be refused. For each failure it names the likely cause:
nothing listening, wrong path or global prefix, source IP or trust proxy, rawBody not
enabled, wrong secret, a proxy that rewrites the JSON or the Content-Type, signatures not
checked. Exit code 0 when every check passes, 1 otherwise.

A 403 means the app refused the address it saw. With --board (the app's
nestjs-messente-dlr board), doctor reads that address from the board's recent refusals and
says which case it is: this machine's IP is not in allowedIps, or the app is behind a proxy
and sees the proxy's address (trust proxy). Without it, doctor names both.

Doctor's reports are signed test reports ("${DLR_TEST_REPORT_FIELD}": true in the signed body):
nestjs-messente-dlr answers them 200 {"outcome":"test"} without recording them or calling
any handler, so doctor is safe to run against production.

Options:
  --url URL     the webhook's full URL, e.g. https://example.com/api/messente/dlr
  --account ID  check URL/ID: an app whose accounts has a resolver answers at
                {path}/:account. --secret is then that account's password
  --secret S    the API key's password the app verifies with (default: MESSENTE_API_PASSWORD)
  --board URL   the app's board, e.g. http://127.0.0.1:3000/messente/board: after a 403,
                doctor reads GET URL/api/stats to learn the address the app saw
  --board-header 'name: value'
                a header for the board's guards (repeatable), e.g. 'authorization: Bearer ...'
  --json        print one JSON document
  -h, --help    show this help

Example:
  messente-dlr doctor --url http://127.0.0.1:3000/messente/dlr --secret s3cret`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(args, {
      url: { type: 'string' },
      account: { type: 'string' },
      secret: { type: 'string' },
      board: { type: 'string' },
      'board-header': { type: 'string', multiple: true },
    });
    const url = accountUrl(requireUrl(values.url), values.account);
    const secret = requireSecret(values.secret, io.env, 'doctor signs its test reports');
    const board = boardAccess(values.board, values['board-header'] ?? []);
    const doctor = new Doctor(url, secret, board, values.account ?? null);
    const checks = await doctor.run();
    const ok = checks.every((check) => check.result !== 'fail');
    if (values.json) {
      printJson(io, {
        url: url.href,
        account: values.account ?? null,
        ok,
        checks: checks.map(({ diagnosis, ...check }) => ({
          ...check,
          cause: diagnosis?.cause ?? null,
          title: diagnosis?.title ?? null,
          advice: diagnosis?.advice ?? null,
          ipSeen: diagnosis?.ipSeen ?? null,
        })),
        messageIds: doctor.messageIds,
      });
    } else {
      printReport(new Printer(io), url, checks);
    }
    return ok ? 0 : 1;
  },
};

/** `--board` and its `--board-header 'name: value'`s; a usage error for a malformed one. */
function boardAccess(board: string | undefined, headers: readonly string[]): BoardAccess | null {
  if (board === undefined) {
    if (headers.length > 0) throw new UsageError('--board-header needs --board');
    return null;
  }
  const parsed: Record<string, string> = {};
  for (const header of headers) {
    const colon = header.indexOf(':');
    const name = header.slice(0, colon).trim().toLowerCase();
    const value = header.slice(colon + 1).trim();
    if (colon <= 0 || invalidHeader({ [name]: value }) !== null) {
      // Not quoted back: the value is likely a credential.
      throw new UsageError("--board-header must be 'name: value', a valid HTTP header");
    }
    parsed[name] = value;
  }
  return { url: requireUrl(board, '--board'), headers: parsed };
}

function printReport(printer: Printer, url: URL, checks: readonly CheckResult[]): void {
  printer.line(`Checking POST ${url.href}`);
  printer.line();
  const width = Math.max(...checks.map((check) => check.name.length));
  const explained = new Set<string>();
  for (const check of checks) {
    const mark = {
      ok: printer.paint('green', 'ok  '),
      fail: printer.paint('red', 'FAIL'),
      skip: printer.paint('dim', 'skip'),
    }[check.result];
    // Answers, and notes and advice that quote them, come from the app: controls escaped.
    const answer =
      check.httpStatus === null ? '' : `${check.httpStatus} ${escapeControl(check.answer ?? '')}`;
    printer.line(`${mark}  ${check.name.padEnd(width)}  ${answer}`.trimEnd());
    if (check.note) printer.line(printer.paint('yellow', `      note: ${escapeControl(check.note)}`));
    if (check.diagnosis && !explained.has(check.diagnosis.cause)) {
      explained.add(check.diagnosis.cause);
      printer.line(printer.paint('yellow', `      cause: ${check.diagnosis.title}`));
      printer.line(`      ${escapeControl(check.diagnosis.advice)}`);
    }
  }
  printer.line();
  const failed = checks.filter((check) => check.result === 'fail').length;
  if (failed === 0) {
    printer.line(
      printer.paint(
        'green',
        `All ${checks.length} checks passed: Messente's signed reports would be accepted, forged ones refused.`,
      ),
    );
    // Only the module's {"outcome":"test"} answer shows that nothing was recorded.
    if (checks.every((check) => check.note === null)) {
      printer.line(
        printer.paint(
          'dim',
          'The app answered them as test reports: nothing was recorded, no handler was called.',
        ),
      );
    }
  } else {
    const skipped = checks.filter((check) => check.result === 'skip').length;
    printer.line(
      printer.paint('red', `${failed} check${failed === 1 ? '' : 's'} failed`) +
        (skipped ? `, ${skipped} skipped until ${failed === 1 ? 'it passes' : 'they pass'}.` : '.'),
    );
  }
}
