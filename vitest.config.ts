import { defineConfig } from 'vitest/config'
import { E2E, SUITE } from './vitest.suites.js'

// The fast suite (`pnpm test`): every package's tests but the end-to-end ones, a few minutes on two cores.
export default defineConfig({
  test: {
    ...SUITE,
    exclude: [...SUITE.exclude, ...E2E, '**/*.faults.test.ts'],
    testTimeout: 60_000,
  },
})
