import { UsageError } from './cli-errors.js';

/** Options every command takes. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Runs a `node:util` `parseArgs` call (strict mode) and turns its errors into one-line
 * usage errors. Taking the call keeps each command's option types precise.
 */
export function parseCommandArgs<T extends { positionals: string[] }>(parse: () => T, maxPositionals = 0): T {
  let parsed: T;
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError(parseArgsMessage(error));
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument '${parsed.positionals[maxPositionals]}'`);
  }
  return parsed;
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
