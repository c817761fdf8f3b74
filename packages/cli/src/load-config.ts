import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, extname, isAbsolute, join, relative, resolve as resolvePath } from 'node:path'
import { pathToFileURL } from 'node:url'
import { configError, jsonFault, ouroborosCommand, shellWord, unreadable } from '@ouroboros/core'
import { unreadableFile } from '@ouroboros/store'
import { moduleUrl } from './registry.js'

/**
 * Reads a .json config, or a .ts/.js/.mjs config whose default export is the config object
 * (TypeScript is transpiled on the fly, with the TypeScript files it imports by relative path;
 * `@ouroboros/*` imports resolve to this installation, others from the config's folder).
 */
export async function loadConfigFile(file: string): Promise<unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw configError(unreadableFile(file, err))
  }
  const ext = extname(file).toLowerCase()
  if (ext === '.json') {
    // Editors on Windows may start the file with a byte-order mark, which JSON.parse refuses.
    const json = text.startsWith('\uFEFF') ? text.slice(1) : text
    let value: unknown
    try {
      value = JSON.parse(json)
    } catch (err) {
      throw configError(`${file}: ${jsonFault(json, err)}`)
    }
    const overflow = nonFinitePaths(value)
    if (overflow.length > 0) {
      throw configError(overflow.map((path) => `${file}: ${path}: the number is too large for a double (beyond ±1.8e308; JSON reads it as Infinity)`).join('\n'), 'write a number within ±1.8e308')
    }
    // A run's own record of itself, given back as a config: its config is one key of it.
    if (typeof value === 'object' && value !== null && 'config' in value && 'chains' in value && 'runId' in value) {
      throw configError(`${file}: a run's run.json, not a config (the run's config is its "config")`, `${ouroborosCommand(`resume ${shellWord(dirname(resolvePath(file)))}`)} finishes that run; to run its config again, save its "config" as a file of its own`)
    }
    return named(value, file)
  }
  if (!['.ts', '.mts', '.js', '.mjs'].includes(ext)) throw configError(`${file}: unsupported config type '${ext}'; use .json or .ts`)
  // The module runs from a temporary folder: its imports are resolved here, from the config's folder,
  // and the TypeScript files it imports from beside it are transpiled there too.
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-config-'))
  const written = new Map<string, string>()
  try {
    // Errors name the config as it was given, and a module it imports from there.
    const top = resolvePath(file)
    const shown = (path: string): string => (path === top ? file : join(dirname(file), relative(dirname(top), path)))
    const tmp = await transpiled(top, text, dir, written, shown)
    const mod = (await import(pathToFileURL(tmp).href)) as { default?: unknown }
    // A promise of a config is awaited here, so that its rejection is reported as the file's.
    const config = await mod.default
    if (config === undefined) throw configError(`${file}: a TypeScript or JavaScript config needs a default export (export default defineConfig({...}))`)
    if (typeof config === 'function') throw configError(`${file}: the default export is a function; export the config object itself (export default defineConfig({...}))`)
    return named(config, file)
  } catch (err) {
    if ((err as { code?: string }).code === 'OUROBOROS_CONFIG') throw err
    throw configError(`${file}: the config threw while loading: ${inSources(thrown(err), written)}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The dotted paths of the numbers JSON.parse read as ±Infinity: a literal beyond a double's range
 * (1e309). Said here, where the file is read: the schema would see Infinity, which JSON cannot
 * write back, and say "got null".
 */
function nonFinitePaths(value: unknown, path = ''): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path === '' ? '(top level)' : path]
  if (typeof value !== 'object' || value === null) return []
  return Object.entries(value).flatMap(([key, v]) => nonFinitePaths(v, path === '' ? key : `${path}.${key}`))
}

const TYPESCRIPT = ['.ts', '.mts']

/** What a config threw, said whatever it is: `throw "text"` and `throw {code: 42}` are JavaScript too. */
function thrown(err: unknown): string {
  if (err instanceof Error) return err.message
  if (typeof err === 'string') return err
  try {
    return JSON.stringify(err) ?? String(err)
  } catch {
    return String(err)
  }
}

/**
 * Writes the config module (or a TypeScript module it imports) into `dir` as JavaScript whose imports
 * point where `importUrl` says, and returns its path. `done` maps the files written so far to their
 * output, so that a module imported twice, or in a cycle, is written once. `shown`: a module's path as
 * errors name it.
 */
async function transpiled(file: string, text: string, dir: string, done: Map<string, string>, shown: (path: string) => string): Promise<string> {
  const out = join(dir, done.size === 0 ? 'config.mjs' : `module-${done.size}.mjs`)
  done.set(file, out)
  let js = text
  if (TYPESCRIPT.includes(extname(file).toLowerCase())) {
    const ts = (await import('typescript')).default
    // Transpiling alone checks no types but does parse: its syntax errors are reported, where
    // transpileModule would otherwise emit its best guess at what a broken file meant.
    const output = ts.transpileModule(text, { fileName: file, reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
    const first = output.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error)
    if (first !== undefined) {
      const at = first.file !== undefined && first.start !== undefined ? first.file.getLineAndCharacterOfPosition(first.start) : undefined
      const where = at === undefined ? '' : `line ${at.line + 1}, column ${at.character + 1}: `
      throw configError(`${shown(file)}: ${where}not valid TypeScript: ${ts.flattenDiagnosticMessageText(first.messageText, ' ')}`)
    }
    js = output.outputText
  }
  const baseDir = dirname(file)
  const specifiers = new Map<string, string>()
  for (const m of js.matchAll(IMPORT)) {
    const spec = m[3]!
    if (specifiers.has(spec)) continue
    const source = typeScriptSource(spec, baseDir)
    if (source === undefined) {
      specifiers.set(spec, importUrl(spec, baseDir))
      continue
    }
    let target = done.get(source)
    if (target === undefined) {
      let sourceText: string
      try {
        sourceText = readFileSync(source, 'utf8')
      } catch (err) {
        throw configError(`${shown(file)}: imports ${shown(source)}: ${unreadable(err)}`)
      }
      target = await transpiled(source, sourceText, dir, done, shown)
    }
    specifiers.set(spec, pathToFileURL(target).href)
  }
  writeFileSync(out, js.replace(IMPORT, (_m, lead: string, q: string, spec: string) => lead + q + specifiers.get(spec)! + q))
  return out
}

const IMPORT = /(\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"\n]+)\2/g

/**
 * The TypeScript file a relative import names: `./helpers.ts`, or `./helpers.js` where only
 * `./helpers.ts` exists (TypeScript's own way of naming it); undefined for anything else.
 */
function typeScriptSource(spec: string, baseDir: string): string | undefined {
  if (!(spec.startsWith('./') || spec.startsWith('../') || isAbsolute(spec))) return undefined
  const path = resolvePath(baseDir, spec)
  const ext = extname(path).toLowerCase()
  if (TYPESCRIPT.includes(ext)) return path
  if (ext === '.js' || ext === '.mjs') {
    const ts = path.slice(0, -ext.length) + (ext === '.js' ? '.ts' : '.mts')
    if (!existsSync(path) && existsSync(ts)) return ts
  }
  return undefined
}
/**
 * A message that names the JavaScript copies the config and its TypeScript modules run as (Node's
 * "imported from …/config.mjs", "module …/module-1.mjs does not provide an export"), with each
 * copy named by the file it was made from.
 */
function inSources(message: string, written: ReadonlyMap<string, string>): string {
  // Longest first: module-1.mjs is the start of module-10.mjs.
  const copies = [...written].sort(([, a], [, b]) => b.length - a.length)
  let out = message
  for (const [source, copy] of copies) out = out.replaceAll(pathToFileURL(copy).href, source).replaceAll(copy, source)
  return out
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

/**
 * A config without a name is named by its file (`sweep.json` runs as `sweep`): the run's folder,
 * the report's title and the labels of a page of several runs tell runs apart by it.
 */
function named(config: unknown, file: string): unknown {
  // A name of undefined is none (`name: process.env.RUN_NAME` with the variable unset).
  if (typeof config !== 'object' || config === null || Array.isArray(config) || (config as { name?: unknown }).name !== undefined) return config
  const stem = basename(file, extname(file)).slice(0, 200)
  return stem === '' ? config : { ...config, name: stem }
}
