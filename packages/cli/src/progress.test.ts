import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ProgressEvent } from '@ouroboros/scheduler'
import { RunProgress, formatSeconds, progressReporter } from './progress.js'

function record(chain: string, generation: number, ms: number): ProgressEvent {
  return { chain, generation, generationsDone: 0, generationsTotal: 0, ms }
}

/** A stream that is not a terminal and keeps what is written. */
function sink(): NodeJS.WriteStream & { lines: () => string[] } {
  let text = ''
  return {
    isTTY: false,
    write: (s: string) => {
      text += s
      return true
    },
    lines: () => text.split('\n').filter((l) => l !== ''),
  } as unknown as NodeJS.WriteStream & { lines: () => string[] }
}

/**
 * A reporter off a terminal (a status line every 5 s at most) on fake timers: `at(ms)` moves its
 * clock to ms and runs the timers due by then.
 */
function offTerminal(chains: { id: string; generations: number; done: number; group: number; stages?: string[] }[]) {
  vi.useFakeTimers()
  let now = 0
  const stream = sink()
  const progress = progressReporter(chains, { stream, intervalSeconds: 5, now: () => now })
  const at = (ms: number): void => {
    const by = ms - now
    now = ms
    vi.advanceTimersByTime(by)
  }
  return { stream, progress, at }
}

