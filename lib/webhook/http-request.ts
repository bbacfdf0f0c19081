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

/** Where the signature guard leaves whose secret matched; symbols, so no app code clashes. */
const REPORT_ACCOUNT = Symbol('messente.dlr.account');
const SECRET_POSITION = Symbol('messente.dlr.secretPosition');

type MarkedRequest = DlrHttpRequest & { [REPORT_ACCOUNT]?: string; [SECRET_POSITION]?: number };

/** The first value of a header, or undefined. */
export function headerValue(request: DlrHttpRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Notes on the request which account's secret verified it, and that secret's position among
 * the account's secrets. Only with module option `accounts`: the path without them sets nothing.
 */
export function setReportAccount(request: DlrHttpRequest, account: string, position: number): void {
  (request as MarkedRequest)[REPORT_ACCOUNT] = account;
  (request as MarkedRequest)[SECRET_POSITION] = position;
}

/** The account whose secret verified the request, or null without module option `accounts`. */
export function reportAccountOf(request: DlrHttpRequest): string | null {
  return (request as MarkedRequest)[REPORT_ACCOUNT] ?? null;
}

/** The position of the secret that verified the request among its account's, or null without accounts. */
export function secretPositionOf(request: DlrHttpRequest): number | null {
  return (request as MarkedRequest)[SECRET_POSITION] ?? null;
}
