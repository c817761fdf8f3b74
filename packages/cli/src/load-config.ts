import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, extname, isAbsolute, join, resolve as resolvePath } from 'node:path'
import { pathToFileURL } from 'node:url'
import { configError, unreadable } from '@ouroboros/core'
import { jsonSyntaxError } from './json-syntax.js'
import { moduleUrl } from './registry.js'

/**
 * Reads a .json config, or a .ts/.js/.mjs config whose default export is the config object
 * (TypeScript is transpiled on the fly; `@ouroboros/*` imports resolve to this installation, others
 * from the config's folder).
 */
export async function loadConfigFile(file: string): Promise<unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw configError(`${file}: ${unreadable(err)}`)
  }
  const ext = extname(file).toLowerCase()
  if (ext === '.json') {
    // Editors on Windows may start the file with a byte-order mark, which JSON.parse refuses.
    const json = text.startsWith('\uFEFF') ? text.slice(1) : text
    try {
      return JSON.parse(json)
    } catch (err) {
      const at = jsonSyntaxError(json)
      if (at === undefined) throw configError(`${file}: not valid JSON: ${(err as Error).message}`)
      throw configError(`${file}: line ${at.line}, column ${at.column}: not valid JSON: ${at.message}`)
    }
  }
  if (!['.ts', '.mts', '.js', '.mjs'].includes(ext)) throw configError(`${file}: unsupported config type '${ext}'; use .json or .ts`)
  let js = text
  if (ext === '.ts' || ext === '.mts') {
    const ts = await import('typescript')
    js = ts.default.transpileModule(text, { compilerOptions: { module: ts.default.ModuleKind.ESNext, target: ts.default.ScriptTarget.ES2022 } }).outputText
  }
  // The module runs from a temporary folder: its imports are resolved here, from the config's folder.
  const baseDir = dirname(resolvePath(file))
  js = js.replace(/(\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"\n]+)\2/g, (_m, lead: string, q: string, spec: string) => lead + q + importUrl(spec, baseDir) + q)
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-config-'))
  const tmp = join(dir, 'config.mjs')
  writeFileSync(tmp, js)
  try {
    const mod = (await import(pathToFileURL(tmp).href)) as { default?: unknown }
    if (mod.default === undefined) throw configError(`${file}: a TypeScript or JavaScript config needs a default export (export default defineConfig({...}))`)
    return mod.default
  } catch (err) {
    if ((err as { code?: string }).code === 'OUROBOROS_CONFIG') throw err
    throw configError(`${file}: the config threw while loading: ${(err as Error).message}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Where an import of a config module points: a relative path from the config's folder; an
 * `@ouroboros/*` package in this installation, so that the config's `defineConfig` is the run's;
 * another package as a plug-in module is looked up. What cannot be found is left for Node to name.
 */
function importUrl(spec: string, baseDir: string): string {
  if (spec.startsWith('./') || spec.startsWith('../') || isAbsolute(spec)) return pathToFileURL(resolvePath(baseDir, spec)).href
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec)) return spec
  try {
    return spec.startsWith('@ouroboros/') ? import.meta.resolve(spec) : moduleUrl(spec, baseDir)
  } catch {
    return spec
  }
}