describe('RunProgress', () => {
  it('predicts the time left of each group from its own pace, growing or flat', () => {
    // Cell 0: generations of 10 ms; cell 1 (accumulate-like): generation g takes 10 + 5g ms.
    const p = new RunProgress([
      { id: 'flat', generations: 10, done: 0, group: 0 },
      { id: 'growing', generations: 10, done: 0, group: 1 },
    ])
    for (let g = 0; g < 4; g++) {
      p.record('flat', g, 10)
      p.record('growing', g, 10 + 5 * g)
    }
    // Work seen: 40 + (40 + 5·6) = 110 ms in 1.1 s of wall time: a factor of 10.
    // Left: flat 6 · 10 = 60 ms; growing Σ_{g=4..9} (10 + 5g) = 60 + 5·39 = 255 ms.
    expect(p.secondsLeft(1.1, 0)).toBeCloseTo(((60 + 255) * 1.1) / 110, 10)
    // No record since: the estimate counts down instead of growing with the elapsed time.
    expect(p.secondsLeft(2.1, 0)).toBeCloseTo(((60 + 255) * 1.1) / 110 - 1, 10)
    expect(p.secondsLeft(100, 0)).toBe(0)
    // A record: estimated afresh, from all the work and time seen (flat's generation 4 took 10 ms).
    p.record('flat', 4, 10)
    expect(p.secondsLeft(1.2, 0)).toBeCloseTo(((50 + 255) * 1.2) / 120, 10)
    expect(p.generationsDone()).toBe(9)
    expect(p.chainsFinished()).toBe(0)
  })

  it('until two generations have ended, takes each to cost what the first did (or will have when its stage ends), run in as many slots as chains training', () => {
    // Six one-generation chains on two workers: two rounds more after the first.
    const p = new RunProgress(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id, generations: 1, done: 0, group: 0 })))
    expect(p.secondsLeft(5, 5000)).toBeUndefined()
    p.training('a', 0, { what: 'fit', step: 1, steps: 1001 }, 10_000)
    p.training('b', 0, { what: 'fit', step: 1, steps: 1001 }, 10_000)
    // One step seen: no pace yet.
    expect(p.secondsLeft(10, 10_000)).toBeUndefined()
    p.training('a', 0, { what: 'fit', step: 101, steps: 1001 }, 20_000)
    // 0.1 s a step: 900 steps are 90 s, 2 s of which have passed; the generation ends at 22 + 88 = 110 s.
    expect(p.secondsLeft(22, 22_000)).toBeCloseTo(88 + 2 * 110, 10)
    // Once a chain fails, its generation is left out: five generations on two slots, three rounds.
    p.fail('f')
    expect(p.secondsLeft(22, 22_000)).toBeCloseTo(88 + 2 * 110, 10)
    p.fail('e')
    expect(p.secondsLeft(22, 22_000)).toBeCloseTo(88 + 110, 10)
    // After the first generation, its own time is a generation's: b's fit ends now (100 ms a
    // step, 100 steps left at 100 s), and c and d follow one after the other on b's slot.
    p.record('a', 0, 110_000)
    expect(p.secondsLeft(110, 110_000)).toBeUndefined()
    p.training('b', 0, { what: 'fit', step: 901, steps: 1001 }, 100_000)
    expect(p.secondsLeft(110, 110_000)).toBeCloseTo(0 + 2 * 110, 10)
    // The second generation's record brings the estimate from the generations' own timings.
    p.record('b', 0, 110_000)
    // Work seen 220 s in 110 s of wall time; two generations of 110 s each left.
    expect(p.secondsLeft(110, 110_000)).toBeCloseTo(110, 10)
  })

  it('counts the whole generation of a chain that has just begun beside one about to end', () => {
    // Three one-generation chains on two workers: a ends at 60 s and c begins on its worker while
    // b's fit has 2 s left; c's whole generation, 60 s, is what is left (not b's 2 s).
    const p = new RunProgress(['a', 'b', 'c'].map((id) => ({ id, generations: 1, done: 0, group: 0 })))
    p.training('a', 0, { what: 'fit', step: 1, steps: 3001 }, 0)
    p.training('b', 0, { what: 'fit', step: 1, steps: 3001 }, 0)
    p.record('a', 0, 60_000)
    p.training('b', 0, { what: 'fit', step: 2901, steps: 3001 }, 58_000)
    p.training('c', 0, { what: 'fit', step: 1, steps: 3001 }, 60_000)
    expect(p.secondsLeft(60, 60_000)).toBeCloseTo(60, 10)
    // Halfway through c's generation (b's record in), 30 s are left.
    p.record('b', 0, 62_000)
    expect(p.secondsLeft(90, 90_000)).toBeLessThan(40)
  })

  it("before a generation has ended, gives no time left while stages of it are still to come, where only the stage in training could be timed", () => {
    const p = new RunProgress(['a', 'b'].map((id) => ({ id, generations: 1, done: 0, group: 0, stages: ['finetune', 'rl'] })))
    p.training('a', 0, { what: 'fit', step: 1, steps: 101 }, 0)
    p.training('a', 0, { what: 'fit', step: 51, steps: 101 }, 5_000)
    // The fit alone would end in 5 s; the finetuning and RL after it are not timed yet.
    expect(p.secondsLeft(5, 5_000)).toBeUndefined()
    p.training('a', 0, { what: 'finetune', step: 1, steps: 11 }, 10_000)
    p.training('a', 0, { what: 'finetune', step: 6, steps: 11 }, 15_000)
    expect(p.secondsLeft(15, 15_000)).toBeUndefined()
    // In the last stage, the generation's end is known: 5 steps of 1 s left at 25 s, so a
    // generation takes 30 s, and b's follows on the one slot training.
    p.training('a', 0, { what: 'rl', step: 1, steps: 11 }, 20_000)
    p.training('a', 0, { what: 'rl', step: 6, steps: 11 }, 25_000)
    expect(p.secondsLeft(25, 25_000)).toBeCloseTo(5 + 30, 10)
    // Two stages of one kind: the first cannot be told from the last.
    const twice = new RunProgress([{ id: 'c', generations: 1, done: 0, group: 0, stages: ['rl', 'rl'] }])
    twice.training('c', 0, { what: 'rl', step: 1, steps: 11 }, 0)
    twice.training('c', 0, { what: 'rl', step: 6, steps: 11 }, 5_000)
    expect(twice.secondsLeft(5, 5_000)).toBeUndefined()
  })

  it("gives a generation's sampling and scoring, after its training, the time its group's last one took", () => {
    const p = new RunProgress([{ id: 'a', generations: 3, done: 0, group: 0 }])
    p.training('a', 0, { what: 'fit', step: 1, steps: 10 }, 0)
    p.training('a', 0, { what: 'sampling and scoring', step: 0, steps: 0 }, 10_000)
    // None has been timed yet.
    expect(p.trainingText(12_000)).toBe('sampling and scoring')
    // Generation 0's took 30 s, from the word that its training was over to its record.
    p.record('a', 0, 40_000, 40_000)
    p.training('a', 1, { what: 'fit', step: 1, steps: 10 }, 40_000)
    p.training('a', 1, { what: 'sampling and scoring', step: 0, steps: 0 }, 50_000)
    expect(p.trainingText(60_000)).toBe('sampling and scoring (20.0s left)')
    // Past it, no guess.
    expect(p.trainingText(95_000)).toBe('sampling and scoring')
  })

  it('paces the work left by the work done so far, what the generations in flight have spent included', () => {
    // Four chains of two 100 s generations on two workers, one of which began 50 s late (its
    // data took longer to load): a then b on the first, c then d on the second. At 150 s, a's
    // and c's first generations have ended and a has spent 50 s of its second: 250 s of work in
    // 150 s, 1.67 a second.
    const p = new RunProgress(['a', 'b', 'c', 'd'].map((id) => ({ id, generations: 2, done: 0, group: 0 })))
    p.training('a', 0, { what: 'fit', step: 1, steps: 100 }, 0)
    p.training('c', 0, { what: 'fit', step: 1, steps: 100 }, 50_000)
    p.record('a', 0, 100_000)
    p.training('a', 1, { what: 'fit', step: 1, steps: 100 }, 100_000)
    p.record('c', 0, 100_000)
    p.training('c', 1, { what: 'fit', step: 1, steps: 100 }, 150_000)
    // Left: a 50 s, c 100 s, b and d 200 s each: 550 s of work, 330 s at that pace (the run ends
    // at 450 s: 300 s are left), where the ended generations' 200 s alone would say 412 s.
    expect(p.secondsLeft(150, 150_000)).toBeCloseTo((550 * 150) / 250, 9)
  })

  it('counts a resumed run from where it stood, and leaves failed chains out of the time left', () => {
    const p = new RunProgress([
      { id: 'a', generations: 60, done: 32, group: 0 },
      { id: 'b', generations: 60, done: 60, group: 0 },
    ])
    expect(p.generationsDone()).toBe(92)
    expect(p.chainsFinished()).toBe(1)
    expect(p.secondsLeft(1, 0)).toBeUndefined()
    p.record('a', 32, 100)
    p.record('a', 33, 100)
    expect(p.secondsLeft(0.2, 0)).toBeCloseTo((26 * 100 * 0.2) / 200, 10)
    p.fail('a')
    expect(p.secondsLeft(0.2, 0)).toBe(0)
  })

  it('counts the generations a resumed chain had done past what run.json said (killed before it caught up)', () => {
    // run.json said 20 and 30; the chains go on from their checkpoints at 25 and 40 (all done).
    const stream = sink()
    const p = progressReporter(
      [
        { id: 'a', generations: 40, done: 20, group: 0 },
        { id: 'b', generations: 40, done: 30, group: 0 },
      ],
      { stream, intervalSeconds: 3600 },
    )
    const resumed = (chain: string, at: number): ProgressEvent => ({ chain, generation: at - 1, generationsDone: 0, generationsTotal: 80, resumedAt: at })
    p.onProgress(resumed('a', 25))
    p.onProgress(resumed('b', 40))
    for (let g = 25; g < 40; g++) p.onProgress(record('a', g, 10))
    p.stop()
    expect(stream.lines().at(-1)).toMatch(/ generations 80\/80 \(100 %\), chains 2\/2 finished$/)
    const state = new RunProgress([{ id: 'a', generations: 40, done: 20, group: 0 }])
    state.resumed('a', 25)
    expect(state.generationsDone()).toBe(25)
    state.record('a', 25, 10)
    // A resume event behind what is done changes nothing.
    state.resumed('a', 3)
    expect([state.generationsDone(), state.chainsFinished()]).toEqual([26, 0])
  })
})

