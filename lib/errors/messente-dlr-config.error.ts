/** A misconfiguration found at startup; the message names the option. */
export class MessenteDlrConfigError extends Error {
  constructor(option: string, problem: string) {
    super(`MessenteDlrModule: option \`${option}\` ${problem}`);
    this.name = 'MessenteDlrConfigError';
  }
}
