import { UsageError } from './cli-errors.js';

/**
 * Parses JSON read from a file the user named; a usage error `{where}: not valid JSON (line
 * L, column C)` otherwise. The error never quotes the text: V8's messages do (`Unexpected
 * token 'r', "root:$6$..." is not valid JSON`), and the file may be anything, `/etc/shadow`
 * included.
 */
export function parseJsonText(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${where}: not valid JSON${errorPlace(text, error)}`);
  }
}

/** ` (line L, column C)` from the position V8 names, or `` when it names none. */
function errorPlace(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/Unexpected end of JSON input/.test(message)) return ' (it ends too early)';
  const match = /at position (\d+)/.exec(message);
  if (!match) return '';
  const position = Number(match[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - (before.lastIndexOf('\n') + 1) + 1;
  return text.includes('\n') ? ` (line ${line}, column ${column})` : ` (column ${column})`;
}
