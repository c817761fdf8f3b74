// The transformer language model (packages/model-transformer, wasm backend) against the PyTorch
// implementation of the same spec (scripts/peers/transformer_lm.py), one thread each, the same
// default sizes, batch and context, on the same Brown sentences, measured in the same run:
// - seconds per training step (the first step left out), and per generation: 1,000 steps plus
//   sampling 20,000 sentences and scoring the 5,734 held-out ones, each phase scaled from the
//   timed one (per step, per sampled token, per scored token);
// - sampling time (per 1,000 tokens: both models are barely trained, so they write long sentences)
//   and scoring time (per 1,000 held-out tokens);
// - a profile of our training step: tfjs kernel time by kind (tf.profile), JavaScript self time by
//   function (V8's sampling profiler), the number of kernels a step dispatches and what one costs.
// Ours and PyTorch's alternate for `rounds` rounds, each in its own process, and the best time of
// each phase counts (the machine is shared, so times are noisy and the ratio is what is compared).
// Run alone with `node scripts/bench/transformer.js [steps] [samples] [rounds]`.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { timeProcess } from './run-process.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const PY = '/usr/bin/python3'
const PEER = join(root, 'scripts/peers/transformer_lm.py')
const dist = (pkg) => pathToFileURL(join(root, `packages/${pkg}/dist/index.js`)).href
/** One thread for every library PyTorch may call (OpenMP, OpenBLAS's own threads, MKL). */
const ONE_THREAD = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }
/** A generation of data/configs/brown-transformer.json: steps, sentences sampled, held-out sentences scored. */
const GENERATION = { steps: 1000, samples: 20_000, heldout: 5734 }