describe('progressReporter outside a terminal', () => {
  afterEach(() => vi.useRealTimers())

  it('writes a status line every few seconds, not one per generation, and failures once', () => {
    const chains = [0, 1, 2].map((i) => ({ id: `r${i}`, generations: 100, done: 0, group: 0 }))
    const { stream, progress, at } = offTerminal(chains)
    for (let g = 0; g < 60; g++) for (const c of chains) progress.onProgress(record(c.id, g, 10))
    expect(stream.lines()).toEqual([])
    at(5000)
    expect(stream.lines()).toEqual(['[5.0s] generations 180/300 (60 %), chains 0/3 finished; about 3.3s left'])
    // Nothing new: no new line.
    at(10_000)
    expect(stream.lines()).toHaveLength(1)
    const failure = { chain: 'r1', generation: 60, message: 'boom', hint: 'use fewer booms' }
    progress.onProgress({ chain: 'r1', generation: 60, generationsDone: 0, generationsTotal: 0, failed: failure })
    const metricError = { chain: 'r0', group: 'vendi', generation: 3, message: 'no' }
    progress.onProgress({ chain: 'r0', generation: 3, generationsDone: 0, generationsTotal: 0, metricError })
    progress.onProgress({ chain: 'r2', generation: 3, generationsDone: 0, generationsTotal: 0, metricError: { ...metricError, chain: 'r2' } })
    for (const chain of ['r0', 'r2']) progress.onProgress({ chain, generation: 4, generationsDone: 0, generationsTotal: 0, notice: 'slower from here' })
    for (let g = 60; g < 100; g++) for (const id of ['r0', 'r2']) progress.onProgress(record(id, g, 10))
    at(12_000)
    progress.stop()
    expect(stream.lines().slice(1)).toEqual([
      'chain r1 failed at generation 60: boom',
      '  hint: use fewer booms',
      "warning: metric group 'vendi' failed in chain r0 at generation 3; its values are null (run.json lists every chain it failed in): no",
      'warning: slower from here',
      '[12.0s] generations 260/300 (86 %), chains 2/3 finished, 1 failed',
    ])
  })
})

