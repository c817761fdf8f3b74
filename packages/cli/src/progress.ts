import cliProgress from 'cli-progress'
import { SAMPLING_AND_SCORING, type ProgressEvent } from '@ouroboros/scheduler'

export interface ProgressChain {
  readonly id: string
  readonly generations: number
  /** Generations this chain had done before this process started (a resumed run). */
  readonly done: number
  /** Chains of one group (a sweep cell) are alike in cost: the time left is predicted per group. */
  readonly group: number
  /** The kinds of the post-training stages each of its generations runs after its fit (none by default). */
  readonly stages?: readonly string[]
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream
  /** Seconds between status lines when the stream is not a terminal. */
  intervalSeconds?: number
  now?: () => number
}

/** The least time between two redraws of the bar on a terminal (ms); a failure's line redraws it at once. */
const REDRAW_MS = 100
/**
 * A training stage's time left is paced by its last progress reports (at most one per 200 ms, or
 * one per step): at least this many, and as many as the last 30 s hold, since over the 2 s of ten
 * fast steps a pause of the machine (another process, a garbage collection) read as a pace five
 * times slower.
 */
const PACE_STEPS = 10
const PACE_WINDOW_MS = 30_000
/** Off a terminal, a status line for training steps alone (no generation done since the last) waits this long (s). */
const TRAINING_LINE_SECONDS = 30
/**
 * Off a terminal, a run with nothing new to report still gets a status line this often (s): a model
 * that reports no training steps (a command model) can take minutes per generation, and a log
 * silent that long reads as a hung job.
 */
const QUIET_LINE_SECONDS = 60
/**
 * A chain whose training has said nothing for this long (s) is named, with how long: a plug-in
 * whose fit never ends would otherwise show the same line for ever, naming neither the chain nor
 * what it is at.
 */
const SILENT_TRAINING_SECONDS = 120
/**
 * Writing the sorted record files once the chains are done takes seconds a hundred thousand
 * records (metrics.ndjson, metrics.csv and metrics.parquet of a run of 1,000 chains of 400
 * generations: 15 s on two cores), where the last status line may still read half done. Past
 * this long (ms) the writing is said; the files of a small run are written before it.
 */
const FINISHING_LINE_MS = 1000

/**
 * On a terminal, a live bar; elsewhere (log files, CI consoles) a status line every few seconds
 * and one at the end. Failures are printed once, when they happen.
 */