export async function benchTransformer({ steps = 30, samples = 500, heldout = 500, rounds = 2 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-bench-transformer-'))
  try {
    const data = join(dir, 'brown.json')
    const facts = await writeData(data, heldout)
    const withPeer = existsSync(PY) && spawnSync(PY, ['-c', 'import torch']).status === 0
    const best = { ours: {}, peer: {} }
    const keep = (side, lines, peakRssMiB) => {
      for (const l of lines) {
        const prev = best[side][l.phase]
        const cost = (x) => x.cpu_seconds_per_step ?? x.cpu_seconds ?? x.seconds
        if (prev === undefined || cost(l) < cost(prev)) best[side][l.phase] = l
      }
      best[side].peakRssMiB = Math.max(best[side].peakRssMiB ?? 0, peakRssMiB ?? 0)
    }
    // The model's default warm-up (50 steps) is longer than the timed steps: both sides warm up
    // over a tenth of them, so that the steps train as a generation's do.
    const args = ['--steps', String(steps), '--warmup', String(Math.floor(steps / 10)), '--samples', String(samples)]
    for (let r = 0; r < rounds; r++) {
      const ours = timeProcess(process.execPath, [fileURLToPath(import.meta.url), '--child', data, ...args], { env: { ...process.env, OUROBOROS_BACKEND: 'wasm' } })
      keep('ours', parseLines(ours.stdout), ours.peakRssMiB)
      if (withPeer) {
        const peer = timeProcess(PY, [PEER, '--data', data, ...args, '--threads', '1', ...(r === rounds - 1 ? ['--profile'] : [])], { env: { ...process.env, ...ONE_THREAD } })
        keep('peer', parseLines(peer.stdout), peer.peakRssMiB)
      }
    }
    const profiled = timeProcess(process.execPath, [fileURLToPath(import.meta.url), '--child', data, '--steps', '6', '--samples', '0', '--profile'], { env: { ...process.env, OUROBOROS_BACKEND: 'wasm' } })
    const profile = parseLines(profiled.stdout).find((l) => l.phase === 'profile')
    return { facts, steps, samples, heldout, rounds, rows: compare(best, facts), profile, peerProfile: best.peer.profile ?? null }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** 20,000 training sentences and `heldout` held-out ones of the Brown corpus, as the chain draws them. */
async function writeData(file, heldout) {
  const { Rng } = await import(dist('core'))
  const { brown } = await import(dist('datasets'))
  const corpus = brown.create(brown.params.parse({}), Rng.from(0))
  const train = corpus.sample(GENERATION.samples, Rng.from(0, 'real'))
  const held = corpus.heldout(heldout, Rng.from(0, 'heldout'))
  const rows = (s) => Array.from({ length: s.n }, (_, i) => Array.from(s.tokens.subarray(s.offsets[i], s.offsets[i + 1])))
  const vocabulary = corpus.info.vocabulary
  writeFileSync(file, JSON.stringify({ train: rows(train), heldout: rows(held), vocab_size: vocabulary.length, unk: vocabulary.indexOf('<unk>') }))
  return { trainSentences: train.n, trainWords: train.tokens.length, heldoutSentences: held.n, heldoutTokens: held.tokens.length + held.n }
}

function parseLines(stdout) {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
}

/**
 * Rows of ours / PyTorch: per step, per 1,000 sampled and scored tokens, and a generation put
 * together from them, in CPU seconds (both sides run one thread; on a shared machine CPU time
 * moves far less with the load than wall time, which is given alongside).
 */
function compare(best, facts) {
  const per = (side) => {
    const b = best[side]
    if (b.train === undefined) return null
    const step = b.train.cpu_seconds_per_step
    const sample = b.sample === undefined || b.sample.tokens === 0 ? null : (b.sample.cpu_seconds / b.sample.tokens) * 1000
    const score = b.score === undefined ? null : (b.score.cpu_seconds / facts.heldoutTokens) * 1000
    // A trained model writes about 22 tokens a sentence (Brown's mean, with the end); held-out sentences have 21.3.
    const generation = sample === null || score === null ? null : GENERATION.steps * step + (GENERATION.samples * 22 * sample) / 1000 + (GENERATION.heldout * 21.3 * score) / 1000
    return {
      step,
      stepWall: b.train.seconds_per_step,
      sample,
      sampleWall: b.sample === undefined || b.sample.tokens === 0 ? null : (b.sample.seconds / b.sample.tokens) * 1000,
      score,
      scoreWall: b.score === undefined ? null : (b.score.seconds / facts.heldoutTokens) * 1000,
      generation,
      loss: b.train.loss,
      perplexity: b.score?.perplexity ?? null,
      peakRssMiB: b.peakRssMiB,
    }
  }
  const ours = per('ours')
  const peer = per('peer')
  const row = (name, key) => ({ name, ours: ours?.[key] ?? null, peer: peer?.[key] ?? null, ratio: ours?.[key] != null && peer?.[key] != null ? ours[key] / peer[key] : null })
  return [
    row('training step (CPU s)', 'step'),
    row('training step (wall s)', 'stepWall'),
    row('sampling, per 1,000 tokens (CPU s)', 'sample'),
    row('sampling, per 1,000 tokens (wall s)', 'sampleWall'),
    row('scoring, per 1,000 held-out tokens (CPU s)', 'score'),
    row('scoring, per 1,000 held-out tokens (wall s)', 'scoreWall'),
    row(`generation: ${GENERATION.steps} steps, ${GENERATION.samples} sentences sampled, ${GENERATION.heldout} scored (CPU s, from the rows above)`, 'generation'),
    row('training loss after the timed steps (nats/token)', 'loss'),
    row('held-out perplexity after the timed steps', 'perplexity'),
    row('peak RSS of the process (MiB)', 'peakRssMiB'),
  ]
}

/** The child process: our model on the data file, printing the JSON lines the peer prints. */
async function child(argv) {
  const file = argv[0]
  const opt = (name, fallback) => {
    const i = argv.indexOf(name)
    return i < 0 ? fallback : Number(argv[i + 1])
  }
  const steps = opt('--steps', 30)
  const warmup = opt('--warmup', Math.floor(steps / 10))
  const samples = opt('--samples', 500)
  const { readFileSync } = await import('node:fs')
  const { Rng } = await import(dist('core'))
  const { loadTf } = await import(dist('tf'))
  const { model } = await import(dist('model-transformer'))
  const d = JSON.parse(readFileSync(file, 'utf8'))
  const tokens = (rows) => {
    const offsets = new Uint32Array(rows.length + 1)
    rows.forEach((r, i) => (offsets[i + 1] = offsets[i] + r.length))
    return { modality: 'tokens', n: rows.length, vocabSize: d.vocab_size, tokens: Int32Array.from(rows.flat()), offsets }
  }
  const vocabulary = Array.from({ length: d.vocab_size }, (_, i) => (i === d.unk ? '<unk>' : `w${i}`))
  const dataset = { kind: 'brown', modality: 'tokens', vocabulary }
  const train = tokens(d.train)
  const { tf } = await loadTf()
  if (argv.includes('--profile')) {
    console.log(JSON.stringify(await profileSteps(tf, model, train, dataset, Rng, steps, warmup)))
    return
  }
  const stamps = []
  const t0 = performance.now()
  const state = await model.fit(train, model.params.parse({ steps, warmup, evalEvery: 1 }), {
    rng: Rng.from(0),
    generation: 0,
    dataset,
    onTrainingStep: async (step) => void stamps.push([performance.now(), cpuSeconds()]),
  })
  const trained = performance.now()
  const perStep = steps > 1 ? (stamps.at(-1)[0] - stamps[0][0]) / (steps - 1) / 1000 : (trained - t0) / 1000
  const cpuPerStep = steps > 1 ? (stamps.at(-1)[1] - stamps[0][1]) / (steps - 1) : null
  console.log(JSON.stringify({ phase: 'train', steps, seconds: (trained - t0) / 1000, seconds_per_step: perStep, cpu_seconds_per_step: cpuPerStep, loss: state.loss }))
  if (samples > 0) {
    const t1 = performance.now()
    const c1 = cpuSeconds()
    const s = await model.sample(state, samples, { rng: Rng.from(1), temperature: 1, dataset })
    const seconds = (performance.now() - t1) / 1000
    const cpu = cpuSeconds() - c1
    // Tokens: the words and an end for each sentence that ended before the context did.
    const ended = Array.from({ length: s.n }, (_, i) => s.offsets[i + 1] - s.offsets[i]).filter((n) => n < state.dims.context).length
    console.log(JSON.stringify({ phase: 'sample', sentences: s.n, tokens: s.tokens.length + ended, seconds, cpu_seconds: cpu, words_per_sentence: s.tokens.length / s.n }))
  }
  const held = tokens(d.heldout)
  const t2 = performance.now()
  const c2 = cpuSeconds()
  const ll = await model.logLikelihood(state, held)
  const seconds = (performance.now() - t2) / 1000
  const total = ll.reduce((a, b) => a + b, 0)
  console.log(JSON.stringify({ phase: 'score', sentences: held.n, seconds, cpu_seconds: cpuSeconds() - c2, perplexity: Math.exp(-total / (held.tokens.length + held.n)) }))
}

function cpuSeconds() {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

/**
 * Where a training step's time goes: the steps after the first two, under tf.profile (time per
 * kernel) and V8's CPU profiler (JavaScript self time per function), the same steps for both.
 */
async function profileSteps(tf, model, train, dataset, Rng, steps, warmup) {
  const { Session } = await import('node:inspector/promises')
  const params = model.params.parse({ steps, warmup, evalEvery: 1 })
  let from = 0
  let to = 0
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 200 })
  let profiled = null
  const info = await tf.profile(async () => {
    await model.fit(train, params, {
      rng: Rng.from(0),
      generation: 0,
      dataset,
      onTrainingStep: async (step) => {
        if (step === 2) {
          from = performance.now()
          await session.post('Profiler.start')
        }
        if (step === steps) {
          to = performance.now()
          profiled = (await session.post('Profiler.stop')).profile
        }
      },
    })
  })
  const timed = steps - 2
  const wallMs = (to - from) / timed
  // Kernels of the profiled steps: tf.profile lists every kernel of the fit, the last `timed` steps' share is their count's share.
  const kernels = info.kernels.filter((k) => !k.name.endsWith('__op'))
  const perStep = kernels.length / steps
  const last = kernels.slice(kernels.length - Math.round(perStep * timed))
  const kinds = {}
  for (const k of last) {
    // The vocabulary (8,194 outcomes) is the only dimension over 2,048 of a product.
    const big = k.inputShapes.some((s) => s?.some((x) => x > 2048))
    const kind =
      /MatMul/.test(k.name) ? (big ? 'products with the vocabulary (logits, their two gradients)' : 'products in the blocks (12 per block per step)') : k.name === 'Softmax' ? 'softmax over the vocabulary' : k.name === 'Transpose' ? 'transpose of the probabilities' : `other kernels`
    kinds[kind] = (kinds[kind] ?? 0) + k.kernelTimeMs / timed
  }
  const kernelMs = Object.values(kinds).reduce((a, b) => a + b, 0)
  // JavaScript self time by function over the same steps; wasm frames are the kernels above.
  const js = {}
  const byId = new Map(profiled.nodes.map((n) => [n.id, n]))
  const total = profiled.timeDeltas.reduce((a, b) => a + b, 0)
  profiled.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame
    const name = f.url.includes('wasm') || f.functionName.startsWith('wasm-function') ? '(tfjs kernels, wasm)' : f.functionName === '(garbage collector)' ? '(garbage collector)' : `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-1)[0]}`
    js[name] = (js[name] ?? 0) + (profiled.timeDeltas[i] ?? 0) / 1000 / timed
  })
  const jsTop = Object.entries(js)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 14)
    .map(([name, ms]) => ({ name, ms }))
  // What dispatching one kernel costs: a tiny add, timed many times.
  const a = tf.scalar(1)
  const t = performance.now()
  for (let i = 0; i < 2000; i++) tf.add(a, a).dispose()
  const dispatchMs = (performance.now() - t) / 2000
  return { phase: 'profile', stepMs: wallMs, kernelMs, kernelsPerStep: perStep, dispatchMs, kinds, javascript: jsTop, profiledMs: total / 1000 / timed }
}

