/** A misconfiguration found at startup; the message names the option. */
export class MessenteDlrConfigError extends Error {
  constructor(option: string, problem: string, module = 'MessenteDlrModule') {
    super(`${module}: option \`${option}\` ${problem}`);
    this.name = 'MessenteDlrConfigError';
  }
}