export function progressReporter(chains: readonly ProgressChain[], opts: ProgressOptions = {}): { onProgress: (e: ProgressEvent) => void; log: (line: string) => void; finishing: () => void; stop: () => void } {
  const stream = opts.stream ?? process.stderr
  const now = opts.now ?? Date.now
  const started = now()
  const state = new RunProgress(chains)
  const failedGroups = new Set<string>()
  // What to do about a failure is said once, however many chains it stops.
  const hints = new Set<string>()
  const notices = new Set<string>()
  const report = (e: ProgressEvent): boolean => {
    if (e.failed !== undefined) {
      state.fail(e.failed.chain)
      write(`chain ${e.failed.chain} failed at ${generationWords(e.failed.generation)}: ${e.failed.message}`)
      const hint = e.failed.hint
      if (hint !== undefined && !hints.has(hint)) {
        hints.add(hint)
        write(`  hint: ${hint}`)
      }
      return true
    }
    if (e.metricError !== undefined) {
      const m = e.metricError
      if (!failedGroups.has(m.group)) {
        failedGroups.add(m.group)
        write(`warning: metric group '${m.group}' failed in chain ${m.chain} at ${generationWords(m.generation)}; its values are null (run.json lists every chain it failed in): ${m.message}`)
      }
      return true
    }
    if (e.notice !== undefined) {
      if (!notices.has(e.notice)) {
        notices.add(e.notice)
        write(`warning: ${e.notice}`)
      }
      return true
    }
    if (e.resumedAt !== undefined) state.resumed(e.chain, e.resumedAt)
    if (e.training !== undefined) state.training(e.chain, e.generation, e.training, now())
    if (e.ms !== undefined) state.record(e.chain, e.generation, e.ms, now())
    return false
  }
  let write: (line: string) => void
  let finishingLine: NodeJS.Timeout | undefined
  /** Every chain has stopped, and the record files are written from the record log. */
  const finishing = (): void => {
    finishingLine = setTimeout(() => write(`[${formatSeconds((now() - started) / 1000)}] writing the record files: the records of ${state.generationsDone()} generations, sorted`), FINISHING_LINE_MS)
    finishingLine.unref()
  }

  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: 'generations {bar} {value}/{total}{training} | chains {chainsDone}/{chains} done, {failed} failed | elapsed {elapsed} | left {left}',
        stream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    )
    const fields = () => {
      const elapsed = (now() - started) / 1000
      const left = state.secondsLeft(elapsed, now())
      const training = state.trainingText(now(), left)
      return { chains: chains.length, chainsDone: state.chainsFinished(), failed: state.failed.size, elapsed: formatSeconds(elapsed), left: left === undefined ? '…' : formatSeconds(left), training: training === '' ? '' : ` | ${training}` }
    }
    let drawn = now()
    const draw = (): void => {
      drawn = now()
      bar.update(state.generationsDone(), fields())
    }
    write = (line) => {
      // Above the bar, which is redrawn below it.
      stream.write(`\r\x1b[K${line}\n`)
      draw()
    }
    bar.start(state.generationsTotal, state.generationsDone(), fields())
    // The elapsed time moves on while a long generation trains.
    const tick = setInterval(draw, 1000)
    tick.unref()
    return {
      onProgress(e) {
        // The bar's fields look at every chain: redrawn for every record, they made a run of 1,000
        // cheap chains six times slower on a terminal than in a log.
        if (!report(e) && now() - drawn >= REDRAW_MS) draw()
      },
      log: (line) => write(line),
      finishing,
      stop() {
        clearInterval(tick)
        clearTimeout(finishingLine)
        draw()
        bar.stop()
      },
    }
  }

  write = (line) => stream.write(`${line}\n`)
  let printed = -1
  let printedTraining = ''
  let printedAt = now()
  const status = (): void => {
    const elapsed = (now() - started) / 1000
    const done = state.generationsDone()
    printed = done
    const left = state.secondsLeft(elapsed, now())
    printedTraining = state.trainingText(now(), left)
    printedAt = now()
    const failed = state.failed.size > 0 ? `, ${state.failed.size} failed` : ''
    const eta = left === undefined || left <= 0 ? '' : `; about ${formatSeconds(left)} left`
    const training = printedTraining === '' ? '' : `; ${printedTraining}`
    write(`[${formatSeconds(elapsed)}] generations ${done}/${state.generationsTotal} (${Math.floor((100 * done) / Math.max(1, state.generationsTotal))} %), chains ${state.chainsFinished()}/${chains.length} finished${failed}${eta}${training}`)
  }
  const tick = setInterval(() => {
    // A generation that trains for minutes shows its steps now and then, not every few seconds.
    const trainingMoved = state.trainingText(now(), state.secondsLeft((now() - started) / 1000, now())) !== printedTraining && now() - printedAt >= 1000 * TRAINING_LINE_SECONDS
    const quiet = now() - printedAt >= 1000 * QUIET_LINE_SECONDS
    if (state.generationsDone() !== printed || trainingMoved || quiet) status()
  }, 1000 * (opts.intervalSeconds ?? 5))
  tick.unref()
  return {
    onProgress(e) {
      report(e)
    },
    log: (line) => write(line),
    finishing() {
      // The generations are all counted: the last status line waits for the files, and gives the whole time.
      clearInterval(tick)
      finishing()
    },
    stop() {
      clearInterval(tick)
      clearTimeout(finishingLine)
      if (state.generationsDone() !== printed) status()
    },
  }
}

/**
 * What is done and what is left. The time left is predicted from the generations' own timings:
 * per group of alike chains (a sweep cell), a least-squares line of a generation's time against
 * its index, so that `accumulate`, whose generations grow with the history they train on, is not
 * predicted at its early pace nor at the pace of a cheaper cell; the predicted work is turned into
 * wall-clock time by the ratio of elapsed time to the work seen so far (which absorbs the parallel
 * workers and the overheads).
 */
