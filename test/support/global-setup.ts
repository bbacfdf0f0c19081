/** Jest global setup: nothing to start for now; suites start what they need. */
export default async function globalSetup(): Promise<void> {}
