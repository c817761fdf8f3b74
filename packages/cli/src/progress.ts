import cliProgress from 'cli-progress'
import type { ProgressEvent } from '@ouroboros/scheduler'

/**
 * On a terminal, a live bar (generations done, chains finished, elapsed, time left); elsewhere one
 * plain line per finished generation, which log files and CI consoles keep readable.
 */
export function progressReporter(runChains: readonly { id: string; config: { generations: number } }[], stream: NodeJS.WriteStream = process.stderr): { onProgress: (e: ProgressEvent) => void; stop: () => void } {
  const started = Date.now()
  const chains = runChains.length
  const generationsOf = new Map(runChains.map((c) => [c.id, c.config.generations]))
  const total = runChains.reduce((a, c) => a + c.config.generations, 0)
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: 'generations {bar} {value}/{total} | chains {chainsDone}/{chains} done, {failed} failed | elapsed {elapsed} | left {eta_formatted}',
        stream,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    )
    let failed = 0
    let done = 0
    const perChain = new Map<string, number>()
    const fields = () => ({ failed, chains, chainsDone: [...perChain].filter(([id, n]) => n >= generationsOf.get(id)!).length, elapsed: formatSeconds((Date.now() - started) / 1000) })
    bar.start(total, 0, fields())
    // The elapsed time moves on while a long generation trains.
    const tick = setInterval(() => bar.update(done, fields()), 1000)
    tick.unref()
    return {
      onProgress(e) {
        if (e.failed) failed++
        else perChain.set(e.chain, (perChain.get(e.chain) ?? 0) + 1)
        done = e.generationsDone
        bar.update(done, fields())
      },
      stop: () => {
        clearInterval(tick)
        bar.stop()
      },
    }
  }
  // One line each time every chain has finished one more generation (or the run has
  // finished one more generation of its only chain), not one per chain: a sweep of 100 chains
  // stays readable.
  const perChain = new Map<string, number>()
  const failed = new Set<string>()
  let printed = 0
  return {
    onProgress(e) {
      const elapsed = formatSeconds((Date.now() - started) / 1000)
      if (e.failed) {
        failed.add(e.failed.chain)
        stream.write(`chain ${e.failed.chain} failed at generation ${e.failed.generation}: ${e.failed.message}\n`)
        return
      }
      perChain.set(e.chain, (perChain.get(e.chain) ?? 0) + 1)
      let min = Infinity
      for (const [chain, n] of perChain) if (!failed.has(chain)) min = Math.min(min, n)
      if (perChain.size < chains - failed.size) min = 0
      while (printed < min) {
        printed++
        const left = e.generationsDone > 0 ? ((Date.now() - started) / e.generationsDone) * (e.generationsTotal - e.generationsDone) / 1000 : 0
        stream.write(`generation ${printed - 1} done${chains === 1 ? '' : ` in all ${chains - failed.size} chains`} [${e.generationsDone}/${e.generationsTotal}] elapsed ${elapsed}, left ~${formatSeconds(left)}\n`)
      }
    },
    stop: () => undefined,
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`
  const m = Math.floor(s / 60)
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`
}
