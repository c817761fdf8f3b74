/**
 * Where JSON text first breaks the grammar, as line and column (1-based), with what was wrong.
 * JSON.parse says where only for some errors ("Unexpected token 'g', ..." names no position),
 * so this walks the text itself; it is called only after JSON.parse has failed.
 */
export function jsonSyntaxError(text: string): { line: number; column: number; message: string } | undefined {
  const error = new Scanner(text).check()
  if (error === undefined) return undefined
  const before = text.slice(0, error.at)
  const line = before.split('\n').length
  const column = error.at - (before.lastIndexOf('\n') + 1) + 1
  return { line, column, message: error.message }
}

/**
 * Why JSON.parse refused `text` (its error `err`), in one line: "line 3, column 5: not valid JSON:
 * …" where the text breaks the grammar, else the parser's own words (their first line: V8 quotes
 * the text after a line break).
 */
export function jsonFault(text: string, err: unknown): string {
  const at = jsonSyntaxError(text)
  return at === undefined ? `not valid JSON: ${String((err as Error).message).split('\n')[0]}` : `line ${at.line}, column ${at.column}: not valid JSON: ${at.message}`
}

class SyntaxProblem {
  constructor(
    readonly at: number,
    readonly message: string,
  ) {}
}

class Scanner {
  private i = 0

  constructor(private readonly text: string) {}

  check(): SyntaxProblem | undefined {
    try {
      this.value()
      this.space()
      if (this.i < this.text.length) this.fail(`${this.describe()} after the end of the JSON value`)
      return undefined
    } catch (err) {
      if (err instanceof SyntaxProblem) return err
      throw err
    }
  }

  private fail(message: string, at = this.i): never {
    throw new SyntaxProblem(at, message)
  }

  /** The character at the cursor, for messages: "'g'", "end of file", "a line break". */
  private describe(): string {
    const c = this.text[this.i]
    if (c === undefined) return 'unexpected end of file'
    if (c === '\n' || c === '\r') return 'unexpected line break'
    if (c === "'") return `unexpected "'" (JSON strings take double quotes)`
    if (c === '/' && (this.text[this.i + 1] === '/' || this.text[this.i + 1] === '*')) return `unexpected '${this.text.slice(this.i, this.i + 2)}' (JSON has no comments: a .ts config may have them)`
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.i))?.[0]
    return `unexpected ${word === undefined ? `'${c}'` : `'${word}'`}`
  }

  private space(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i]!)) this.i++
  }

  private value(): void {
    this.space()
    const c = this.text[this.i]
    if (c === '{') return this.object()
    if (c === '[') return this.array()
    if (c === '"') return this.string()
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number()
    for (const literal of ['true', 'false', 'null']) {
      if (this.text.startsWith(literal, this.i)) {
        this.i += literal.length
        return
      }
    }
    this.fail(`${this.describe()} where a value should be`)
  }

  private object(): void {
    this.i++
    this.space()
    if (this.text[this.i] === '}') {
      this.i++
      return
    }
    for (;;) {
      this.space()
      if (this.text[this.i] !== '"') {
        if (this.text[this.i] === '}') this.fail("unexpected '}' after a comma: JSON allows no trailing comma")
        this.fail(`${this.describe()} where a key in double quotes should be`)
      }
      this.string()
      this.space()
      if (this.text[this.i] !== ':') this.fail(`${this.describe()} where ':' should follow the key`)
      this.i++
      this.value()
      this.space()
      const c = this.text[this.i]
      if (c === '}') {
        this.i++
        return
      }
      if (c !== ',') this.fail(`${this.describe()} where ',' or '}' should be`)
      this.i++
    }
  }

  private array(): void {
    this.i++
    this.space()
    if (this.text[this.i] === ']') {
      this.i++
      return
    }
    for (;;) {
      this.space()
      if (this.text[this.i] === ']') this.fail("unexpected ']' after a comma: JSON allows no trailing comma")
      this.value()
      this.space()
      const c = this.text[this.i]
      if (c === ']') {
        this.i++
        return
      }
      if (c !== ',') this.fail(`${this.describe()} where ',' or ']' should be`)
      this.i++
    }
  }

  private string(): void {
    const start = this.i
    this.i++
    for (;;) {
      const c = this.text[this.i]
      if (c === undefined) this.fail('unterminated string', start)
      if (c === '"') {
        this.i++
        return
      }
      if (c < ' ') this.fail(c === '\n' ? 'line break inside a string' : 'control character inside a string')
      if (c === '\\') {
        const e = this.text[this.i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 2, this.i + 6))) this.fail('bad \\u escape: expected 4 hex digits')
          this.i += 6
          continue
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) this.fail(`bad escape '\\${e ?? ''}' in a string`)
        this.i += 2
        continue
      }
      this.i++
    }
  }

  private number(): void {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.i))
    if (match === null) this.fail('bad number')
    this.i += match[0].length
    const next = this.text[this.i]
    if (next !== undefined && /[0-9.eE]/.test(next)) this.fail('bad number')
  }
}
