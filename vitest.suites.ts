import { readFileSync } from 'node:fs'

/**
 * The workspace's package folders, as pnpm-workspace.yaml's `packages` list gives them: a package
 * added beside packages/* (after adding its folder there) is tested with the rest.
 */
const PACKAGES = [
  ...(/^packages:\s*\n((?:[ \t]+-.*\n?|[ \t]*#.*\n?)*)/m.exec(readFileSync(new URL('./pnpm-workspace.yaml', import.meta.url), 'utf8'))?.[1] ?? '').matchAll(/^[ \t]+-[ \t]*['"]?([^'"#\s]+)/gm),
]
  .map((m) => m[1]!)
  .filter((glob) => !glob.startsWith('!'))

/** What every suite shares: where tests are, one fork per file, and a temporary folder of the suite's own. */
export const SUITE = {
  // And the tests of single-file plug-ins anywhere in the workspace (experiments/window.test.mjs),
  // JavaScript as the plug-ins are: the root depends on @ouroboros/testkit for them.
  include: [...PACKAGES.flatMap((p) => [`${p}/src/**/*.test.ts`, `${p}/test/**/*.test.ts`]), '**/*.test.{js,mjs}'],
  exclude: ['**/node_modules/**', '**/dist/**'],
  pool: 'forks',
  globalSetup: ['./vitest.tmpdir.ts'],
} as const

/** The end-to-end tests: whole runs through the command line, and the reports in Chromium. */
export const E2E = ['packages/cli/test/**/*.test.ts', 'packages/*/src/**/*.browser.test.ts']
