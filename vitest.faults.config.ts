import { defineConfig } from 'vitest/config'

// The whole fault suite: the fast tests plus the long fault-injection ones (*.faults.test.ts).
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 600_000,
    pool: 'forks',
    globalSetup: ['./vitest.tmpdir.ts'],
  },
})
