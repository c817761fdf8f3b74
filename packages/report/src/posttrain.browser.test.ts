import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCREENSHOTS, haveChromium, launchChromium } from './browser.testutil.js'
import { writeReport } from './index.js'
import { writeBestOfNRun, writeFinetuneRun, writeRlRun } from './posttrain.testutil.js'
import { tempDir } from './runs.testutil.js'

describe.skipIf(!haveChromium)('post-training views in Chromium', () => {
  let browser: Browser
  let work: string

  beforeAll(async () => {
    work = tempDir('posttrain-browser')
    browser = await launchChromium()
    mkdirSync(SCREENSHOTS, { recursive: true })
  }, 30_000)

  afterAll(async () => {
    await browser?.close()
    rmSync(work, { recursive: true, force: true })
  })

  async function open(file: string): Promise<{ page: Page; errors: string[]; requests: string[]; declared: number }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const errors: string[] = []
    const requests: string[] = []
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('request', (r) => !/^(file|data|blob):/.test(r.url()) && requests.push(r.url()))
    await page.goto(pathToFileURL(file).href)
    const declared = Number(await page.getAttribute('meta[name="ouroboros-plots"]', 'content'))
    await page.waitForFunction((n) => document.querySelectorAll('[data-plot] .main-svg').length >= n && document.querySelectorAll('[data-plot]').length === n, declared, { timeout: 15_000 })
    return { page, errors, requests, declared }
  }

  /** The first y value of the visible trace named `name` in the plot titled `title`, and its x axis as drawn. */
  function shown(page: Page, title: string, name: string): Promise<{ y0: number | null; xTitle: string; xReversed: boolean; visible: number }> {
    return page.evaluate(
      ([title, name]) => {
        type Div = HTMLElement & {
          data: { name?: string; visible?: unknown; y: number[] }[]
          layout: { title: { text: string }; xaxis: { title: { text: string } } }
          _fullLayout: { xaxis: { range: [number, number] } }
        }
        const div = [...document.querySelectorAll<Div>('[data-plot]')].find((d) => d.layout.title.text.replaceAll('<br>', ' ') === title)
        if (div === undefined) throw new Error(`no plot ${title}`)
        const visible = div.data.filter((t) => t.visible === true)
        return { y0: visible.find((t) => t.name === name)?.y[0] ?? null, xTitle: div.layout.xaxis.title.text, xReversed: div._fullLayout.xaxis.range[0] > div._fullLayout.xaxis.range[1], visible: visible.length }
      },
      [title, name] as const,
    )
  }

  it('finetuning over generations: the frontier’s selects change its metric and reverse its axis, the generation select drives every plot of the block', async () => {
    const dir = join(work, 'ft')
    writeFinetuneRun(dir, 'finetuned ring', 3)
    const { page, errors, requests, declared } = await open(await writeReport([dir], join(work, 'ft.html')))
    expect(await page.locator('[data-plot] svg.main-svg').count()).toBeGreaterThanOrEqual(declared)
    const frontier = 'Finetuning: task quality against diversity'
    const share = 'Finetuning: samples the task verifier accepts · task_share'
    const before = await shown(page, frontier, 'replay=0 (mean of 3)')
    // Generation 0, task share against modes covered: the start at share 0.2.
    expect(before.y0).toBeCloseTo(0.2, 5)
    expect(before.xTitle).toBe('modes covered (modes)')
    expect(before.xReversed).toBe(false)

    const plot = page.locator('figure.choices', { has: page.locator('.gtitle', { hasText: 'task quality against diversity' }) })
    await plot.locator('select[data-control="2"]').selectOption('1')
    const reversed = await shown(page, frontier, 'replay=0 (mean of 3)')
    expect(reversed.xTitle).toBe('reverse KL over modes (nats)<br>reversed: better is right')
    expect(reversed.xReversed).toBe(true)
    expect(reversed.visible).toBe(before.visible)
    expect(await plot.locator('.xtitle').textContent()).toContain('reverse KL over modes (nats)')

    // Generation 2 adds 0.1 to the task share, in the frontier and in the per-step plot alike.
    await page.locator('#posttrain > div.choices select').selectOption('2')
    expect((await shown(page, frontier, 'replay=0 (mean of 3)')).y0).toBeCloseTo(0.3, 5)
    expect((await shown(page, share, 'replay=0 (mean of 3)')).y0).toBeCloseTo(0.3, 5)
    expect((await shown(page, share, 'replay=0 (mean of 3)')).visible).toBe((await shown(page, share, 'replay=0.1 (mean of 3)')).visible)

    await page.locator('#posttrain').screenshot({ path: join(SCREENSHOTS, 'report-posttrain-finetune.png') })
    expect(requests).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  })

  it('RL and best-of-n on one page: reward against √KL, diversity against reward, per-step curves, all drawn', async () => {
    const rl = join(work, 'rl')
    const bon = join(work, 'bon')
    writeRlRun(rl, 'rl')
    writeBestOfNRun(bon, 'best of n')
    const { page, errors, requests, declared } = await open(await writeReport([rl, bon], join(work, 'rl.html')))
    expect(await page.locator('[data-plot] svg.main-svg').count()).toBeGreaterThanOrEqual(declared)
    expect(await page.locator('#posttrain h3').allTextContents()).toEqual(['RL', 'Best-of-n'])
    const legend = await page.locator('#posttrain .legendtext').allTextContents()
    // A setting once, and a key for each reward's line style.
    expect(legend).toContain('rl: beta=0.1 (mean of 3)')
    expect(legend).toContain('dashed, open markers: proxy reward')
    expect(legend).not.toContain('rl: beta=0.1: proxy reward (mean of 3)')
    expect(legend).toContain('theory: ln n − (n − 1)/n (a reward without ties)')
    // One generation: no generation select.
    expect(await page.locator('#posttrain > div.choices').count()).toBe(0)
    await page.locator('#posttrain').screenshot({ path: join(SCREENSHOTS, 'report-posttrain-rewards.png') })
    expect(requests).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  })
})
