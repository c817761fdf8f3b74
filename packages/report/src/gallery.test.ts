import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { writeReport } from './index.js'
import { HOSTILE_WORD, imageValue, writeImageRun, writeTokenRun } from './gallery.testutil.js'
import { tempDir } from './runs.testutil.js'

/** Decodes an 8-bit greyscale PNG without filters (what greyscalePng writes), independently. */
function decodePng(png: Buffer): { width: number; height: number; pixels: Uint8Array } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  let at = 8
  let width = 0
  let height = 0
  const idat: Buffer[] = []
  while (at < png.length) {
    const length = png.readUInt32BE(at)
    const type = png.toString('latin1', at + 4, at + 8)
    const data = png.subarray(at + 8, at + 8 + length)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      expect([data[8], data[9]]).toEqual([8, 0])
    }
    if (type === 'IDAT') idat.push(data)
    at += 12 + length
  }
  const raw = inflateSync(Buffer.concat(idat))
  const pixels = new Uint8Array(width * height)
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width + 1)]).toBe(0)
    pixels.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width)
  }
  return { width, height, pixels }
}

describe('galleries', () => {
  it('shows generated sentences per generation, words escaped, empty ones named', async () => {
    const dir = tempDir('tokens')
    writeTokenRun(dir)
    const html = readFileSync(await writeReport([dir], join(dir, 'report.html')), 'utf8')
    expect(html).toContain('figure class="gallery text"')
    // Each gallery's caption heads its frames, so that stacked galleries are not read as captioned by the one above.
    expect(html).toMatch(/<figure class="gallery text">\n<figcaption>[^\n]*chain <code>[^\n]*<\/figcaption>\n<div class="frames">/)
    // Generation 2's sentences start with word 2 ("sat"); the real data with the hostile word.
    expect(html).toContain('<li>sat the cat sat on the mat .</li>')
    expect(html).toContain(`<li>&lt;script&gt;alert(1)&lt;/script&gt; the cat sat on the mat .</li>`)
    expect(html).not.toContain(HOSTILE_WORD)
    expect(html.match(/class="frame"/g)).toHaveLength(5)
    // An empty sequence is said to be one, not left as a blank numbered line.
    expect(html.match(/<li class="empty">\(an empty sequence: the model ended it before its first token\)<\/li>/g)).toHaveLength(1)
    expect(html).not.toContain('<li></li>')
    // A sentence longer than the 40 tokens shown says how long it is.
    expect(html).toContain(`<li>cat ${'the cat sat on the mat . '.repeat(5)}the cat sat on … (57 tokens)</li>`)
  })

  it('shows image samples as a PNG grid per generation whose pixels are the sample values', async () => {
    const dir = tempDir('images')
    writeImageRun(dir)
    const html = readFileSync(await writeReport([dir], join(dir, 'report.html')), 'utf8')
    const images = [...html.matchAll(/data-generation="(-?\d+)"><div class="frame-title">[^<]*<\/div><img src="data:image\/png;base64,([^"]+)"/g)]
    expect(images.map((m) => Number(m[1]))).toEqual([-1, 0, 1, 2])
    const { width, height, pixels } = decodePng(Buffer.from(images[2]![2]!, 'base64'))
    // 32 of the 40 samples, 8 per row, 28 x 28 each with a 1-pixel grey border between.
    expect([width, height]).toEqual([8 * 29 - 1, 4 * 29 - 1])
    for (const k of [0, 5, 31]) {
      const row = Math.floor((k * 40) / 32)
      const x = (k % 8) * 29 + 14
      const y = Math.floor(k / 8) * 29 + 14
      expect(pixels[y * width + x]).toBe(Math.round(255 * imageValue(row, 1)))
    }
    expect(pixels[28]).toBe(128)
    // No scatter of the first two pixels.
    expect(html).not.toContain('Samples: ')
  })
})