describe('progressReporter while the record files are written', () => {
  afterEach(() => vi.useRealTimers())

  it('says so past a second, where the last status line read the run half done; files written sooner go unsaid', () => {
    const chains = [0, 1].map((i) => ({ id: `r${i}`, generations: 10, done: 0, group: 0 }))
    const { stream, progress, at } = offTerminal(chains)
    for (let g = 0; g < 5; g++) for (const c of chains) progress.onProgress(record(c.id, g, 10))
    at(5000)
    for (let g = 5; g < 10; g++) for (const c of chains) progress.onProgress(record(c.id, g, 10))
    progress.finishing()
    at(6000)
    at(9000)
    progress.stop()
    expect(stream.lines()).toEqual([
      '[5.0s] generations 10/20 (50 %), chains 0/2 finished; about 5.0s left',
      '[6.0s] writing the record files: the records of 20 generations, sorted',
      '[9.0s] generations 20/20 (100 %), chains 2/2 finished',
    ])

    const quick = offTerminal(chains)
    for (let g = 0; g < 10; g++) for (const c of chains) quick.progress.onProgress(record(c.id, g, 10))
    quick.progress.finishing()
    quick.at(900)
    quick.progress.stop()
    quick.at(5000)
    expect(quick.stream.lines()).toEqual(['[0.9s] generations 20/20 (100 %), chains 2/2 finished'])
  })
})

describe('progressReporter when chains fail', () => {
  afterEach(() => vi.useRealTimers())

  it('says what to do about a failure once, however many chains it stops', () => {
    const chains = [0, 1, 2].map((i) => ({ id: `r${i}`, generations: 10, done: 0, group: 0 }))
    const { stream, progress } = offTerminal(chains)
    const fail = (chain: string, hint?: string): void =>
      progress.onProgress({ chain, generation: 0, generationsDone: 0, generationsTotal: 0, failed: { chain, generation: 0, message: 'singular', ...(hint === undefined ? {} : { hint }) } })
    fail('r0', 'generate more samples')
    fail('r1', 'generate more samples')
    fail('r2')
    expect(stream.lines()).toEqual(['chain r0 failed at generation 0: singular', '  hint: generate more samples', 'chain r1 failed at generation 0: singular', 'chain r2 failed at generation 0: singular'])
  })
})

