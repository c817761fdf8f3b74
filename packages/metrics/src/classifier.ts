import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { z } from 'zod'
import { asVectors, choleskyInPlace, defineMetric, inputError, meanAndCovariance, Rng, type DatasetInfo, type Samples, type VectorSamples } from '@ouroboros/core'
import { Adam, Mlp, loadTf, type NamedWeights, type Tensor2D, type Tf } from '@ouroboros/tf'
import { cacheDir, readCache, writeCache } from './cache.js'
import { symmetricEigenvalues } from './eigen.js'
import { entropyOfCounts, smoothedKl } from './vectors.js'
import { DOUBLES, ENTROPY_HALVES, HALVES, KL_RISES } from './outputs.js'

/**
 * Classifier-based metrics for labelled image data (METRICS.md "Classifier-based (MNIST)"): a small
 * MLP trained once on the dataset's labelled items and cached on disk by a hash of those items, its
 * settings and the tfjs backend. Generated samples are scored by the classifier's predicted classes
 * and by its penultimate-layer features, as FID does with Inception.
 */
export const classifierOptions = z.strictObject({
  /** Hidden layer widths; the last one is the feature layer of frechet_feature_distance. */
  hidden: z.array(z.int().min(1).max(65_536)).min(1).max(8).default([256, 128]),
  epochs: z.int().min(1).max(1000).default(25),
  batch: z.int().min(1).max(100_000).default(128),
  lr: z.number().positive().default(2e-3),
  /** Training images are shifted by up to this many pixels in x and y (zero fill), a random shift per image per epoch. */
  shift: z.int().min(0).max(8).default(2),
  /** Labelled items kept out of the classifier's training to measure its accuracy. */
  testItems: z.int().min(1).default(1000),
  /** Seed of the classifier's split, initialisation and batches: fixed, so the cache is shared by all runs. */
  seed: z.int().min(0).default(0),
  /** Below this held-out accuracy the metric refuses to score, rather than report numbers of a broken classifier. */
  minAccuracy: z.number().min(0).max(1).default(0.95),
  /** classes_covered counts the classes with at least this share of the generated samples. */
  coveredShare: z.number().min(0).max(1).default(0.01),
})
export type ClassifierOptions = z.output<typeof classifierOptions>

/** What run.json can record about the classifier in use. */
export interface ClassifierFacts {
  /** Accuracy on the labelled items it did not train on. */
  readonly accuracy: number
  readonly testItems: number
  readonly backend: string
  /** Hex digest naming the cached weights: labelled data, options and backend. */
  readonly hash: string
  readonly cacheFile: string
  /** Whether this call trained it (false: read from the cache). */
  readonly trained: boolean
  /** Why it could not be written to the cache, when it could not. */
  readonly notCached?: string
}

interface Cached {
  readonly version: number
  readonly accuracy: number
  readonly weights: readonly NamedWeights[]
}

/** Bump when the training code changes in a way that changes the weights: old cache files are then ignored. */
const CACHE_VERSION = 1

type Labelled = NonNullable<DatasetInfo['labelled']>

export interface TrainedClassifier {
  readonly net: Mlp
  readonly params: Float32Array
  readonly facts: ClassifierFacts
}

const trained = new Map<string, Promise<TrainedClassifier>>()

/**
 * The classifier for these labelled items: read from the cache, or trained (a few seconds) and
 * written there. `ouroboros run` sets it up once before its workers start (setupRun), printing
 * and recording its held-out accuracy.
 */
export function classifierFor(labelled: Labelled, options: ClassifierOptions, say?: (line: string) => void): Promise<TrainedClassifier> {
  const key = JSON.stringify(options)
  let hit = trained.get(key)
  if (hit === undefined) {
    hit = loadOrTrain(labelled, options, say)
    trained.set(key, hit)
  }
  return hit
}

