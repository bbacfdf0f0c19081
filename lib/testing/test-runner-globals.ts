/**
 * The globals of the test runner the store contract registers its tests with: jest's, or
 * vitest's with `globals: true`. Read when the contract is described, never at import, so that
 * importing `nestjs-messente-dlr/testing` needs no test runner (and the package no dependency on
 * one); typed here with the little the contract uses, so that no runner's types are needed.
 */

/** The matchers the contract uses, as jest and vitest both spell them. */
export interface ContractMatchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toMatchObject(expected: object): void;
  toHaveLength(length: number): void;
  toBeNull(): void;
  toBeUndefined(): void;
}

/** The runner's `expect`. */
export interface ContractExpect {
  (actual: unknown): ContractMatchers;
  objectContaining(expected: object): unknown;
}

/** The runner's registration functions and `expect`. */
export interface TestRunnerGlobals {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
  beforeEach(body: () => unknown, timeoutMs?: number): void;
  afterEach(body: () => unknown, timeoutMs?: number): void;
  expect: ContractExpect;
}

/** The runner's globals, or an error that says where the contract must be called. */
export function testRunnerGlobals(): TestRunnerGlobals {
  const globals = globalThis as unknown as Partial<TestRunnerGlobals>;
  for (const name of ['describe', 'it', 'beforeEach', 'afterEach', 'expect'] as const) {
    if (typeof globals[name] !== 'function') {
      throw new Error(
        `describeDlrStoreContract() must be called in a test file, with the test runner's globals ` +
          `(jest, or vitest with globals: true): ${name} is not defined`,
      );
    }
  }
  return globals as TestRunnerGlobals;
}
