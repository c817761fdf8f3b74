import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chainDir } from '@ouroboros/store'
import { writeReport } from './index.js'
import { SCREENSHOTS, haveChromium, launchChromium } from './browser.testutil.js'
import { ganRun, gaussianChainRun, ringRun, tempDir, writeReplicateTraining, writeSyntheticRun } from './runs.testutil.js'

const HOSTILE = '<img src=x onerror=alert(1)>'
/** A run of one setting is named by its run in plot titles: a long name makes long titles. */
const LONG_NAME = 'gaussian chain: fifty samples a generation, forty generations, three replicates, maximum likelihood'

interface Opened {
  page: Page
  errors: string[]
  requests: string[]
  dialogs: string[]
  declared: number
}

describe.skipIf(!haveChromium)('report.html in Chromium', () => {
  let browser: Browser
  let work: string
  const pages: Record<'ring' | 'gauss' | 'both' | 'single' | 'swept', string> = { ring: '', gauss: '', both: '', single: '', swept: '' }

  beforeAll(async () => {
    work = tempDir('browser')
    const ring = join(work, 'ring')
    const gauss = join(work, 'gauss')
    writeSyntheticRun(ring, ringRun(HOSTILE))
    for (const g of [0, 5, 11]) {
      const hq_share = (step: number) => Array.from({ length: 8 }, (_, m) => (Math.floor(step / 25) % 8 === m ? 0.9 : 0.01))
      const lines = Array.from({ length: 200 }, (_, step) => JSON.stringify({ step, metrics: { loss: 2 / (1 + step / (10 + g)) + 0.1 }, profiles: { modes: { hq_share: hq_share(step) } } }))
      writeFileSync(join(chainDir(ring, 'c0-r0'), `gen-${String(g).padStart(6, '0')}.training.ndjson`), lines.join('\n') + '\n')
    }
    writeSyntheticRun(gauss, gaussianChainRun(LONG_NAME, { sigma0: 1, m: 50, generations: 40, replicates: 3 }))
    pages.ring = await writeReport([ring], join(work, 'ring.html'))
    pages.gauss = await writeReport([gauss], join(work, 'gauss.html'))
    pages.both = await writeReport([ring, gauss], join(work, 'both.html'))
    const single = join(work, 'single')
    writeSyntheticRun(single, ganRun('gan: one generation on the ring and the grid, with a title long enough to need two lines'))
    writeReplicateTraining(single)
    pages.single = await writeReport([single], join(work, 'single.html'))
    // A sweep of policies and temperatures, its settings labelled as data/configs/brown-ngram.json's are.
    const swept = join(work, 'swept')
    const settings = [1, 0.7].flatMap((temperature) => [{ kind: 'replace' }, { kind: 'mix', realFraction: 0.1 }].map((policy) => ({ 'sampling.temperature': temperature, policy })))
    writeSyntheticRun(swept, { ...ringRun('swept'), cells: settings, metrics: (cell, rep, g) => ({ modes_covered: g === -1 ? 8 : Math.max(1, 8 - cell * g), recall: 0.123456 / (1 + cell * Math.max(g, 0) + rep) }) })
    pages.swept = await writeReport([swept], join(work, 'swept.html'))
    browser = await launchChromium()
    mkdirSync(SCREENSHOTS, { recursive: true })
  }, 30_000)

  afterAll(async () => {
    await browser?.close()
    rmSync(work, { recursive: true, force: true })
  })

  async function open(file: string, width = 1280): Promise<Opened> {
    const page = await browser.newPage({ viewport: { width, height: 900 } })
    const opened: Opened = { page, errors: [], requests: [], dialogs: [], declared: 0 }
    page.on('console', (m) => {
      if (m.type() === 'error') opened.errors.push(m.text())
    })
    page.on('pageerror', (e) => opened.errors.push(e.message))
    page.on('dialog', (d) => {
      opened.dialogs.push(d.message())
      void d.dismiss()
    })
    // Anything but the file itself and in-page data would be a request leaving the page.
    await page.route('**/*', (route) => {
      const url = route.request().url()
      if (/^(file|data|blob):/.test(url)) return route.continue()
      opened.requests.push(url)
      return route.abort()
    })
    page.on('request', (r) => {
      if (!/^(file|data|blob):/.test(r.url())) opened.requests.push(r.url())
    })
    await page.goto(pathToFileURL(file).href)
    opened.declared = Number(await page.getAttribute('meta[name="ouroboros-plots"]', 'content'))
    // Every declared plot has drawn its SVG root.
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-plot] .main-svg').length >= n && document.querySelectorAll('[data-plot]').length === n,
      opened.declared,
      { timeout: 15_000 },
    )
    return opened
  }

  async function renderedPlots(page: Page): Promise<number> {
    return page.evaluate(() => [...document.querySelectorAll('[data-plot]')].filter((div) => div.querySelector('svg.main-svg') !== null).length)
  }

  it('draws every plot of a 2-D mode run, its slider changes the generation shown, and the hostile name stays text', async () => {
    const { page, errors, requests, dialogs, declared } = await open(pages.ring)
    // 4 metrics, 2 sample plots, 1 training curve, 2 mode heatmaps (first and last generation).
    expect(declared).toBe(9)
    expect(await renderedPlots(page)).toBe(declared)

    expect(await page.locator('h1').textContent()).toBe(`Ouroboros report: ${HOSTILE}`)
    expect(await page.locator('img').count()).toBe(0)
    // No mode-bar button that would send the chart to another host.
    const buttons = await page.locator('[data-plot]').first().locator('.modebar-btn').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-title')))
    expect(buttons).toContain('Download plot as a PNG')
    expect(buttons.filter((t) => /share|cloud/i.test(t ?? ''))).toEqual([])
    expect(await page.locator('.failed-chains').textContent()).toContain('failed at generation 7: covariance is not positive definite')

    const figure = page.locator('figure.samples').first()
    const slider = figure.locator('input[type=range]')
    const caption = figure.locator('output')
    const shownPoints = (): Promise<string> =>
      figure.locator('.scatterlayer .trace').evaluateAll((traces) => traces.map((t) => t.querySelectorAll('.point').length).join(','))
    expect(await caption.textContent()).toBe('generation 11: 2000 of 2000 points')
    // The positions of the shown generation's points (the trace after the mode centres and the real data).
    const frame = (): Promise<string> =>
      figure.locator('.scatterlayer .trace').nth(2).locator('.point').evaluateAll((ps) => ps.slice(0, 50).map((p) => p.getAttribute('transform')).join(' '))
    const before = await frame()
    await slider.focus()
    await page.keyboard.press('Home')
    expect(await caption.textContent()).toBe('generation 0: 2000 of 2000 points')
    expect(await frame()).not.toBe(before)
    // Mode centres, real data, one generation.
    expect(await shownPoints()).toBe('8,2000,2000')

    await page.screenshot({ path: join(SCREENSHOTS, 'report-ring.png'), fullPage: true })
    expect(dialogs).toEqual([])
    expect(requests).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  })

  it('draws the 1-D Gaussian chain with its theory band and histograms', async () => {
    const { page, errors, requests, declared } = await open(pages.gauss)
    expect(await renderedPlots(page)).toBe(declared)
    const legend = await page.locator('.legendtext').allTextContents()
    expect(legend.some((t) => t.startsWith('theory: E[log σ²]'))).toBe(true)
    expect(await page.locator('.barlayer .trace').count()).toBeGreaterThan(0)
    // The long title is broken into lines that the mode bar stays clear of.
    expect(await page.locator('.gtitle').filter({ hasText: 'Samples: gaussian chain' }).locator('tspan.line').count()).toBe(2)
    expect(await titleOverlaps(page)).toEqual([])
    await page.screenshot({ path: join(SCREENSHOTS, 'report-gaussian.png'), fullPage: true })
    expect(requests).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  })

  /** Each plot's title and mode bar, hovered so that the bar shows: they must not overlap. */
  async function titleOverlaps(page: Page): Promise<string[]> {
    const overlaps: string[] = []
    const plots = page.locator('[data-plot]')
    for (let i = 0; i < (await plots.count()); i++) {
      const plot = plots.nth(i)
      await plot.scrollIntoViewIfNeeded()
      await plot.hover({ position: { x: 200, y: 200 } })
      const title = await plot.locator('.gtitle').boundingBox()
      const bar = await plot.locator('.modebar').boundingBox()
      if (title === null || bar === null) continue
      const apart = title.x + title.width <= bar.x || bar.x + bar.width <= title.x || title.y + title.height <= bar.y || bar.y + bar.height <= title.y
      if (!apart) overlaps.push(await plot.locator('.gtitle').textContent() ?? String(i))
    }
    return overlaps
  }

  it('compares the settings of a one-generation run: replicates per setting, training curves per setting, no collapse curves', async () => {
    const { page, errors, requests, declared } = await open(pages.single)
    expect(await renderedPlots(page)).toBe(declared)
    expect(await page.locator('#curves').count()).toBe(0)
    expect(await page.locator('#summary h2').textContent()).toBe('Comparison')
    // One metric, a training metric and a trainer's loss, one sample plot per setting.
    expect(declared).toBe(5)
    // The real data's two ticks (under the rest), then the ring's three replicates and their mean, and the grid's, drawn as points.
    const dots = await page.locator('#metrics .scatterlayer .trace').evaluateAll((traces) => traces.map((t) => t.querySelectorAll('.point').length))
    expect(dots.slice(0, 5)).toEqual([2, 3, 1, 3, 1])
    expect(await titleOverlaps(page)).toEqual([])
    await page.screenshot({ path: join(SCREENSHOTS, 'report-single-generation.png'), fullPage: true })
    expect(requests).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  })

  it('puts two runs on one page with legends prefixed by run name', async () => {
    const { page, errors, requests, dialogs, declared } = await open(pages.both)
    expect(await renderedPlots(page)).toBe(declared)
    const legend = await page.locator('.legendtext').allTextContents()
    expect(legend).toContain(`${HOSTILE}: policy=replace (mean)`)
    expect(legend).toContain(`${LONG_NAME} (mean)`)
    expect(await page.locator('table.summary').count()).toBe(1)
    expect(await titleOverlaps(page)).toEqual([])
    await page.screenshot({ path: join(SCREENSHOTS, 'report-two-runs.png'), fullPage: true })
    expect(dialogs).toEqual([])
    expect(requests).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  })

  it('keeps a plot with a long legend at its height when a legend item is clicked, so that a second click on the same spot shows the trace again', async () => {
    const { page, errors } = await open(pages.swept)
    // The plot whose legend lists the most entries is the tallest (room for its legend).
    const tallest = await page.evaluate(() => {
      const divs = [...document.querySelectorAll<HTMLElement & { layout: { height?: number } }>('[data-plot]')]
      const div = divs.reduce((a, b) => ((b.layout.height ?? 0) > (a.layout.height ?? 0) ? b : a))
      return div.getAttribute('data-plot')!
    })
    const plot = page.locator(`[data-plot="${tallest}"]`)
    const state = () => plot.evaluate((div: HTMLElement & { data: { visible?: unknown }[] }) => ({ height: Math.round(div.getBoundingClientRect().height), visible: div.data.map((t) => t.visible ?? true) }))
    const before = await state()
    expect(before.height).toBeGreaterThan(470)
    // A resize of the window (plotly then sizes a responsive plot to its box), then two clicks on one spot.
    await page.setViewportSize({ width: 1000, height: 900 })
    await page.waitForTimeout(300)
    const item = plot.locator('.legend .traces').first()
    await item.scrollIntoViewIfNeeded()
    const box = (await item.boundingBox())!
    // Plotly waits out its double-click delay (300 ms) before a single click takes effect.
    await page.mouse.click(box.x + 10, box.y + box.height / 2)
    await page.waitForTimeout(800)
    const once = await state()
    expect(once.height).toBe(before.height)
    expect(once.visible).toContain('legendonly')
    await page.mouse.click(box.x + 10, box.y + box.height / 2)
    await page.waitForTimeout(800)
    expect(await state()).toEqual(before)
    expect(errors).toEqual([])
    await page.close()
  })

  it('fits a summary of long setting labels in a window half a 1920-pixel screen wide', async () => {
    const { page, errors } = await open(pages.swept, 960)
    expect(await page.locator('table.summary td.setting').first().textContent()).toBe('temperature=1, policy=replace')
    expect(await page.locator('table.summary td.setting').nth(1).textContent()).toBe('temperature=1, policy=mix(realFraction=0.1)')
    // The page does not scroll sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(0)
    await page.screenshot({ path: join(SCREENSHOTS, 'report-960px.png'), fullPage: true })
    expect(errors).toEqual([])
    await page.close()
  })

  it('fits the summary in a 700-pixel window, its last column in view without scrolling', async () => {
    const { page, errors } = await open(pages.swept, 700)
    const table = await page.evaluate(() => ((t) => ({ overflow: t.scrollWidth - t.clientWidth, right: t.getBoundingClientRect().right, last: t.querySelector('thead th:last-child')!.getBoundingClientRect().right }))(document.querySelector('table.summary')!))
    expect(table.overflow).toBe(0)
    expect(table.last).toBeLessThanOrEqual(table.right)
    expect(errors).toEqual([])
    await page.close()
  })

  it('in a narrower window, scrolls a table too wide for it on its own, never the page', async () => {
    const { page, errors } = await open(pages.swept, 600)
    const overflow = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      summary: ((t) => t.scrollWidth - t.clientWidth)(document.querySelector('table.summary')!),
      overflowX: getComputedStyle(document.querySelector('table.summary')!).overflowX,
    }))
    expect(overflow.page).toBe(0)
    expect(overflow.summary).toBeGreaterThan(0)
    expect(overflow.overflowX).toBe('auto')
    await page.screenshot({ path: join(SCREENSHOTS, 'report-600px.png'), fullPage: true })
    expect(errors).toEqual([])
    await page.close()
  })
})
