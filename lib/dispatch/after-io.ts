/**
 * Waits for the end of the current I/O phase: `next()` resolves after the answers written in
 * this phase have gone out (a `setImmediate`, which runs after the poll phase's callbacks).
 *
 * Both dispatchers wait on it before running handlers under `acknowledge: 'after-store'`, so
 * that Messente's wait does not include the handlers' own work. One macrotask serves every
 * change of the phase: under load that is hundreds of reports, and a timer each would cost more
 * than the in-memory store's whole decision. Each dispatcher holds its own instance, so that a
 * phase's wait never outlives the app that started it.
 */
export class AfterIo {
  private pending: Promise<void> | null = null;

  /** Resolves once this I/O phase is over; every caller within the phase shares one promise. */
  next(): Promise<void> {
    return (this.pending ??= new Promise((resolve) =>
      setImmediate(() => {
        this.pending = null;
        resolve();
      }),
    ));
  }
}
