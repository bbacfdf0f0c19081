import { validateHeaderName, validateHeaderValue } from 'node:http';

// Headers about one connection, which a request sent again must not copy.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'content-length',
]);

/** `headers` without host, content-length and hop-by-hop headers, names lower-cased. */
export function endToEndHeaders(headers: Readonly<Record<string, unknown>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (HOP_BY_HOP.has(key) || value === undefined) continue;
    kept[key] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return kept;
}

/**
 * Why headers (from a scenario or a recording) cannot be sent, or null when they can;
 * checked with Node's own validators, which is what `http.request` would throw on.
 */
export function invalidHeader(headers: Readonly<Record<string, string>>): string | null {
  for (const [position, [name, value]] of [...Object.entries(headers)].entries()) {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch {
      // Which one by position: its name or value may be anything from the file.
      return `header ${position + 1} (counting from 1) is not a valid HTTP header name and value`;
    }
  }
  return null;
}
