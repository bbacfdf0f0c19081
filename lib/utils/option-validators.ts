/**
 * Checks of numeric options, shared by the module's options and the stores' own. Each caller
 * words its errors its way (its error class, its name in front), so the check says only what
 * is wrong: `must be a positive integer, got 0`.
 */

/** Throws the caller's error for `option`, whose value has `problem`. */
export type OptionFailure = (option: string, problem: string) => never;

/** The checks, each returning the value when it passes, so that a default can be checked inline. */
export interface OptionValidators {
  /** 1, 2, 3…: counts, and durations in whole ms or s. */
  positiveInteger(option: string, value: number): number;
  /** 0, 1, 2…: counts that may be none. */
  nonNegativeInteger(option: string, value: number): number;
  /** Any finite number above 0. */
  positiveNumber(option: string, value: number): number;
  /** Any finite number from 0 up. */
  nonNegativeNumber(option: string, value: number): number;
}

/** The checks, failing through `fail`. */
export function optionValidators(fail: OptionFailure): OptionValidators {
  return {
    positiveInteger: (option, value) =>
      Number.isInteger(value) && value >= 1
        ? value
        : fail(option, `must be a positive integer, got ${value}`),
    nonNegativeInteger: (option, value) =>
      Number.isInteger(value) && value >= 0
        ? value
        : fail(option, `must be a non-negative integer, got ${value}`),
    positiveNumber: (option, value) =>
      Number.isFinite(value) && value > 0 ? value : fail(option, `must be a positive number, got ${value}`),
    nonNegativeNumber: (option, value) =>
      Number.isFinite(value) && value >= 0 ? value : fail(option, `must be zero or more, got ${value}`),
  };
}

/** The checks of a class's constructor options: a plain `Error` reading `Owner: option problem`. */
export function optionValidatorsOf(owner: string): OptionValidators {
  return optionValidators((option, problem) => {
    throw new Error(`${owner}: ${option} ${problem}`);
  });
}
