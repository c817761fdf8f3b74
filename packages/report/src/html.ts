/** Escaping for every place a string from a config, a dataset or a file reaches the page. */

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)
}

/**
 * Plotly renders trace names and titles as its own small markup (<b>, <br>, <a href>, entities);
 * entity-escaping makes it show any string literally.
 */
export function plotlyText(text: string): string {
  return text.replace(/[&<>]/g, (c) => HTML_ESCAPES[c]!)
}

/**
 * JSON that is safe inside a <script> element: no "</script>" or "<!--" can end or change the
 * element, and U+2028/2029 (line terminators in older JavaScript) never appear raw.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * Library source inlined into a <script>: the three sequences that change how HTML parses a
 * script element are written with a \x3C escape, which means the same "<" inside the string and
 * regular-expression literals where minified code holds them.
 */
export function scriptText(source: string): string {
  return source.replace(/<(!--|\/?script)/gi, '\\x3C$1')
}

/** Four significant digits, exponent form for very large or small magnitudes; an integer below 10⁷ whole. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—'
  if (v === 0) return '0'
  const a = Math.abs(v)
  // A count (47,558 word types) is shown whole, not as 47560.
  if (Number.isInteger(v) && a < 1e7) return String(v).replace('-', '−')
  if (a >= 1e5 || a < 1e-3) return v.toExponential(3).replace('-', '−')
  return String(Number(v.toPrecision(4))).replace('-', '−')
}

/**
 * The change from `first` to `last`. Between two positive values: a percentage within a factor of
 * 10, beyond it the factor itself (×14.5, ÷1.0e15), which a percentage would bury in digits; a
 * fall to 0, −100 %. Where a ratio means nothing (a start ≤ 0, a value below 0, or a metric on an
 * additive scale such as nats): the signed difference.
 */
export function formatChange(first: number | null, last: number | null, additive: boolean): string {
  if (first === null || last === null || !Number.isFinite(first) || !Number.isFinite(last)) return '—'
  if (additive || !(first > 0) || !(last >= 0)) {
    const d = last - first
    return d === 0 ? '0' : `${d > 0 ? '+' : ''}${formatNumber(d)}`
  }
  // A fall to 0 (8 modes to none) is all of it, as the percentages beside it say.
  if (last === 0) return '−100 %'
  const ratio = last / first
  if (ratio >= 10) return `×${formatFactor(ratio)}`
  if (ratio <= 0.1) return `÷${formatFactor(1 / ratio)}`
  const p = (ratio - 1) * 100
  if (Math.abs(p) < 0.05) return '0.0 %'
  return `${p > 0 ? '+' : ''}${p.toFixed(1).replace('-', '−')} %`
}

/** Three significant digits up to 99,999, then an exponent (1.2e15). */
export function formatFactor(v: number): string {
  if (v < 1000) return String(Number(v.toPrecision(3)))
  if (v < 1e5) return Math.round(v).toLocaleString('en-US')
  return v.toExponential(1).replace('.0e', 'e').replace('e+', 'e')
}
