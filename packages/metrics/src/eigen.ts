import { OuroborosError, ErrorCode } from '@ouroboros/core'

/**
 * Eigenvalues of a symmetric n x n matrix (row-major; only the lower triangle is read, and the
 * array is overwritten): Householder reduction to tridiagonal form, then implicit QL with Wilkinson
 * shifts (Numerical Recipes' tred2 / tqli without eigenvectors).
 *
 * Written here instead of taking ml-matrix's EigenvalueDecomposition because Vendi needs only the
 * eigenvalues of a 2000 x 2000 kernel matrix: ml-matrix always builds the eigenvectors too and
 * took about 5 s at n = 1000 (about 40 s at 2000) where this takes 0.4 s (2.3 s); see the README's
 * performance section.
 */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new RangeError(`symmetricEigenvalues: ${a.length} values for a ${n} x ${n} matrix`)
  const diag = new Float64Array(n)
  const off = new Float64Array(n)
  tridiagonalize(a, n, diag, off)
  tridiagonalQl(diag, off)
  return diag
}

/** diag, off: the diagonal and subdiagonal (off[i] couples i − 1 and i) of Qᵀ A Q. */
function tridiagonalize(a: Float64Array, n: number, diag: Float64Array, off: Float64Array): void {
  const u = new Float64Array(n)
  const p = new Float64Array(n)
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1
    const ri = i * n
    let scale = 0
    for (let k = 0; k <= l; k++) scale += Math.abs(a[ri + k]!)
    if (l === 0 || scale === 0) {
      off[i] = a[ri + l]!
      continue
    }
    // Householder vector u (scaled against overflow) that zeroes a[i][0 .. l-1].
    let h = 0
    for (let k = 0; k <= l; k++) {
      const v = a[ri + k]! / scale
      u[k] = v
      h += v * v
    }
    const f = u[l]!
    const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h)
    off[i] = scale * g
    h -= f * g
    u[l] = f - g
    // p = A u / h over the leading (l+1) block, reading each row of the lower triangle once.
    // Rows go in pairs so that every load of p[k] and u[k] serves two rows (1.6 times faster at
    // n = 2000 than one row at a time).
    p.fill(0, 0, l + 1)
    let j = 0
    for (; j + 1 <= l; j += 2) {
      const r0 = j * n
      const r1 = r0 + n
      const u0 = u[j]!
      const u1 = u[j + 1]!
      let s0 = 0
      let s1 = 0
      for (let k = 0; k < j; k++) {
        const v0 = a[r0 + k]!
        const v1 = a[r1 + k]!
        const uk = u[k]!
        s0 += v0 * uk
        s1 += v1 * uk
        p[k]! += v0 * u0 + v1 * u1
      }
      // The 2 x 2 block on the diagonal: a[j][j], a[j+1][j] (= a[j][j+1]) and a[j+1][j+1].
      const corner = a[r1 + j]!
      p[j]! += s0 + a[r0 + j]! * u0 + corner * u1
      p[j + 1]! += s1 + corner * u0 + a[r1 + j + 1]! * u1
    }
    if (j === l) {
      const rj = j * n
      const uj = u[j]!
      let s0 = a[rj + j]! * uj
      for (let k = 0; k < j; k++) {
        const v = a[rj + k]!
        s0 += v * u[k]!
        p[k]! += v * uj
      }
      p[j]! += s0
    }
    let uP = 0
    for (let k = 0; k <= l; k++) {
      p[k]! /= h
      uP += p[k]! * u[k]!
    }
    const half = uP / (h + h)
    for (let k = 0; k <= l; k++) p[k]! -= half * u[k]!
    // A ← A − u pᵀ − p uᵀ on the lower triangle, rows in pairs again.
    for (j = 0; j + 1 <= l; j += 2) {
      const r0 = j * n
      const r1 = r0 + n
      const u0 = u[j]!
      const p0 = p[j]!
      const u1 = u[j + 1]!
      const p1 = p[j + 1]!
      for (let k = 0; k <= j; k++) {
        const pk = p[k]!
        const uk = u[k]!
        a[r0 + k]! -= u0 * pk + p0 * uk
        a[r1 + k]! -= u1 * pk + p1 * uk
      }
      a[r1 + j + 1]! -= u1 * p1 + p1 * u1
    }
    if (j === l) {
      const rj = j * n
      const uj = u[j]!
      const pj = p[j]!
      for (let k = 0; k <= j; k++) a[rj + k]! -= uj * p[k]! + pj * u[k]!
    }
  }
  for (let i = 0; i < n; i++) diag[i] = a[i * n + i]!
}

/**
 * Eigenvalues of the symmetric tridiagonal matrix (diag, off) into diag; off is destroyed.
 *
 * An off-diagonal entry is negligible, and splits the matrix, when it is below ε‖T‖ (‖T‖ the
 * largest row sum of |T|), as in JAMA's tql2 (which ml-matrix ports). The Householder
 * reduction has already moved every eigenvalue by about that much, so dropping such an entry costs
 * no accuracy. A test relative to the two neighbouring diagonal entries alone never fires inside a
 * cluster of eigenvalues at rounding level: the RBF Gram matrix of a few hundred 2-D points has
 * hundreds of eigenvalues below 1e-17 of its norm, and the QL sweeps then chased rounding noise
 * forever.
 */
function tridiagonalQl(diag: Float64Array, off: Float64Array): void {
  const n = diag.length
  for (let i = 1; i < n; i++) off[i - 1] = off[i]!
  if (n > 0) off[n - 1] = 0
  let norm = 0
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(diag[i]!) + Math.abs(off[i]!) + (i > 0 ? Math.abs(off[i - 1]!) : 0))
  const negligible = Number.EPSILON * norm
  // LAPACK's budget (dsteqr): 30 sweeps per eigenvalue, shared; two or three usually suffice.
  const maxSweeps = 30 * n
  let sweeps = 0
  for (let l = 0; l < n; l++) {
    for (;;) {
      let m = l
      while (m < n - 1 && Math.abs(off[m]!) > negligible) m++
      if (m === l) break
      if (++sweeps > maxSweeps) throw new OuroborosError(ErrorCode.INTERNAL, `symmetricEigenvalues: QL iteration did not converge in ${maxSweeps} sweeps`)
      let g = (diag[l + 1]! - diag[l]!) / (2 * off[l]!)
      let r = Math.hypot(g, 1)
      g = diag[m]! - diag[l]! + off[l]! / (g + (g >= 0 ? r : -r))
      let s = 1
      let c = 1
      let shift = 0
      let i = m - 1
      for (; i >= l; i--) {
        const f = s * off[i]!
        const b = c * off[i]!
        r = Math.hypot(f, g)
        off[i + 1] = r
        if (r === 0) {
          // Underflow: the matrix split; undo the partial shift and start this l again.
          diag[i + 1]! -= shift
          off[m] = 0
          break
        }
        s = f / r
        c = g / r
        g = diag[i + 1]! - shift
        r = (diag[i]! - g) * s + 2 * c * b
        shift = s * r
        diag[i + 1] = g + shift
        g = c * r - b
      }
      if (r === 0 && i >= l) continue
      diag[l]! -= shift
      off[l] = g
      off[m] = 0
    }
  }
}
