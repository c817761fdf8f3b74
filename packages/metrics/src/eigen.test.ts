import fc from 'fast-check'
import { EigenvalueDecomposition, Matrix, QrDecomposition } from 'ml-matrix'
import { describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import { symmetricEigenvalues } from './eigen.js'
import { readFixture } from '../fixtures/load.js'

const sorted = (v: ArrayLike<number>): number[] => Array.from(v).sort((a, b) => a - b)

/** Eigenvalues by ml-matrix (JAMA's tred2 / tql2 with eigenvectors), an independent implementation. */
function reference(a: Float64Array, n: number): number[] {
  const rows = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)))
  return sorted(new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true }).realEigenvalues)
}

/** ‖A‖_F, scaled so that entries of 1e-150 or 1e150 neither underflow nor overflow when squared. */
function frobenius(a: Float64Array): number {
  const top = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
  if (top === 0) return 0
  return top * Math.sqrt(a.reduce((s, v) => s + (v / top) ** 2, 0))
}

/**
 * Backward-stable eigenvalue routines move each eigenvalue by at most a small multiple of
 * n · ε · ‖A‖; 64 n ε ‖A‖_F leaves room for both implementations.
 */
/**
 * The backward-error bound of a symmetric eigensolver, plus a floor for matrices in the subnormal
 * range, where arithmetic keeps only absolute precision (a product of two subnormals is 0).
 */
function tolerance(a: Float64Array, n: number): number {
  return 64 * n * Number.EPSILON * frobenius(a) + 1e-300
}

/** Checks ours against the reference, and trace and Frobenius norm against the eigenvalues. */
function expectSpectrum(a: Float64Array, n: number, want: number[] = reference(a, n)): void {
  const got = sorted(symmetricEigenvalues(a.slice(), n))
  expect(got).toHaveLength(n)
  const norm = frobenius(a)
  if (norm === 0) {
    for (const v of got) expect(Math.abs(v)).toBe(0)
    return
  }
  const tol = tolerance(a, n)
  for (let i = 0; i < n; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(tol)
  expectIdentities(a, n, got)
}

/** Σ λ = trace A and Σ λ² = ‖A‖_F² hold for any symmetric matrix, whatever computes the λ. */
function expectIdentities(a: Float64Array, n: number, eigenvalues: number[]): void {
  // In units of ‖A‖_F, so that the squares stay in range.
  const norm = frobenius(a)
  const relative = tolerance(a, n) / norm
  let trace = 0
  for (let i = 0; i < n; i++) trace += a[i * n + i]! / norm
  expect(Math.abs(eigenvalues.reduce((s, v) => s + v / norm, 0) - trace)).toBeLessThanOrEqual(n * relative)
  expect(Math.abs(eigenvalues.reduce((s, v) => s + (v / norm) ** 2, 0) - 1)).toBeLessThanOrEqual(4 * n * relative)
}

/** B Bᵀ for B (n x r) row-major: positive semi-definite of rank at most r. */
function gramOf(b: number[], n: number, r: number): Float64Array {
  const a = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0
      for (let k = 0; k < r; k++) s += b[i * r + k]! * b[j * r + k]!
      a[i * n + j] = s
      a[j * n + i] = s
    }
  }
  return a
}

/** The RBF kernel matrix exp(−‖x_i − x_j‖² / (2h²)) of 2-D points (x, y interleaved). */
function rbfGram(points: number[], h: number): Float64Array {
  const n = points.length / 2
  const a = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dx = points[2 * i]! - points[2 * j]!
      const dy = points[2 * i + 1]! - points[2 * j + 1]!
      a[i * n + j] = Math.exp(-(dx * dx + dy * dy) / (2 * h * h))
    }
  }
  return a
}

/**
 * Entries in [−1, 1] on a grid of 1e-6, zeros and repeats included (scaled by any power below).
 * Subnormal entries are kept out of the comparisons with ml-matrix: its EigenvalueDecomposition
 * throws on some of them and is wrong on others (2.070 for the rank-one b bᵀ with ‖b‖² = 2.003 when
 * b holds entries below 1e-300); the rank-one test below covers them against theory instead.
 */