/** `say`: told before a classifier not in the cache trains (tens of seconds on two cores). */
async function loadOrTrain(labelled: Labelled, options: ClassifierOptions, say?: (line: string) => void): Promise<TrainedClassifier> {
  const { tf, backend } = await loadTf()
  const net = new Mlp([labelled.d, ...options.hidden, labelled.classes], 'relu', 'linear')
  const { epochs, batch, lr, shift, testItems, seed, hidden } = options
  const hash = createHash('sha256')
    .update(JSON.stringify({ version: CACHE_VERSION, backend, classes: labelled.classes, d: labelled.d, hidden, epochs, batch, lr, shift, testItems, seed }))
    .update(new Uint8Array(labelled.x.buffer, labelled.x.byteOffset, labelled.x.byteLength))
    .update(labelled.labels)
    .digest('hex')
  const cacheFile = join(cacheDir(), `mnist-classifier-${hash.slice(0, 32)}.v8`)
  const params = new Float32Array(net.size)
  const cached = readCache<Cached>(cacheFile, CACHE_VERSION)
  if (cached !== undefined) {
    net.importWeights(params, cached.weights, 'classifier')
    return { net, params, facts: { accuracy: cached.accuracy, testItems, backend, hash, cacheFile, trained: false } }
  }
  say?.(`training the classifier (${epochs} epochs on ${labelled.labels.length - testItems} digits; not in the cache yet, so this once)…`)
  const accuracy = train(tf, net, params, labelled, options)
  const notCached = writeCache(cacheFile, { version: CACHE_VERSION, accuracy, weights: net.exportWeights(params, 'classifier') } satisfies Cached)
  return { net, params, facts: { accuracy, testItems, backend, hash, cacheFile, trained: true, ...(notCached === undefined ? {} : { notCached }) } }
}

/** Softmax cross-entropy with Adam; returns the accuracy on the testItems held out. */
function train(tf: Tf, net: Mlp, params: Float32Array, labelled: Labelled, options: ClassifierOptions): number {
  const { d, classes, x, labels } = labelled
  const n = labels.length
  if (options.testItems >= n) throw inputError(`classifier: testItems (${options.testItems}) must be below the ${n} labelled items`)
  const rng = Rng.from(options.seed, 'mnist-classifier')
  net.init(params, rng.derive('init'))
  const order = rng.derive('split').permutation(n)
  const test = order.subarray(0, options.testItems)
  const trainRows = order.subarray(options.testItems)
  const optimizer = new Adam(net.size, { lr: options.lr, beta1: 0.9, beta2: 0.999 })
  const X = tf.tensor2d(x, [n, d])
  const oneHot = new Float32Array(n * classes)
  for (let i = 0; i < n; i++) oneHot[i * classes + labels[i]!] = 1
  const Y = tf.tensor2d(oneHot, [n, classes])
  const batchRng = rng.derive('batches')
  const side = Math.round(Math.sqrt(d))
  if (options.shift > 0 && side * side !== d) throw inputError(`classifier: shift needs square images, but the items have ${d} values`)
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const perm = batchRng.permutation(trainRows.length)
      for (let start = 0; start < perm.length; start += options.batch) {
        const idx = Int32Array.from(perm.subarray(start, Math.min(perm.length, start + options.batch)), (i) => trainRows[i]!)
        const B = idx.length
        const images = new Float32Array(B * d)
        for (let i = 0; i < B; i++) {
          const image = x.subarray(idx[i]! * d, (idx[i]! + 1) * d)
          if (options.shift === 0) images.set(image, i * d)
          else translate(image, images.subarray(i * d, (i + 1) * d), side, batchRng.int(2 * options.shift + 1) - options.shift, batchRng.int(2 * options.shift + 1) - options.shift)
        }
        const grads = tf.tidy(() => {
          const xb = tf.tensor2d(images, [B, d])
          const yb = tf.gather(Y, tf.tensor1d(idx, 'int32')) as Tensor2D
          const bound = net.bind(tf, params)
          const trace = bound.forward(xb)
          const dLogits = tf.div(tf.sub(tf.softmax(trace.outputs[trace.outputs.length - 1]!), yb), B) as Tensor2D
          return bound.backward(trace, dLogits, { grads: true, dx: false }).grads!
        })
        optimizer.step(params, grads.dataSync(), 'MNIST classifier')
        grads.dispose()
      }
    }
    const predicted = predict(tf, net, params, X, Int32Array.from(test))
    let correct = 0
    for (let i = 0; i < test.length; i++) if (predicted[i] === labels[test[i]!]) correct++
    return correct / test.length
  } finally {
    X.dispose()
    Y.dispose()
  }
}

