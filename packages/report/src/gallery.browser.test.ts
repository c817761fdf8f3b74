import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCREENSHOTS, haveChromium, launchChromium } from './browser.testutil.js'
import { writeReport } from './index.js'
import { HOSTILE_WORD, writeImageRun, writeTokenRun } from './gallery.testutil.js'
import { tempDir } from './runs.testutil.js'


describe.skipIf(!haveChromium)('token and image reports in Chromium', () => {
  let browser: Browser
  let work: string

  beforeAll(async () => {
    work = tempDir('gallery-browser')
    browser = await launchChromium()
    mkdirSync(SCREENSHOTS, { recursive: true })
  }, 30_000)

  afterAll(async () => {
    await browser?.close()
    rmSync(work, { recursive: true, force: true })
  })

  for (const [kind, write] of [['tokens', writeTokenRun], ['images', writeImageRun]] as const) {
    it(`${kind}: renders without errors or requests, every sample view shown, hostile text inert`, async () => {
      const dir = join(work, kind)
      write(dir)
      const file = await writeReport([dir], join(dir, 'report.html'))
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
      const errors: string[] = []
      const requests: string[] = []
      const dialogs: string[] = []
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
      page.on('pageerror', (e) => errors.push(e.message))
      page.on('dialog', (d) => {
        dialogs.push(d.message())
        void d.dismiss()
      })
      page.on('request', (r) => !/^(file|data|blob):/.test(r.url()) && requests.push(r.url()))
      await page.goto(pathToFileURL(file).href)
      const declared = Number(await page.getAttribute('meta[name="ouroboros-plots"]', 'content'))
      await page.waitForFunction((n) => document.querySelectorAll('[data-plot] .main-svg').length >= n, declared, { timeout: 15_000 })
      if (kind === 'images') {
        const sizes = await page.$$eval('figure.gallery img', (imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth))
        expect(sizes).toEqual([231, 231, 231, 231])
      } else {
        const text = await page.$$eval('figure.gallery ol.sentences li', (lis) => lis.map((li) => li.textContent))
        expect(text).toContain(`${HOSTILE_WORD} the cat sat on the mat .`)
      }
      await page.screenshot({ path: join(SCREENSHOTS, `report-${kind}.png`), fullPage: true })
      expect(errors).toEqual([])
      expect(requests).toEqual([])
      expect(dialogs).toEqual([])
      await page.close()
    })
  }
})
