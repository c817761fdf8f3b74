import { defineConfig } from 'vitest/config'
import { SUITE } from './vitest.suites.js'

// Everything (`pnpm test:faults`): both suites plus the long fault-injection tests (*.faults.test.ts).
export default defineConfig({
  test: {
    ...SUITE,
    testTimeout: 600_000,
  },
})
