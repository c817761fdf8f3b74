import { describe, expect, it } from 'vitest'
import { symmetricEigenvalues } from './eigen.js'
import { readFixture } from '../fixtures/load.js'

const sorted = (v: Float64Array): number[] => Array.from(v).sort((a, b) => a - b)

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
  })
})
