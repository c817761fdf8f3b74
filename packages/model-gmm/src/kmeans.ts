import { searchCumulative, type Rng } from '@ouroboros/core'

/**
 * k-means as scikit-learn's GaussianMixture uses it to initialise (KMeans with n_init=1):
 * greedy k-means++ seeding, then Lloyd iterations. Written on typed arrays because the GMM fit
 * time budget includes this initialisation.
 *
 * With point weights (scikit-learn's sample_weight) a point counts as that many copies of itself:
 * seeds are drawn with probability ∝ weight · squared distance, centres are weighted means, and a
 * point of weight 0 plays no part.
 */

/**
 * Greedy k-means++ (Arthur & Vassilvitskii; scikit-learn's `_kmeans_plusplus`): each new centre is
 * the best of 2 + ln K candidates drawn with probability proportional to the squared distance to
 * the nearest centre chosen so far, "best" meaning the lowest total squared distance afterwards.
 */
export function kmeansPlusPlus(x: Float64Array, n: number, d: number, k: number, rng: Rng, weights?: Float64Array): Float64Array {
  const centers = new Float64Array(k * d)
  const trials = 2 + Math.floor(Math.log(k))
  let closest = new Float64Array(n)
  let candidate = new Float64Array(n)
  let best = new Float64Array(n)
  const cumulative = new Float64Array(n)

  const first = weights === undefined ? rng.int(n) : rng.categorical(weights)
  centers.set(x.subarray(first * d, first * d + d), 0)
  for (let i = 0; i < n; i++) closest[i] = squaredDistance(x, i * d, centers, 0, d)

  for (let c = 1; c < k; c++) {
    let acc = 0
    for (let i = 0; i < n; i++) {
      acc += weights === undefined ? closest[i]! : weights[i]! * closest[i]!
      cumulative[i] = acc
    }
    let bestPotential = Infinity
    let bestIndex = 0
    for (let t = 0; t < trials; t++) {
      // Every point already on a centre has zero weight; when all are, any point will do.
      const id = acc > 0 ? searchCumulative(cumulative, rng.uniform() * acc) : weights === undefined ? rng.int(n) : rng.categorical(weights)
      let pot = 0
      for (let i = 0; i < n; i++) {
        const dist = squaredDistance(x, i * d, x, id * d, d)
        const m = dist < closest[i]! ? dist : closest[i]!
        candidate[i] = m
        pot += weights === undefined ? m : weights[i]! * m
      }
      if (pot < bestPotential) {
        bestPotential = pot
        bestIndex = id
        const swap = best
        best = candidate
        candidate = swap
      }
    }
    centers.set(x.subarray(bestIndex * d, bestIndex * d + d), c * d)
    const swap = closest
    closest = best
    best = swap
  }
  return centers
}

/**
 * Lloyd iterations in place until the labels stop changing or the total squared centre shift is
 * at most `tol` times the mean per-feature variance (scikit-learn's KMeans defaults: 300, 1e-4).
 * An empty cluster moves to the point farthest from its own centre. Returns the labels of the
 * final centres.
 */
export function lloyd(x: Float64Array, n: number, d: number, centers: Float64Array, k: number, weights?: Float64Array, maxIter = 300, tol = 1e-4): Int32Array {
  const threshold = tol * meanFeatureVariance(x, n, d, weights)
  const labels = new Int32Array(n).fill(-1)
  const dist = new Float64Array(n)
  const sums = new Float64Array(k * d)
  const counts = new Float64Array(k)
  for (let iter = 0; iter < maxIter; iter++) {
    let changed = false
    sums.fill(0)
    counts.fill(0)
    for (let i = 0; i < n; i++) {
      const w = weights === undefined ? 1 : weights[i]!
      if (w === 0) {
        // Never the farthest point an empty cluster moves to.
        dist[i] = -1
        continue
      }
      const off = i * d
      let bestK = 0
      let bestD = Infinity
      for (let c = 0; c < k; c++) {
        const dd = squaredDistance(x, off, centers, c * d, d)
        if (dd < bestD) {
          bestD = dd
          bestK = c
        }
      }
      if (labels[i] !== bestK) changed = true
      labels[i] = bestK
      dist[i] = bestD
      counts[bestK]! += w
      for (let a = 0; a < d; a++) sums[bestK * d + a]! += w * x[off + a]!
    }
    // Unchanged labels mean the centres are already their means.
    if (!changed) return labels
    let shift = 0
    for (let c = 0; c < k; c++) {
      const count = counts[c]!
      const far = count > 0 ? -1 : argmax(dist)
      if (far >= 0) dist[far] = -1
      for (let a = 0; a < d; a++) {
        const v = far < 0 ? sums[c * d + a]! / count : x[far * d + a]!
        const delta = v - centers[c * d + a]!
        shift += delta * delta
        centers[c * d + a] = v
      }
    }
    if (shift <= threshold) break
  }
  return nearestCenters(x, n, d, centers, k)
}

/** Index of the nearest centre of every point. */
export function nearestCenters(x: Float64Array, n: number, d: number, centers: Float64Array, k: number): Int32Array {
  const labels = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    let bestK = 0
    let bestD = Infinity
    for (let c = 0; c < k; c++) {
      const dd = squaredDistance(x, i * d, centers, c * d, d)
      if (dd < bestD) {
        bestD = dd
        bestK = c
      }
    }
    labels[i] = bestK
  }
  return labels
}

function squaredDistance(a: Float64Array, ao: number, b: Float64Array, bo: number, d: number): number {
  let s = 0
  for (let j = 0; j < d; j++) {
    const t = a[ao + j]! - b[bo + j]!
    s += t * t
  }
  return s
}


function argmax(v: Float64Array): number {
  let best = 0
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i
  return best
}

function meanFeatureVariance(x: Float64Array, n: number, d: number, weights: Float64Array | undefined): number {
  let mass = n
  if (weights !== undefined) {
    mass = 0
    for (let i = 0; i < n; i++) mass += weights[i]!
  }
  let total = 0
  for (let a = 0; a < d; a++) {
    let mean = 0
    for (let i = 0; i < n; i++) mean += weights === undefined ? x[i * d + a]! : weights[i]! * x[i * d + a]!
    mean /= mass
    for (let i = 0; i < n; i++) total += (weights === undefined ? 1 : weights[i]!) * (x[i * d + a]! - mean) ** 2
  }
  return total / (mass * d)
}