export class RunProgress {
  readonly generationsTotal: number
  readonly failed = new Set<string>()
  private readonly chains = new Map<string, { next: number; generations: number; group: number; stages: readonly string[] }>()
  private readonly fits = new Map<number, LineFit>()
  private readonly all = new LineFit()
  /** Generations done, chain by chain (each chain's `next`, up to its generations). */
  private done = 0
  private recorded = 0

  constructor(chains: readonly ProgressChain[]) {
    this.generationsTotal = chains.reduce((a, c) => a + c.generations, 0)
    for (const c of chains) {
      this.chains.set(c.id, { next: 0, generations: c.generations, group: c.group, stages: c.stages ?? [] })
      this.advance(c.id, c.done)
    }
  }

  /** A resumed chain goes on after its `done` generations. */
  resumed(chain: string, done: number): void {
    this.advance(chain, done)
  }

  private advance(chain: string, next: number): void {
    const c = this.chains.get(chain)
    if (c === undefined || next <= c.next) return
    this.done += Math.min(next, c.generations) - Math.min(c.next, c.generations)
    c.next = next
  }

  /**
   * Generations training now (a fit or a post-training stage), per chain: shown until the
   * generation's record arrives. `seen` holds the last steps seen of this stage and when they
   * came: the stage's pace is measured over them, leaving out what came before its first step
   * (loading the data, building the model) and following a pace that changes (an RL policy that
   * learns to write longer sentences takes longer a step).
   */
  private readonly inTraining = new Map<string, { generation: number; began: number; what: string; step: number; steps: number; seen: { step: number; at: number }[] }>()

  training(chain: string, generation: number, at: { what: string; step: number; steps: number; over?: true }, now: number): void {
    // A step that comes after its generation's record or its chain's failure (they travel apart) is over.
    if (generation < (this.chains.get(chain)?.next ?? 0) || this.failed.has(chain)) return
    const old = this.inTraining.get(chain)
    // A chain of a block has ended its generation; the record comes with the block's.
    if (at.over === true) {
      if (old?.generation === generation) this.inTraining.delete(chain)
      return
    }
    const sameStage = old !== undefined && old.generation === generation && old.what === at.what && old.steps === at.steps && at.step >= old.step
    const seen = sameStage ? old.seen : []
    seen.push({ step: at.step, at: now })
    while (seen.length > PACE_STEPS && now - seen[1]!.at >= PACE_WINDOW_MS) seen.shift()
    // When the generation's first report came, whatever its stages: the time it has spent, at least.
    const began = old !== undefined && old.generation === generation ? old.began : now
    this.inTraining.set(chain, { generation, began, ...at, seen })
  }

  /**
   * "rl step 40/100 (1m20s left; +2 chains)": the training of the chain longest at it, the time
   * its stage needs at its recent pace (once two of its steps have been seen), and how many other
   * chains are training. A run of a few long generations shows no time left for the whole run
   * until two have ended; this one shows from the stage's second step. The stage's time left is
   * left out where it reads the same as the run's (`runLeft`), as when one chain is left.
   */
  trainingText(now: number, runLeft?: number): string {
    const first = this.inTraining.entries().next()
    if (first.done === true) return ''
    const [chain, t] = first.value
    const notes: string[] = []
    const left = t.what === SAMPLING_AND_SCORING ? this.samplingSecondsLeft(chain, t, now) : stageSecondsLeft(t, now)
    if (left !== undefined && (runLeft === undefined || formatSeconds(left) !== formatSeconds(runLeft))) notes.push(`${formatSeconds(left)} left`)
    const silent = (now - t.seen.at(-1)!.at) / 1000
    if (silent >= SILENT_TRAINING_SECONDS) notes.push(`chain ${chain}, ${generationWords(t.generation)}: nothing from it for ${formatSeconds(silent)}`)
    const others = this.inTraining.size - 1
    if (others > 0) notes.push(`+${others} chain${others === 1 ? '' : 's'}`)
    const what = t.steps === 0 ? t.what : `${t.what} step ${t.step}/${t.steps}`
    return `${what}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`
  }

  /**
   * How long the sampling and scoring of a generation took, per group of alike chains: from its
   * word that its training was over to its record. The next one's time left is taken to be the same.
   */
  private readonly sampling = new Map<number, number>()