/** out = image moved by (dx, dy) pixels, zeros where it moved away from. */
function translate(image: Float32Array, out: Float32Array, side: number, dx: number, dy: number): void {
  for (let r = 0; r < side; r++) {
    const from = r - dy
    if (from < 0 || from >= side) continue
    for (let c = 0; c < side; c++) {
      const fc = c - dx
      if (fc >= 0 && fc < side) out[r * side + c] = image[from * side + fc]!
    }
  }
}

function predict(tf: Tf, net: Mlp, params: Float32Array, X: Tensor2D, rows: Int32Array): Int32Array {
  const out = tf.tidy(() => tf.argMax(net.bind(tf, params).apply(tf.gather(X, tf.tensor1d(rows, 'int32')) as Tensor2D), 1))
  const classes = out.dataSync() as Int32Array
  out.dispose()
  return classes
}

/** Rows classified per batch. */
const CHUNK = 2048

/** Predicted class and penultimate-layer features of each row of s. */
function embed(tf: Tf, net: Mlp, params: Float32Array, s: VectorSamples): { classes: Int32Array; features: Float64Array; width: number } {
  const width = net.layers[net.layers.length - 1]!.in
  const classes = new Int32Array(s.n)
  const features = new Float64Array(s.n * width)
  for (let start = 0; start < s.n; start += CHUNK) {
    const B = Math.min(s.n, start + CHUNK) - start
    const [c, f] = tf.tidy(() => {
      const trace = net.bind(tf, params).forward(tf.tensor2d(Float32Array.from(s.data.subarray(start * s.d, (start + B) * s.d)), [B, s.d]))
      return [tf.argMax(trace.outputs[trace.outputs.length - 1]!, 1), trace.inputs[trace.inputs.length - 1]!]
    })
    classes.set(c!.dataSync(), start)
    features.set(f!.dataSync(), start * width)
    c!.dispose()
    f!.dispose()
  }
  return { classes, features, width }
}

interface Gaussian {
  readonly mean: Float64Array
  readonly cov: Float64Array
}

/** Mean and covariance (ddof 1, as FID uses) of n rows of width w. */
function gaussianFit(features: Float64Array, n: number, w: number): Gaussian {
  return meanAndCovariance(features, n, w, Math.max(1, n - 1))
}

/**
 * ‖μ_a − μ_b‖² + tr Σ_a + tr Σ_b − 2 tr (Σ_a Σ_b)^½. With Σ_a = L Lᵀ (Cholesky), Σ_a Σ_b =
 * L (Lᵀ Σ_b L) L⁻¹ has the eigenvalues of the symmetric PSD matrix Lᵀ Σ_b L, so the trace of the root
 * is Σ √λ over those. A covariance with dead (constant) features is singular: then a ridge of
 * 1e-12, 1e-9, … times the mean variance is added until the factorisation succeeds, which changes
 * the result by about √ridge per dead feature.
 */
export function frechetDistance(a: Gaussian, b: Gaussian, w: number): number {
  let d = 0
  for (let j = 0; j < w; j++) d += (a.mean[j]! - b.mean[j]!) ** 2
  let traceA = 0
  let traceB = 0
  for (let j = 0; j < w; j++) {
    traceA += a.cov[j * w + j]!
    traceB += b.cov[j * w + j]!
  }
  const l = choleskyWithRidge(a.cov, w, traceA / w)
  // M = Lᵀ Σ_b L
  const bl = new Float64Array(w * w)
  for (let i = 0; i < w; i++) {
    for (let k = 0; k < w; k++) {
      const bik = b.cov[i * w + k]!
      if (bik === 0) continue
      for (let j = 0; j <= k; j++) bl[i * w + j]! += bik * l[k * w + j]!
    }
  }
  const m = new Float64Array(w * w)
  for (let k = 0; k < w; k++) {
    for (let i = 0; i <= k; i++) {
      const lki = l[k * w + i]!
      if (lki === 0) continue
      for (let j = 0; j < w; j++) m[i * w + j]! += lki * bl[k * w + j]!
    }
  }
  let rootTrace = 0
  for (const lambda of symmetricEigenvalues(m, w)) rootTrace += Math.sqrt(Math.max(0, lambda))
  return Math.max(0, d + traceA + traceB - 2 * rootTrace)
}

