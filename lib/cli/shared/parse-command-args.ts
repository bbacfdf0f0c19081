import { parseArgs } from 'node:util';
import { ACCOUNT_ID_PATTERN } from '../../accounts/account-id.js';
import { UsageError } from './cli-errors.js';
import { escapeControl } from './terminal-text.js';

/** Options every command takes. */
const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A command's own options, in the shape `node:util` `parseArgs` takes. */
export type CommandOptions = Readonly<
  Record<
    string,
    { readonly type: 'string' | 'boolean'; readonly multiple?: boolean; readonly short?: string }
  >
>;

/** One option's value: text or a flag, an array of them when the option repeats. */
type OptionValue<C> = C extends { readonly type: 'string' } ? string : boolean;

/** The values of the options given, as strict `parseArgs` makes them; absent ones undefined. */
export type OptionValues<O> = {
  -readonly [K in keyof O]?: O[K] extends { readonly multiple: true }
    ? OptionValue<O[K]>[]
    : OptionValue<O[K]>;
};

/** A command's parsed arguments: its options' values (with `--json` and `--help`) and positionals. */
export interface CommandArgs<O extends CommandOptions> {
  readonly values: OptionValues<O & typeof COMMON_OPTIONS>;
  readonly positionals: string[];
}

/**
 * Parses a command's arguments with `node:util` `parseArgs` in strict mode, with
 * `COMMON_OPTIONS` added to `options`, and turns its errors into one-line usage errors.
 * Typed by `OptionValues` rather than by parseArgs' own result, whose types the emitted
 * declarations cannot name.
 */
export function parseCommandArgs<const O extends CommandOptions>(
  args: string[],
  options: O,
  maxPositionals = 0,
): CommandArgs<O> {
  let parsed: { values: unknown; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      strict: true,
      // A command that takes no argument lets parseArgs refuse one where it stands, before
      // any option after it.
      allowPositionals: maxPositionals > 0,
    });
  } catch (error) {
    throw new UsageError(parseArgsMessage(error));
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument '${parsed.positionals[maxPositionals]}'`);
  }
  // Strict mode gives exactly these types: a string or a boolean per option, arrays when repeated.
  return {
    values: parsed.values as OptionValues<O & typeof COMMON_OPTIONS>,
    positionals: parsed.positionals,
  };
}

function parseArgsMessage(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const text = String(message ?? error);
  const quoted = /'([^']*)'/.exec(text)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted !== undefined) return `unknown option ${quoted}`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && quoted !== undefined) {
    return `unexpected argument '${quoted}'`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && quoted !== undefined) {
    const option = quoted.split(' ')[0]!;
    return /does not take/.test(text) ? `option ${option} takes no value` : `option ${option} needs a value`;
  }
  return text.split('\n')[0]!;
}

/** `--url` (or another option) as an http(s) URL; a usage error when absent or not one. */
export function requireUrl(value: string | undefined, option = '--url'): URL {
  if (value === undefined || value === '') throw new UsageError(`missing ${option}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${option} '${value}' is not a URL (e.g. http://127.0.0.1:3000/messente/dlr)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${option} '${value}' must start with http:// or https://`);
  }
  return url;
}

/**
 * The URL to post to: `url`, or with `--account ID` (the resolver form of `accounts`, whose
 * webhook answers at `{path}/:account`) `url` with `/<ID>` appended, URL-encoded. An id
 * outside the module's rule (1–64 of `A-Z a-z 0-9 . _ -`) is a usage error.
 */
export function accountUrl(url: URL, account: string | undefined): URL {
  if (account === undefined) return url;
  if (!ACCOUNT_ID_PATTERN.test(account)) {
    throw new UsageError(
      `--account '${escapeControl(account)}' is not an account id: 1–64 of A-Z a-z 0-9 . _ -`,
    );
  }
  // URLs resolve these as path segments (`%2E` too), so no request can carry them.
  if (account === '.' || account === '..') {
    throw new UsageError(`--account '${account}' cannot be sent: URLs resolve it as a path segment`);
  }
  const withAccount = new URL(url);
  withAccount.pathname = `${url.pathname.replace(/\/+$/, '')}/${encodeURIComponent(account)}`;
  return withAccount;
}

/** `--secret`, else `MESSENTE_API_PASSWORD`, else null. */
export function optionalSecret(value: string | undefined, env: NodeJS.ProcessEnv): string | null {
  return value || env['MESSENTE_API_PASSWORD'] || null;
}

/** `--secret` or `MESSENTE_API_PASSWORD`; a usage error when neither is set. */
export function requireSecret(value: string | undefined, env: NodeJS.ProcessEnv, why = ''): string {
  const secret = optionalSecret(value, env);
  if (secret === null) {
    throw new UsageError(`missing --secret (or set MESSENTE_API_PASSWORD)${why ? `: ${why}` : ''}`);
  }
  return secret;
}

/** A positive integer option such as `--index`; a usage error otherwise. */
export function positiveInteger(value: string, option: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value))
    throw new UsageError(`${option} must be a positive integer, not '${value}'`);
  return Number(value);
}
