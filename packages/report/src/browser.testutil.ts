/** Debian's Chromium through playwright-core, for the report's browser tests. */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'

export const SCREENSHOTS = join(fileURLToPath(new URL('../../../', import.meta.url)), 'test-output')

/** In CI a missing browser fails the suite; elsewhere the browser tests are skipped with a hint. */
export const haveChromium = existsSync(CHROMIUM)
if (!haveChromium && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing; CI must run the browser test (apt-get install chromium)`)
if (!haveChromium) console.warn(`skipping the report browser tests: ${CHROMIUM} is missing (apt-get install chromium)`)

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}
