/**
 * The parts of an Express or Fastify request the guards read. Both adapters expose these
 * under the same names, which keeps the guards adapter-agnostic.
 */
export interface DlrHttpRequest {
  readonly ip?: string;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Set by Nest when the app is created with `{ rawBody: true }`. */
  readonly rawBody?: Buffer;
  /** Route parameters: `account` with the resolver form of `accounts`. */
  readonly params?: Readonly<Record<string, string | undefined>>;
}

/** Where the signature guard leaves the account whose secret matched; a symbol, so no app code clashes. */
const REPORT_ACCOUNT = Symbol('messente.dlr.account');

/** The first value of a header, or undefined. */
export function headerValue(request: DlrHttpRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Notes on the request which account's secret verified it. */
export function setReportAccount(request: DlrHttpRequest, account: string): void {
  (request as DlrHttpRequest & { [REPORT_ACCOUNT]?: string })[REPORT_ACCOUNT] = account;
}

/** The account whose secret verified the request, or null without module option `accounts`. */
export function reportAccountOf(request: DlrHttpRequest): string | null {
  return (request as DlrHttpRequest & { [REPORT_ACCOUNT]?: string })[REPORT_ACCOUNT] ?? null;
}
