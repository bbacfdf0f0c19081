import { signDlr } from '../../testing/sign-dlr.js';
import type { CliCommand } from '../shared/cli-command.js';
import { printJson } from '../shared/printer.js';
import { readAll, type CliIo } from '../shared/cli-io.js';
import { parseCommandArgs, requireSecret } from '../shared/parse-command-args.js';
import { readBytes } from '../shared/read-input-file.js';

/** `messente-dlr sign [FILE] --secret S`: the signature of a file's bytes, or of stdin. */
export const signCommand: CliCommand = {
  name: 'sign',
  summary: "print the X-Messente-Signature of a file's bytes (or stdin)",
  help: `Usage: messente-dlr sign [FILE] [--secret S] [--json]

Prints the X-Messente-Signature of FILE's bytes, exactly as they are (stdin when FILE is
absent or -): lowercase hex HMAC-SHA256 keyed with the API key's password.

Options:
  --secret S   the API key's password (default: MESSENTE_API_PASSWORD)
  --json       print {"signature": "...", "bytes": n}
  -h, --help   show this help

Example:
  printf '%s' '{"message_id":"m1","status":"DELIVRD"}' | messente-dlr sign --secret s3cret`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, { secret: { type: 'string' } }, 1);
    const secret = requireSecret(values.secret, io.env);
    const file = positionals[0];
    const bytes = file === undefined || file === '-' ? await readAll(io.stdin) : await readBytes(file);
    const signature = signDlr(bytes, secret);
    if (values.json) printJson(io, { signature, bytes: bytes.length });
    else io.stdout.write(`${signature}\n`);
    return 0;
  },
};
