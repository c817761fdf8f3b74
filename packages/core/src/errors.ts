/** Error codes as a const map; the type is derived from it. */
export const ErrorCode = {
  CONFIG: 'OUROBOROS_CONFIG',
  INPUT: 'OUROBOROS_INPUT',
  PLUGIN: 'OUROBOROS_PLUGIN',
  RUN_DIR: 'OUROBOROS_RUN_DIR',
  /** A write failed (disk full, permissions): the run stops, resumable. */
  IO: 'OUROBOROS_IO',
  MODEL: 'OUROBOROS_MODEL',
  DIVERGED: 'OUROBOROS_DIVERGED',
  BACKEND: 'OUROBOROS_BACKEND',
  INTERNAL: 'OUROBOROS_INTERNAL',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** Codes that mean "the user gave us something wrong": the CLI exits 2 for them. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set([ErrorCode.CONFIG, ErrorCode.INPUT, ErrorCode.PLUGIN, ErrorCode.RUN_DIR])

export class OuroborosError extends Error {
  readonly code: ErrorCode
  /** What the user can do about it, printed after the message. */
  readonly hint: string | undefined

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'OuroborosError'
    this.code = code
    this.hint = options.hint
  }

  get isUsageError(): boolean {
    return USAGE_CODES.has(this.code)
  }
}

export function configError(message: string, hint?: string): OuroborosError {
  return new OuroborosError(ErrorCode.CONFIG, message, hint === undefined ? {} : { hint })
}

/**
 * A plug-in module that failed to import. Where a package it imports is missing, the message says
 * where Node looks, since a lone file outside any package finds nothing.
 */
export function pluginImportError(url: string, err: unknown): OuroborosError {
  const e = err as { code?: unknown; message?: unknown }
  const message = String(e.message ?? err)
  const missingPackage = e.code === 'ERR_MODULE_NOT_FOUND' && message.startsWith('Cannot find package')
  // Node 20 imports JavaScript only, and workers import a plug-in by its URL, as the run names it.
  const typeScript = e.code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[mc]?tsx?\b/.test(message)
  const where = missingPackage
    ? ' (a plug-in file finds the packages it imports in a node_modules folder beside it or above it: put it inside the Ouroboros workspace, whose root has @ouroboros/core and zod, or in a package that depends on what it imports)'
    : typeScript
      ? ' (a plug-in is loaded as JavaScript: write a single file as .mjs, or compile TypeScript with npx tsc, as the packages of `ouroboros new` are, and name the .js it writes)'
      : ''
  return new OuroborosError(ErrorCode.PLUGIN, `cannot load plug-in module ${url}: ${message}${where}`, { cause: err })
}

/** The hint of a model given too few training points: generation 0 trains on data.n, the others on samplesPerGeneration. */
export const MORE_POINTS_HINT = 'raise data.n (generation 0) or samplesPerGeneration (the generations after it)'

/** The hint of a model whose training points have a singular covariance. */
export const SUBSPACE_HINT =
  "the points lie in a subspace: a chain collapsed to a point, or data with a coordinate that never varies (MNIST's border pixels); stop the chain earlier, or use a model that regularises its covariance (gmm's regCovar)"

export function inputError(message: string, hint?: string): OuroborosError {
  return new OuroborosError(ErrorCode.INPUT, message, hint === undefined ? {} : { hint })
}

/** The data file that `field` (data, or a finetuning task's posttrain.i.data) names has changed since its run pinned its SHA-256. */
export function changedFileError(field: string, path: string, then: string, now: string): OuroborosError {
  return inputError(
    `${field}.path: ${path} is not the file this run began with (SHA-256 ${then.slice(0, 12)}… then, ${now.slice(0, 12)}… now)`,
    'restore the file, or run the config again with --force to use the new one',
  )
}

/** Why a file named by the user could not be read, in words: the system's message for the rare cases. */
export function unreadable(err: unknown): string {
  const { code, path } = err as { code?: string; path?: unknown }
  if (code === 'ENOENT') {
    // A path written on Windows: here the backslash is a character of the name.
    const windows = process.platform !== 'win32' && typeof path === 'string' && path.includes('\\')
    return windows ? 'no such file (a backslash is part of a file name here, not a folder separator: write / between folders)' : 'no such file'
  }
  if (code === 'EISDIR') return 'a directory, not a file'
  if (code === 'EACCES') return 'permission denied'
  return (err as Error).message
}

/** A model whose training produced NaN or infinite values. */
export function divergedError(message: string): OuroborosError {
  return new OuroborosError(ErrorCode.DIVERGED, message)
}

/**
 * What a plug-in's hook threw, named by the plug-in (`name`), the hook, `when` it was called (at
 * step 3 of a stage) and `at`, where in its file it was thrown, where given; the project's own
 * errors pass as they are: they name the plug-in already, or say what a config must change.
 */
export function hookThrew(name: string, hook: string, err: unknown, where: { when?: string; at?: string } = {}): unknown {
  if (err instanceof OuroborosError || toOuroborosError(err).code !== ErrorCode.INTERNAL) return err
  const what = err instanceof Error ? `: ${err.message}` : ` ${err === null ? 'null' : `a ${typeof err}`}, not an Error: ${String(err)}`
  const when = where.when === undefined ? '' : ` at ${where.when}`
  const at = where.at === undefined ? '' : ` (at ${where.at})`
  return new OuroborosError(ErrorCode.INTERNAL, `${name}: ${hook} threw${when}${what}${at}`, { cause: err })
}

/** Turns anything thrown into an OuroborosError, keeping the original as the cause. */
export function toOuroborosError(err: unknown): OuroborosError {
  if (err instanceof OuroborosError) return err
  if (isSerializedOuroborosError(err)) {
    return new OuroborosError(err.code, err.message, err.hint === undefined ? {} : { hint: err.hint })
  }
  const message = err instanceof Error ? err.message : String(err)
  return new OuroborosError(ErrorCode.INTERNAL, message, { cause: err })
}

/** Worker threads clone errors without their class; code and hint survive as plain fields. */
function isSerializedOuroborosError(err: unknown): err is { code: ErrorCode; message: string; hint?: string } {
  if (typeof err !== 'object' || err === null) return false
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && Object.values(ErrorCode).includes(code as ErrorCode)
}
