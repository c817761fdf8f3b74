import cliProgress from 'cli-progress'
import type { ProgressEvent } from '@ouroboros/scheduler'

/**
 * On a terminal, a live bar (generations done, chains finished, elapsed, time left); elsewhere one
 * plain line per finished generation, which log files and CI consoles keep readable.
 */
export function progressReporter(chains: number, stream: NodeJS.WriteStream = process.stderr): { onProgress: (e: ProgressEvent) => void; stop: () => void } {
  const started = Date.now()
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: 'generations {bar} {value}/{total} | failed chains {failed} | elapsed {elapsed} | left {eta_formatted}',
        stream,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    )
    let started_ = false
    let failed = 0
    return {
      onProgress(e) {
        if (!started_) {
          bar.start(e.generationsTotal, 0, { failed, elapsed: '0s' })
          started_ = true
        }
        if (e.failed) failed++
        bar.update(e.generationsDone, { failed, elapsed: formatSeconds((Date.now() - started) / 1000) })
      },
      stop: () => started_ && bar.stop(),
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
        stream.write(`generation ${printed - 1} done in all ${chains - failed.size} chains [${e.generationsDone}/${e.generationsTotal}] elapsed ${elapsed}, left ~${formatSeconds(left)}\n`)
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
