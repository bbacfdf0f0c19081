/**
 * The parts of an Express or Fastify request the guards read. Both adapters expose these
 * under the same names, which keeps the guards adapter-agnostic.
 */
export interface DlrHttpRequest {
  readonly ip?: string;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Set by Nest when the app is created with `{ rawBody: true }`. */
  readonly rawBody?: Buffer;
}

/** The first value of a header, or undefined. */
export function headerValue(request: DlrHttpRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