  private samplingSecondsLeft(chain: string, t: { seen: readonly { at: number }[] }, now: number): number | undefined {
    const group = this.chains.get(chain)?.group
    const took = group === undefined ? undefined : this.sampling.get(group)
    // Past the last one's time, no guess.
    const left = took === undefined ? 0 : took - (now - t.seen[0]!.at)
    return left > 0 ? left / 1000 : undefined
  }

  record(chain: string, generation: number, ms: number, now?: number): void {
    const training = this.inTraining.get(chain)
    const c = this.chains.get(chain)
    if (training?.what === SAMPLING_AND_SCORING && training.generation === generation && c !== undefined && now !== undefined) this.sampling.set(c.group, now - training.seen[0]!.at)
    if (training !== undefined && generation >= training.generation) this.inTraining.delete(chain)
    if (generation < 0 || c === undefined) return
    this.recorded++
    this.advance(chain, generation + 1)
    this.all.add(generation, ms)
    let fit = this.fits.get(c.group)
    if (fit === undefined) this.fits.set(c.group, (fit = new LineFit()))
    fit.add(generation, ms)
  }

  fail(chain: string): void {
    this.inTraining.delete(chain)
    this.failed.add(chain)
  }

  generationsDone(): number {
    return this.done
  }

  chainsFinished(): number {
    let finished = 0
    for (const [id, c] of this.chains) if (c.next >= c.generations && !this.failed.has(id)) finished++
    return finished
  }

  /**
   * Seconds left, or undefined until enough has been seen to say. Estimated afresh when records or
   * failures have come since the last estimate; in between, the last estimate counts down (a long
   * generation's minutes without a record would otherwise raise the elapsed time, and with it the
   * estimate, while the work left falls).
   */
  secondsLeft(elapsedSeconds: number, now: number): number | undefined {
    if (this.estimate === undefined || this.estimate.seen !== this.recorded + this.failed.size) {
      const seconds = this.estimateLeft(elapsedSeconds, now)
      this.estimate = seconds === undefined ? undefined : { seconds, at: elapsedSeconds, seen: this.recorded + this.failed.size }
      return seconds ?? this.earlyLeft(elapsedSeconds, now)
    }
    return Math.max(0, this.estimate.seconds - (elapsedSeconds - this.estimate.at))
  }

  /**
   * Until two generations have ended there is no pace of generations, and a run of long
   * one-generation chains (the GAN configs: six of 15 minutes on two cores) would show only its
   * first fits' time left. Until then, every generation is taken to cost what the first one did:
   * before it has ended, what the one of the chain longest at its training will have cost when its
   * stage ends (it began with this process), if that stage is its generation's last (the stages
   * after it are not timed yet: a fit followed by RL would read as the fit alone); and the chains
   * training now are the run's parallel slots, each chain's generation counted from when it began.
   */
  private earlyLeft(elapsedSeconds: number, now: number): number | undefined {
    if (this.recorded > 1) return undefined
    const first = this.inTraining.entries().next()
    if (first.done === true) return undefined
    const [chain, t] = first.value
    if (!this.lastStage(chain, t.what)) return undefined
    const stageLeft = stageSecondsLeft(t, now)
    if (stageLeft === undefined) return undefined
    const generation = this.recorded === 0 ? elapsedSeconds + stageLeft : this.all.st / 1000
    // Each chain training is a slot, free once the rest of its generation is done: ending as much
    // later than the first's as it began later (within a generation). The generations still to
    // start go round after round to the slots in the order they are free (what taking the first
    // free slot each time does while no two are free a generation or more apart).
    const free: number[] = []
    let queued = 0
    for (const [id, c] of this.chains) {
      const count = c.generations - c.next
      if (this.failed.has(id) || count <= 0) continue
      const training = this.inTraining.get(id)
      if (training === undefined) {
        queued += count
        continue
      }
      free.push(id === chain ? stageLeft : Math.min(generation, stageLeft + Math.max(0, training.began - t.began) / 1000))
      queued += count - 1
    }
    if (free.length === 0) return undefined
    free.sort((x, y) => x - y)
    const rounds = Math.floor(queued / free.length)
    return Math.max(...free.map((at, i) => at + (rounds + (i < queued % free.length ? 1 : 0)) * generation))
  }

