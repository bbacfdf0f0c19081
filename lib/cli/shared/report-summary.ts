/** The fields of a report worth a line of output; null when the body is not a JSON object. */
export interface ReportSummary {
  readonly status: string | null;
  readonly messageId: string | null;
  readonly omnimessageId: string | null;
  readonly channel: string | null;
}

/** Reads status and ids from a request body, whatever it holds. */
export function summarizeReport(body: Buffer): ReportSummary | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const report = parsed as Record<string, unknown>;
  const text = (key: string) => (typeof report[key] === 'string' ? (report[key] as string) : null);
  return {
    status: text('status'),
    messageId: text('message_id'),
    omnimessageId: text('omnimessage_id'),
    channel: text('channel'),
  };
}
