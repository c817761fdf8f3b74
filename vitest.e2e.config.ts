import { defineConfig } from 'vitest/config'
import { E2E, SUITE } from './vitest.suites.js'

// The end-to-end suite (`pnpm test:e2e`): whole runs through the command line, and the reports
// in Chromium.
export default defineConfig({
  test: {
    ...SUITE,
    include: E2E,
    exclude: [...SUITE.exclude, '**/*.faults.test.ts'],
    testTimeout: 60_000,
  },
})