function choleskyWithRidge(cov: Float64Array, w: number, meanVariance: number): Float64Array {
  for (const ridge of [0, 1e-12, 1e-9, 1e-6, 1e-3]) {
    const l = cov.slice()
    for (let j = 0; j < w; j++) l[j * w + j]! += ridge * Math.max(meanVariance, Number.MIN_VALUE)
    if (choleskyInPlace(l, w)) return l
  }
  // All-zero covariance (every feature constant): L = 0 gives tr (Σ_a Σ_b)^½ = 0, which is exact.
  return new Float64Array(w * w)
}

interface Prepared {
  readonly classifier: TrainedClassifier
  readonly realCounts: Float64Array
  readonly real: Gaussian
}

export const classifier = defineMetric<ClassifierOptions, Prepared>({
  id: 'classifier',
  modality: 'vectors',
  description: 'MNIST classifier metrics: entropy, coverage and KL of predicted classes; Fréchet distance of penultimate-layer features',
  outputs: ['class_entropy', 'classes_covered', 'class_kl', 'frechet_feature_distance'],
  outputInfo: {
    class_entropy: { title: 'class entropy', unit: 'nats', threshold: ENTROPY_HALVES, diversity: 4 },
    classes_covered: { title: 'classes covered', unit: 'classes', threshold: HALVES, diversity: 3 },
    class_kl: { title: 'class KL', unit: 'nats', threshold: KL_RISES, diversity: 5 },
    frechet_feature_distance: { title: 'Fréchet feature distance', unit: 'feature units²', threshold: DOUBLES },
  },
  needs: ['dataset.labelled'],
  nullWhen: Object.fromEntries(['class_entropy', 'classes_covered', 'class_kl', 'frechet_feature_distance'].map((name) => [name, 'fewer than 2 generated samples'])),
  options: classifierOptions,
  // Trained (or read from the cache) once before the workers start, which then read the cache.
  async setupRun({ dataset, options, say }) {
    const facts = await classifierFacts(dataset, options, say)
    const source = !facts.trained ? `read from the cache: ${facts.cacheFile}` : facts.notCached === undefined ? `trained now: ${facts.cacheFile}` : `trained now, not cached, so each worker trains it again: ${facts.notCached}`
    return {
      line: `held-out accuracy ${(100 * facts.accuracy).toFixed(2)} % on ${facts.testItems} digits (${source})`,
      record: { classifier: { heldoutAccuracy: facts.accuracy, testItems: facts.testItems, backend: facts.backend, hash: facts.hash, cacheFile: facts.cacheFile } },
    }
  },
  async prepare({ real, dataset, options }) {
    const labelled = needLabelled(dataset)
    const trainedClassifier = await accurateClassifier(labelled, options)
    const { tf } = await loadTf()
    const r = asVectors(real, 'classifier: real samples')
    checkWidth(r, labelled)
    const { classes, features, width } = embed(tf, trainedClassifier.net, trainedClassifier.params, r)
    return { classifier: trainedClassifier, realCounts: histogram(classes, labelled.classes), real: gaussianFit(features, r.n, width) }
  },
  async compute({ generated, dataset, options, prepared }) {
    const labelled = needLabelled(dataset)
    const g = asVectors(generated, 'classifier: generated samples')
    checkWidth(g, labelled)
    if (g.n < 2) return { class_entropy: null, classes_covered: null, class_kl: null, frechet_feature_distance: null }
    const { tf } = await loadTf()
    const { net, params } = prepared.classifier
    const { classes, features, width } = embed(tf, net, params, g)
    const counts = histogram(classes, labelled.classes)
    let covered = 0
    for (const c of counts) if (c >= options.coveredShare * g.n && c > 0) covered++
    return {
      class_entropy: entropyOfCounts(counts, g.n),
      classes_covered: covered,
      class_kl: smoothedKl(counts, prepared.realCounts),
      frechet_feature_distance: frechetDistance(prepared.real, gaussianFit(features, g.n, width), width),
    }
  },
})