  private estimate: { seconds: number; at: number; seen: number } | undefined

  /** Whether `what` (the fit, or a stage's kind) is the last stage of the chain's generations; a kind the stages repeat is not known to be. */
  private lastStage(chain: string, what: string): boolean {
    const stages = this.chains.get(chain)?.stages ?? []
    if (stages.length === 0) return what === 'fit'
    return what === stages[stages.length - 1] && stages.indexOf(what) === stages.length - 1
  }

  /**
   * The predicted work left, less what the generations in flight have already spent of theirs, in
   * wall-clock time (at the pace of the work done so far, theirs included); and never less than
   * the longest chain's own work left, since a chain's generations run one after another (near the
   * end of a run its last chains run alone, with no parallel workers to share the work).
   */
  private estimateLeft(elapsedSeconds: number, now: number): number | undefined {
    if (this.all.n < 2 || this.all.st <= 0) return undefined
    let work = 0
    let spent = 0
    let longest = 0
    for (const [id, c] of this.chains) {
      if (this.failed.has(id)) continue
      const count = c.generations - c.next
      if (count <= 0) continue
      const own = this.fits.get(c.group)
      const fit = own !== undefined && own.n >= 2 ? own : this.all
      let left = fit.sum(c.next, c.generations - 1)
      const training = this.inTraining.get(id)
      if (training !== undefined && training.generation === c.next) {
        const s = Math.min(fit.sum(c.next, c.next), now - training.began)
        left -= s
        spent += s
      }
      work += left
      longest = Math.max(longest, left)
    }
    // The elapsed time holds the work done so far: the generations ended and what those in flight
    // have spent (early in a run of long generations, as much as the ended ones on another worker).
    return Math.max((work * elapsedSeconds) / (this.all.st + spent), longest / 1000)
  }
}

/** Seconds a training stage needs at the pace of its last steps seen, less the time since the last; undefined before its second step. */
function stageSecondsLeft(t: { step: number; steps: number; seen: readonly { step: number; at: number }[] }, now: number): number | undefined {
  const from = t.seen[0]!
  const last = t.seen[t.seen.length - 1]!
  if (last.step <= from.step || last.at <= from.at) return undefined
  const msPerStep = (last.at - from.at) / (last.step - from.step)
  return Math.max(0, (t.steps - t.step) * msPerStep - (now - last.at)) / 1000
}

/** Least-squares line t = a + b·g (b ≥ 0: a falling pace, warm caches, is not extrapolated). */
class LineFit {
  n = 0
  st = 0
  private sg = 0
  private sgg = 0
  private sgt = 0

  add(g: number, t: number): void {
    this.n++
    this.sg += g
    this.st += t
    this.sgg += g * g
    this.sgt += g * t
  }

  /** Predicted Σ t(g) for g = from..to. */
  sum(from: number, to: number): number {
    const meanG = this.sg / this.n
    const meanT = this.st / this.n
    const varG = this.sgg / this.n - meanG * meanG
    const slope = varG > 0 ? Math.max(0, (this.sgt / this.n - meanG * meanT) / varG) : 0
    const count = to - from + 1
    // Around the mean: a + b·g = meanT + b·(g − meanG), never below zero in total.
    return Math.max(0, count * meanT + slope * (((from + to) * count) / 2 - count * meanG))
  }
}

export function formatSeconds(s: number): string {
  // Below what toFixed(1) would show as 60.0; above it, whole seconds, rounded before the minutes are split off.
  if (s < 59.95) return `${s.toFixed(1)}s`
  const whole = Math.round(s)
  const m = Math.floor(whole / 60)
  const seconds = String(whole - 60 * m).padStart(2, '0')
  if (m < 60) return `${m}m${seconds}s`
  // A GMM on MNIST's 784 dimensions fits for hours: 3h13m04s, not 193m04s.
  const h = Math.floor(m / 60)
  return `${h}h${String(m - 60 * h).padStart(2, '0')}m${seconds}s`
}

/** A generation as the progress lines name it: generation −1 is the real data's reference record. */
function generationWords(generation: number): string {
  return generation === -1 ? "generation -1 (the real data's reference record)" : `generation ${generation}`
}
