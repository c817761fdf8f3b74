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

/** Four significant digits, exponent form for very large or small magnitudes. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—'
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e5 || a < 1e-3) return v.toExponential(3).replace('-', '−')
  return String(Number(v.toPrecision(4))).replace('-', '−')
}

export function formatPercent(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—'
  const p = v * 100
  const a = Math.abs(p)
  const text = a >= 1e6 ? p.toExponential(2) : a >= 1000 ? Math.round(p).toLocaleString('en-US') : p.toFixed(1)
  return `${p > 0 ? '+' : ''}${text.replace('-', '−')} %`
}