/** The classifier for these items, refused when its held-out accuracy is below minAccuracy. */
async function accurateClassifier(labelled: Labelled, options: ClassifierOptions): Promise<TrainedClassifier> {
  const trainedClassifier = await classifierFor(labelled, options)
  const { accuracy, testItems } = trainedClassifier.facts
  if (accuracy < options.minAccuracy) {
    throw inputError(
      `classifier: the MNIST classifier reaches ${(100 * accuracy).toFixed(2)} % on ${testItems} held-out digits, below minAccuracy ${100 * options.minAccuracy} %`,
      'train it longer (metricOptions.classifier.epochs) or lower minAccuracy',
    )
  }
  return trainedClassifier
}

/** The classifier's predicted class of every row (default options: the classifier group's). */
export async function predictClasses(dataset: DatasetInfo, s: VectorSamples, options: unknown = {}): Promise<Int32Array> {
  const labelled = needLabelled(dataset)
  checkWidth(s, labelled)
  const { net, params } = await accurateClassifier(labelled, classifierOptions.parse(options))
  const { tf } = await loadTf()
  return embed(tf, net, params, s).classes
}

/**
 * Per image, the MNIST classifier's log-probability (log-softmax of its outputs) of `digit`: a
 * reward for post-training towards a digit. Trains or loads the classifier first (default
 * options: the classifier group's).
 */
export async function digitLogProbability(dataset: DatasetInfo, digit: number, options: unknown = {}): Promise<(s: Samples) => Promise<Float64Array>> {
  const labelled = needLabelled(dataset)
  if (!Number.isInteger(digit) || digit < 0 || digit >= labelled.classes) throw inputError(`digit ${digit}: the classifier knows the digits 0 to ${labelled.classes - 1}`)
  const { net, params } = await accurateClassifier(labelled, classifierOptions.parse(options))
  const { tf } = await loadTf()
  return async (s) => {
    const x = asVectors(s, 'digit log-probability: samples')
    checkWidth(x, labelled)
    const out = new Float64Array(x.n)
    for (let start = 0; start < x.n; start += CHUNK) {
      const B = Math.min(x.n, start + CHUNK) - start
      const column = tf.tidy(() => {
        const logits = net.bind(tf, params).apply(tf.tensor2d(Float32Array.from(x.data.subarray(start * x.d, (start + B) * x.d)), [B, x.d]))
        return tf.slice(tf.logSoftmax(logits), [0, digit], [B, 1])
      })
      out.set(column.dataSync(), start)
      column.dispose()
    }
    return out
  }
}

/** What run.json can record: the classifier's held-out accuracy and cache entry (training it if needed). */
/** `say`: told, before a classifier not in the cache trains, that it does. */
export async function classifierFacts(dataset: DatasetInfo, options: unknown = {}, say?: (line: string) => void): Promise<ClassifierFacts> {
  return (await classifierFor(needLabelled(dataset), classifierOptions.parse(options), say)).facts
}

function needLabelled(dataset: DatasetInfo): Labelled {
  if (dataset.labelled === undefined) throw inputError(`classifier: dataset '${dataset.kind}' has no labels; the classifier metrics need labelled data such as data.kind 'mnist'`)
  return dataset.labelled
}

function checkWidth(s: VectorSamples, labelled: Labelled): void {
  if (s.d !== labelled.d) throw inputError(`classifier: samples have dimension ${s.d}, the classifier reads ${labelled.d}`)
}

function histogram(classes: Int32Array, k: number): Float64Array {
  const counts = new Float64Array(k)
  for (const c of classes) counts[c]!++
  return counts
}
