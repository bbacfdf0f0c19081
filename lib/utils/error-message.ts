/**
 * The message of anything thrown: `Error#message`, or the value itself as text, since a
 * rejected promise may carry a string or an object rather than an `Error`.
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