describe('progressReporter while a generation trains', () => {
  afterEach(() => vi.useRealTimers())
  const step = (chain: string, generation: number, s: number): ProgressEvent => ({ chain, generation, generationsDone: 0, generationsTotal: 0, training: { what: 'rl', step: s, steps: 100 } })

  it('shows the training of the chain longest at it, and how many others are training, until their records come', () => {
    const p = new RunProgress(['a', 'b'].map((id) => ({ id, generations: 2, done: 0, group: 0 })))
    expect(p.trainingText(0)).toBe('')
    p.training('a', 0, { what: 'fit', step: 300, steps: 300 }, 0)
    p.training('b', 0, { what: 'fit', step: 1, steps: 300 }, 0)
    p.training('a', 0, { what: 'rl', step: 40, steps: 100 }, 0)
    expect(p.trainingText(0)).toBe('rl step 40/100 (+1 chain)')
    p.record('a', 0, 10)
    expect(p.trainingText(0)).toBe('fit step 1/300')
    // A step that arrives after its generation's record is over, and not shown again.
    p.training('a', 0, { what: 'rl', step: 100, steps: 100 }, 0)
    expect(p.trainingText(0)).toBe('fit step 1/300')
    p.fail('b')
    expect(p.trainingText(0)).toBe('')
  })

  it('names the chain shown and how long it has said nothing, past two minutes of silence (a plug-in whose fit never ends)', () => {
    const p = new RunProgress(['a', 'b'].map((id) => ({ id, generations: 4, done: 0, group: 0 })))
    p.training('b', 3, { what: 'fit', step: 0, steps: 0 }, 0)
    p.training('a', 3, { what: 'fit', step: 0, steps: 0 }, 1000)
    expect(p.trainingText(119_000)).toBe('fit (+1 chain)')
    expect(p.trainingText(125_000)).toBe('fit (chain b, generation 3: nothing from it for 2m05s; +1 chain)')
  })

  it('forgets the training of a chain whose generation is over before its record comes (a block of chains sends its records together)', () => {
    const p = new RunProgress(['a', 'b'].map((id) => ({ id, generations: 2, done: 0, group: 0 })))
    p.training('a', 0, { what: 'fit', step: 40, steps: 100 }, 0)
    p.training('a', 0, { what: 'sampling and scoring', step: 0, steps: 0 }, 0)
    p.training('b', 0, { what: 'fit', step: 7, steps: 100 }, 0)
    expect(p.trainingText(0)).toBe('sampling and scoring (+1 chain)')
    // An end of an older generation than the one training now changes nothing.
    p.training('b', 1, { what: 'fit', step: 1, steps: 100 }, 0)
    p.training('b', 0, { what: '', step: 0, steps: 0, over: true }, 0)
    p.training('a', 0, { what: '', step: 0, steps: 0, over: true }, 0)
    expect(p.trainingText(0)).toBe('fit step 1/100')
  })

  it("says how long the shown stage needs at the pace of its last steps seen, less the time since the last", () => {
    const p = new RunProgress(['a', 'b'].map((id) => ({ id, generations: 1, done: 0, group: 0 })))
    // The fit's first step came 9 s after the start (loading, building): its pace starts there.
    p.training('a', 0, { what: 'fit', step: 1, steps: 300 }, 9000)
    expect(p.trainingText(9500)).toBe('fit step 1/300')
    p.training('a', 0, { what: 'fit', step: 11, steps: 300 }, 11_000)
    // 10 steps in 2 s: 289 steps left are 57.8 s, 0.5 s of which have passed since step 11.
    expect(p.trainingText(11_500)).toBe('fit step 11/300 (57.3s left)')
    p.training('b', 0, { what: 'fit', step: 1, steps: 300 }, 11_600)
    expect(p.trainingText(11_600)).toBe('fit step 11/300 (57.2s left; +1 chain)')
    // Beside a run's time left that reads the same, the stage's is not said again; beside another, it is.
    expect(p.trainingText(11_600, 57.2)).toBe('fit step 11/300 (+1 chain)')
    expect(p.trainingText(11_600, 90)).toBe('fit step 11/300 (57.2s left; +1 chain)')
    // A new stage is paced afresh: the rl stage's first step alone says nothing yet.
    p.training('a', 0, { what: 'rl', step: 1, steps: 100 }, 70_000)
    expect(p.trainingText(70_000)).toBe('rl step 1/100 (+1 chain)')
    p.training('a', 0, { what: 'rl', step: 5, steps: 100 }, 78_000)
    // 2 s a step: 95 steps are 3m10s; a stage overdue at its pace shows none left, not a negative time.
    expect(p.trainingText(78_000)).toBe('rl step 5/100 (3m10s left; +1 chain)')
    // And after two minutes without a step the chain is named, with how long it has said nothing.
    expect(p.trainingText(500_000)).toBe('rl step 5/100 (0.0s left; chain a, generation 0: nothing from it for 7m02s; +1 chain)')
    // A pace that changes: 10 steps of 1 s, then 3 s a step (an RL policy writing longer
    // sentences). The estimate follows the reports of the last 30 s, steps 10..20: 3 s a step, 80 steps left.
    let at = 600_000
    for (let step = 1; step <= 20; step++) {
      at += step <= 10 ? 1000 : 3000
      p.training('b', 0, { what: 'rl', step, steps: 100 }, at)
    }
    p.fail('a')
    expect(p.trainingText(at)).toBe('rl step 20/100 (4m00s left)')
    // A step of a failed chain that arrives after its failure is not shown.
    p.training('a', 0, { what: 'rl', step: 6, steps: 100 }, at)
    expect(p.trainingText(at)).toBe('rl step 20/100 (4m00s left)')
    // After its last stage, a generation draws and scores its samples: a phase without steps.
    p.training('b', 0, { what: 'sampling and scoring', step: 0, steps: 0 }, 700_000)
    expect(p.trainingText(701_000)).toBe('sampling and scoring')
  })

  it('near the end of a run, counts what the generations in flight have spent, and no less than the last chain needs alone', () => {
    // Six one-generation chains (a GAN config) on two workers.
    const p = new RunProgress(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id, generations: 1, done: 0, group: 0 })))
    const fit = (chain: string, atS: number) => p.training(chain, 0, { what: 'fit', step: 1, steps: 20_000 }, atS * 1000)
    fit('a', 1)
    fit('b', 1)
    p.record('a', 0, 840_000)
    p.record('b', 0, 840_000)
    fit('c', 841)
    fit('d', 841)
    p.record('c', 0, 840_000)
    p.record('d', 0, 840_000)
    fit('e', 1682)
    fit('f', 1682)
    p.record('e', 0, 700_000)
    // At 2,382 s chain f has trained 700 s of the 812 s a generation takes on average: 112 s are
    // left, which it needs alone (the work left over the run's parallel pace would say 66 s, and
    // the whole generation 476 s).
    expect(p.secondsLeft(2382, 2_382_000)).toBeCloseTo(112, 9)
  })

  it('paces a stage of fast steps over its last 30 s, so that a pause of the machine barely moves the estimate', () => {
    const p = new RunProgress([{ id: 'a', generations: 1, done: 0, group: 0 }])
    // A GAN fit of 20,000 steps at 40 ms a step, reported every 200 ms for a minute...
    for (let k = 1; k <= 300; k++) p.training('a', 0, { what: 'fit', step: 5 * k, steps: 20_000 }, 200 * k)
    // ...then the machine stalls for 2 s. Over the last 30 s (from step 800 at 32 s), 705 steps
    // took 30 s: 18,495 steps left are 787 s. Over the last 10 reports (1.8 s of stall in 3.6 s)
    // it would read twice that.
    p.training('a', 0, { what: 'fit', step: 1505, steps: 20_000 }, 62_000)
    expect(p.trainingText(62_000)).toBe('fit step 1505/20000 (13m07s left)')
  })

  it('outside a terminal, writes the steps of a generation that trains long, with none done, at most every 30 s', () => {
    const { stream, progress, at } = offTerminal([{ id: 'r0', generations: 1, done: 0, group: 0, stages: ['rl'] }])
    for (let t = 1; t <= 12; t++) {
      progress.onProgress(step('r0', 0, 5 * t))
      at(5000 * t)
    }
    // 60 s of steps: the first status line (5 s), then one 30 s later.
    // The second line has the stage's pace: 30 steps in 30 s since step 5, 65 steps left, 5 s after step 35.
    // Its one generation will have taken 95 s: the run's time left is the stage's, said once.
    expect(stream.lines()).toEqual(['[5.0s] generations 0/1 (0 %), chains 0/1 finished; rl step 5/100', '[35.0s] generations 0/1 (0 %), chains 0/1 finished; about 1m00s left; rl step 35/100'])
    progress.onProgress(record('r0', 0, 60_000))
    progress.stop()
    expect(stream.lines().at(-1)).toBe('[1m00s] generations 1/1 (100 %), chains 1/1 finished')
  })
})

