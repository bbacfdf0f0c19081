/** Jest global teardown: counterpart of global-setup. */
export default async function globalTeardown(): Promise<void> {}
