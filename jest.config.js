/** Jest runs in ESM mode because NestJS 12 ships ES modules only. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The sample imports the package by name, as users do; tests load it from source.
    '^nestjs-messente-dlr$': '<rootDir>/lib/index.ts',
    '^nestjs-messente-dlr/(redis|postgres|testing|board|health)$': '<rootDir>/lib/$1/index.ts',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  // Suites start servers, apps and browsers: should a failed teardown leave one running, the
  // run must still end (and report the failure) rather than hang CI.
  forceExit: true,
};