describe('progressReporter of a model that reports no training steps', () => {
  afterEach(() => vi.useRealTimers())

  it('outside a terminal, writes a status line every minute while nothing changes, so that the log shows the run is alive', () => {
    const { stream, progress, at } = offTerminal([{ id: 'r0', generations: 2, done: 0, group: 0 }])
    for (let t = 1; t <= 26; t++) at(5000 * t)
    expect(stream.lines()).toEqual([
      '[5.0s] generations 0/2 (0 %), chains 0/1 finished',
      '[1m05s] generations 0/2 (0 %), chains 0/1 finished',
      '[2m05s] generations 0/2 (0 %), chains 0/1 finished',
    ])
    progress.stop()
  })
})

describe('progressReporter on a terminal', () => {
  afterEach(() => vi.restoreAllMocks())

  it('redraws the bar at most every 100 ms, not once per record, and with the last count at the end', () => {
    let now = 0
    let text = ''
    const stream = { isTTY: true, columns: 200, write: (s: string) => ((text += s), true), cursorTo: () => true, clearLine: () => true, moveCursor: () => true, on: () => stream, removeListener: () => stream } as unknown as NodeJS.WriteStream
    // The bar's fields look at every chain: how often they are made is how much a record costs.
    const looks = vi.spyOn(RunProgress.prototype, 'chainsFinished')
    const chains = Array.from({ length: 50 }, (_, i) => ({ id: `r${i}`, generations: 100, done: 0, group: 0 }))
    const progress = progressReporter(chains, { stream, now: () => now })
    const atStart = looks.mock.calls.length
    for (let g = 0; g < 100; g++) {
      for (const c of chains) progress.onProgress(record(c.id, g, 10))
      now += 5
    }
    // 5,000 records over 500 ms of the clock: a redraw every 100 ms at most.
    expect(looks.mock.calls.length - atStart).toBeLessThanOrEqual(5)
    expect(looks.mock.calls.length - atStart).toBeGreaterThanOrEqual(4)
    progress.stop()
    expect(text).toContain('5000/5000')
    expect(text).toContain('chains 50/50 done')
  })
})

describe('formatSeconds', () => {
  it('shows tenths below a minute, whole seconds above and hours from the sixtieth minute, never 60 of them', () => {
    expect([0, 9.94, 59.94].map(formatSeconds)).toEqual(['0.0s', '9.9s', '59.9s'])
    // Each of these rounds up into the next minute.
    expect([59.95, 59.99, 119.6, 299.6, 3599.5].map(formatSeconds)).toEqual(['1m00s', '1m00s', '2m00s', '5m00s', '1h00m00s'])
    expect([60, 61.4, 89.5, 299.4, 3599.4].map(formatSeconds)).toEqual(['1m00s', '1m01s', '1m30s', '4m59s', '59m59s'])
    // Hours past the first.
    expect([3661, 11_584, 90_000].map(formatSeconds)).toEqual(['1h01m01s', '3h13m04s', '25h00m00s'])
  })
})