if (process.argv[2] === '--child') {
  await child(process.argv.slice(3))
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [steps, samples, rounds] = process.argv.slice(2).map(Number)
  const res = await benchTransformer({ steps: steps || 30, samples: samples || 500, rounds: rounds || 2 })
  printTransformer(res)
}

export function printTransformer(res) {
  const fmt = (x, d = 3) => (x === null || x === undefined ? 'n/a' : Number(x).toFixed(d))
  console.log(`transformer (${res.steps} timed steps, ${res.samples} sampled sentences, ${res.heldout} held-out sentences; best of ${res.rounds} rounds)`)
  console.log('| | ours (wasm) | PyTorch | ours / PyTorch |')
  console.log('|---|---:|---:|---:|')
  for (const r of res.rows) console.log(`| ${r.name} | ${fmt(r.ours)} | ${fmt(r.peer)} | ${fmt(r.ratio, 2)} |`)
  const p = res.profile
  if (p) {
    console.log(`\nour training step: ${fmt(p.stepMs, 0)} ms, of which tfjs kernels ${fmt(p.kernelMs, 0)} ms (${fmt(p.kernelsPerStep, 0)} kernels, ${fmt(p.dispatchMs * 1000, 0)} µs to dispatch a trivial one)`)
    for (const [k, ms] of Object.entries(p.kinds).sort((a, b) => b[1] - a[1])) console.log(`  ${fmt(ms, 0).padStart(6)} ms  ${k}`)
    console.log('  self time by function (V8 profiler):')
    for (const { name, ms } of p.javascript) console.log(`  ${fmt(ms, 0).padStart(6)} ms  ${name}`)
  }
  if (res.peerProfile) {
    console.log(`\nPyTorch's training step (torch.autograd.profiler, self CPU time): ${fmt(res.peerProfile.step_ms, 0)} ms`)
    for (const op of res.peerProfile.ops.slice(0, 10)) console.log(`  ${fmt(op.self_ms, 0).padStart(6)} ms  ${op.name} (${op.calls} calls)`)
  }
}