const unit = fc.integer({ min: -1_000_000, max: 1_000_000 }).map((k) => k / 1_000_000)

describe('symmetricEigenvalues', () => {
  it('matches numpy eigvalsh on a 40 x 40 matrix with a repeated eigenvalue', () => {
    const [c] = readFixture<{ n: number; matrix: number[]; eigenvalues: number[] }>('eigen.json').cases
    const got = sorted(symmetricEigenvalues(Float64Array.from(c!.matrix), c!.n))
    c!.eigenvalues.forEach((want, i) => expect(got[i]).toBeCloseTo(want, 10))
  })

  it('solves the small cases in closed form', () => {
    expect(sorted(symmetricEigenvalues(Float64Array.of(7), 1))).toEqual([7])
    // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
    const two = sorted(symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2))
    expect(two[0]).toBeCloseTo(1, 14)
    expect(two[1]).toBeCloseTo(3, 14)
    expect(sorted(symmetricEigenvalues(Float64Array.of(3, 0, 0, 0, -1, 0, 0, 0, 0), 3))).toEqual([-1, 0, 3])
    // All ones (n x n): n once, 0 otherwise.
    const ones = sorted(symmetricEigenvalues(new Float64Array(25).fill(1), 5))
    expect(ones[4]).toBeCloseTo(5, 13)
    for (let i = 0; i < 4; i++) expect(ones[i]).toBeCloseTo(0, 13)
    expect(sorted(symmetricEigenvalues(new Float64Array(9), 3))).toEqual([0, 0, 0])
  })

  it('agrees with ml-matrix on random symmetric matrices of any scale', () => {
    const matrix = fc.integer({ min: 1, max: 30 }).chain((n) => fc.tuple(fc.constant(n), fc.array(unit, { minLength: n * n, maxLength: n * n })))
    fc.assert(
      fc.property(matrix, fc.constantFrom(1e-150, 1e-6, 1, 1e6, 1e150), ([n, values], scale) => {
        const a = new Float64Array(n * n)
        for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = values[i * n + j]! * scale
        expectSpectrum(a, n)
      }),
      { seed: 2026, numRuns: 150 },
    )
  })

  it('agrees with ml-matrix on rank-deficient PSD matrices B Bᵀ (n − r zero eigenvalues)', () => {
    const factor = fc
      .tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }))
      .chain(([n, r0]) => {
        const r = Math.min(n, r0)
        return fc.tuple(fc.constant(n), fc.constant(r), fc.array(unit, { minLength: n * r, maxLength: n * r }))
      })
    fc.assert(
      fc.property(factor, ([n, r, b]) => {
        const a = gramOf(b, n, r)
        const got = sorted(symmetricEigenvalues(a.slice(), n))
        // rank(B Bᵀ) ≤ r: at least n − r eigenvalues are 0 up to rounding.
        const tol = tolerance(a, n)
        for (let i = 0; i < n - r; i++) expect(Math.abs(got[i]!)).toBeLessThanOrEqual(tol)
        expectSpectrum(a, n)
      }),
      { seed: 2026, numRuns: 150 },
    )
  })

  it('gives ‖b‖² and n − 1 zeros for b bᵀ, whatever the magnitudes in b (subnormal to 1)', () => {
    const vector = fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 })
    fc.assert(
      fc.property(vector, (b) => {
        const n = b.length
        const a = gramOf(b, n, 1)
        const norm2 = b.reduce((s, v) => s + v * v, 0)
        const got = sorted(symmetricEigenvalues(a.slice(), n))
        const tol = tolerance(a, n)
        expect(Math.abs(got[n - 1]! - norm2)).toBeLessThanOrEqual(tol)
        for (let i = 0; i < n - 1; i++) expect(Math.abs(got[i]!)).toBeLessThanOrEqual(tol)
      }),
      { seed: 2026, numRuns: 200 },
    )
  })

  it('finds a prescribed spectrum with repeated and zero eigenvalues (Q diag(λ) Qᵀ)', () => {
    const spectrum = fc.array(fc.constantFrom(0, 0, 1e-12, 0.5, 1, 1, 3), { minLength: 1, maxLength: 40 })
    fc.assert(
      fc.property(spectrum, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (lambda, seed) => {
        const n = lambda.length
        // Q of the QR decomposition of a Gaussian matrix: a random orthogonal matrix.
        const gaussian = Rng.from(seed).fillNormal(new Float64Array(n * n), 0, 1)
        const q = new QrDecomposition(Matrix.from1DArray(n, n, Array.from(gaussian))).orthogonalMatrix
        const a = new Float64Array(n * n)
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0
            for (let k = 0; k < n; k++) s += q.get(i, k) * lambda[k]! * q.get(j, k)
            a[i * n + j] = s
          }
        }
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j]!
        expectSpectrum(a, n, sorted(lambda))
      }),
      { seed: 2026, numRuns: 150 },
    )
  })

  it('agrees with ml-matrix on RBF Gram matrices of duplicated 2-D points (n − m zero eigenvalues)', () => {
    // m distinct points have a positive definite RBF Gram matrix; n copies of them have rank m.
    const points = fc.array(fc.tuple(fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), fc.integer({ min: 1, max: 4 })), {
      minLength: 1,
      maxLength: 25,
    })
    fc.assert(
      fc.property(points, fc.constantFrom(0.3, 1, 3), (distinct, h) => {
        const xy: number[] = []
        for (const [x, y, copies] of distinct) for (let c = 0; c < copies; c++) xy.push(x, y)
        const n = xy.length / 2
        const a = rbfGram(xy, h)
        const unique = new Set(distinct.map(([x, y]) => `${x},${y}`)).size
        const got = sorted(symmetricEigenvalues(a.slice(), n))
        const tol = tolerance(a, n)
        for (let i = 0; i < n - unique; i++) expect(Math.abs(got[i]!)).toBeLessThanOrEqual(tol)
        expectSpectrum(a, n)
      }),
      { seed: 2026, numRuns: 100 },
    )
  })

  it('agrees with ml-matrix on RBF Gram matrices of clustered and Gaussian 2-D points (eigenvalues clustered at rounding level)', () => {
    // Points on a ring of tight clusters or one Gaussian blob, with the bandwidth near the median
    // distance: most eigenvalues of the Gram matrix are below 1e-16 of its norm.
    const cloud = fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true })), {
      minLength: 20,
      maxLength: 120,
    })
    fc.assert(
      fc.property(cloud, fc.constantFrom(0, 0.02, 0.5), (items, spread) => {
        const xy: number[] = []
        for (const [k, u, v] of items) {
          const angle = (2 * Math.PI * k) / 8
          xy.push(spread === 0 ? u : 2 * Math.cos(angle) + spread * u, spread === 0 ? v : 2 * Math.sin(angle) + spread * v)
        }
        expectSpectrum(rbfGram(xy, 2), xy.length / 2)
      }),
      { seed: 2026, numRuns: 40 },
    )
  })

  it('keeps the identities on RBF Gram matrices of 400–500 Gaussian 2-D points, the size where QL once stalled', () => {
    // Too large to decompose with ml-matrix here (0.7 s each); theory still pins the spectrum down:
    // K is positive semi-definite with unit diagonal, so λ ≥ 0, Σ λ = n and Σ λ² = ‖K‖_F².
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 500 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(1, 1.8, 3), (n, seed, h) => {
        const xy = Array.from(Rng.from(seed).fillNormal(new Float64Array(2 * n), 0, 1))
        const a = rbfGram(xy, h)
        const tol = tolerance(a, n)
        const got = symmetricEigenvalues(a.slice(), n)
        for (const v of got) expect(v).toBeGreaterThanOrEqual(-tol)
        expectIdentities(a, n, Array.from(got))
      }),
      { seed: 2026, numRuns: 8 },
    )
  })
})
