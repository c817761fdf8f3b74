import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', '**/*.faults.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['./vitest.tmpdir.ts'],
  },
})
