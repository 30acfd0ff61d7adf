/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // jose, middy and Octokit (with its small dependencies) ship ES modules only; let swc turn
  // them into CommonJS for jest's module system.
  transformIgnorePatterns: [
    '/node_modules/(?!(jose|@middy|@octokit|universal-user-agent|before-after-hook|universal-github-app-jwt|toad-cache|fast-content-type-parse|json-with-bigint|content-type)/)',
  ],
  globalSetup: '<rootDir>/tests/setup/global-setup.ts',
  globalTeardown: '<rootDir>/tests/setup/global-teardown.ts',
  testTimeout: 60000,
};
