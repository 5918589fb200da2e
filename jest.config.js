// One jest run for everything in tests/. Files are named by kind
// (*.unit.test.ts, *.integration.test.ts) so each kind can run alone:
//   npx jest unit     npx jest integration
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
  },
  // DynamoDB Local is started once for the whole run; moto is started by the
  // suites that use it.
  globalSetup: "<rootDir>/tests/helpers/global-setup.ts",
  globalTeardown: "<rootDir>/tests/helpers/global-teardown.ts",
  testTimeout: 60000,
  maxWorkers: 2,
};
