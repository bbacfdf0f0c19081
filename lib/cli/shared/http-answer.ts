/** An answer's body as one short line of text, for printing. */
export function answerText(body: Buffer, max = 200): string {
  const text = body
    .toString('utf8')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The `outcome` of a JSON answer such as `{"outcome":"change"}`, or null. */
export function answerOutcome(body: Buffer): string | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    const outcome = (parsed as { outcome?: unknown } | null)?.outcome;
    return typeof outcome === 'string' ? outcome : null;
  } catch {
    return null;
  }
}

/** True for a 3xx status, which Messente counts as received without following it. */
export function isRedirect(httpStatus: number): boolean {
  return httpStatus >= 300 && httpStatus < 400;
}

/** True for a 2xx status. */
export function isSuccess(httpStatus: number): boolean {
  return httpStatus >= 200 && httpStatus < 300;
}
