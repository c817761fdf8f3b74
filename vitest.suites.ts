/** What every suite shares: where tests are, one fork per file, and a temporary folder of the suite's own. */
export const SUITE = {
  include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
  exclude: ['**/node_modules/**', '**/dist/**'],
  pool: 'forks',
  globalSetup: ['./vitest.tmpdir.ts'],
} as const

/** The end-to-end tests: whole runs through the command line, and the reports in Chromium. */
export const E2E = ['packages/cli/test/**/*.test.ts', 'packages/*/src/**/*.browser.test.ts']
