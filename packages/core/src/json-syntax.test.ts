import { describe, expect, it } from 'vitest'
import { jsonSyntaxError } from './json-syntax.js'

// Positions counted by hand (and the same as Python's json module reports for these texts).
const cases: [string, string, number, number, string][] = [
  ['a trailing comma in an object', '{"a": 1,}', 1, 9, 'no trailing comma'],
  ['a trailing comma in an array', '[1,]', 1, 4, 'no trailing comma'],
  ['a missing comma between lines', '{\n  "a": 1\n  "b": 2\n}', 3, 3, "where ',' or '}' should be"],
  ['an unquoted word', '{"a": tru}', 1, 7, "unexpected 'tru'"],
  ['single quotes', "{'a': 1}", 1, 2, 'double quotes'],
  ['an unclosed object', '{"a": 1', 1, 8, 'unexpected end of file'],
  ['an empty file', '', 1, 1, 'unexpected end of file'],
  ['text after the value', '{"a":1}}', 1, 8, 'after the end of the JSON value'],
  ['a missing colon', '{"a" 1}', 1, 6, "':' should follow the key"],
  ['a line break inside a string', '{"a": "x\ny"}', 1, 9, 'line break inside a string'],
  ['a bad escape', '{"a": "\\q"}', 1, 8, 'bad escape'],
  ['an unterminated string', '{"a": "abc', 1, 7, 'unterminated string'],
  ['a leading zero', '{"a": 01}', 1, 8, 'bad number'],
  ['NaN', '{"a": NaN}', 1, 7, "unexpected 'NaN'"],
  ['a line comment', '{\n  // the ring\n  "a": 1\n}', 2, 3, "unexpected '//' (JSON has no comments: a .ts config may have them)"],
  ['a block comment after a value', '{"a": 1 /* one */}', 1, 9, "unexpected '/*' (JSON has no comments"],
]

describe('jsonSyntaxError', () => {
  for (const [what, text, line, column, message] of cases) {
    it(`${what}: line ${line}, column ${column}`, () => {
      expect(() => JSON.parse(text)).toThrow()
      const error = jsonSyntaxError(text)
      expect(error).toMatchObject({ line, column })
      expect(error?.message).toContain(message)
    })
  }

  it('finds nothing wrong in valid JSON', () => {
    for (const text of ['{}', '[]', '{"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]}', ' 0 ']) expect(jsonSyntaxError(text), text).toBeUndefined()
  })
})
