import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CellInfo } from '@ouroboros/store'
import type { ResolvedRun } from './resolve.js'

/** packages/cli of this installation. */
const CLI_DIR = dirname(dirname(fileURLToPath(import.meta.url)))

export interface GitState {
  commit: string
  /** Tracked files differ from the commit. */
  dirty: boolean
}

/** What run.json records beside RunInfo about the code that did the run. */
export interface Provenance {
  /** The workspace's commit, when it is a git checkout. */
  git?: GitState
  /** The hash of the JavaScript that ran (see buildHash), where the installation is a workspace. */
  build?: string
}

/** The version in the CLI's package.json. */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(join(CLI_DIR, 'package.json'), 'utf8')) as { version: string }).version
}

/**
 * The commit of this installation when it runs from a git checkout of the workspace, else
 * undefined (an npm install, no git, a slow file system: never an error). Only the workspace's
 * own repository counts, not one it happens to be installed inside.
 */
export function gitState(): GitState | undefined {
  const root = join(CLI_DIR, '..', '..')
  const git = (args: string[]): string => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  try {
    if (realpathSync(git(['rev-parse', '--show-toplevel'])) !== realpathSync(root)) return undefined
    const commit = git(['rev-parse', 'HEAD'])
    const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== ''
    return { commit, dirty }
  } catch {
    return undefined
  }
}

/** An installation's commit, where it is a checkout, and its build's hash, for the queue's tasks and workers. */
export function withCommit(git: GitState | undefined): { commit?: string; build?: string } {
  const build = buildHash()
  return { ...(git === undefined ? {} : { commit: git.commit }), ...(build === undefined ? {} : { build }) }
}

const builds = new Map<string, string | undefined>()

/**
 * SHA-256 of the JavaScript a workspace runs: every package's build (`packages/NAME/dist/**.js`),
 * by path, each path and its content. A commit does not say what runs: uncommitted changes, or a
 * build older than its sources (dist built from an edit since reverted), run other code at the
 * same commit; changes not yet built run nothing new, and leave it as it was. Read once per
 * process (about 200 files, 1.8 MB: 30 to 60 ms on the 2-core development machine at load 7). Undefined where `root` has
 * no workspace packages with a build (an install from npm).
 */
export function buildHash(root = join(CLI_DIR, '..', '..')): string | undefined {
  if (builds.has(root)) return builds.get(root)
  const packages = join(root, 'packages')
  const files: string[] = []
  // By hand: Node 20's recursive readdir takes ten times as long.
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(packages, dir), { withFileTypes: true })) {
      if (entry.isDirectory()) walk(`${dir}/${entry.name}`)
      else if (entry.name.endsWith('.js')) files.push(`${dir}/${entry.name}`)
    }
  }
  for (const pkg of existsSync(packages) ? readdirSync(packages) : []) {
    if (existsSync(join(packages, pkg, 'dist'))) walk(`${pkg}/dist`)
  }
  files.sort()
  let hash: string | undefined
  if (files.length > 0) {
    const sha = createHash('sha256')
    for (const file of files) {
      const text = readFileSync(join(packages, file))
      sha.update(`${file}\0${text.length}\0`).update(text)
    }
    hash = sha.digest('hex')
  }
  builds.set(root, hash)
  return hash
}

/** `ouroboros --version`: "ouroboros 0.1.0 (git 1a2b3c4d5e6f, uncommitted changes)". */
export function versionLine(): string {
  const git = gitState()
  const where = git === undefined ? '' : ` (git ${git.commit.slice(0, 12)}${git.dirty ? ', uncommitted changes' : ''})`
  return `ouroboros ${cliVersion()}${where}`
}

/**
 * Each cell with its resolved config: the data and model parameters as their plug-ins parsed
 * them, every default filled in (the config as given leaves plug-in defaults out).
 */
export function resolvedCells(resolved: ResolvedRun): CellInfo[] {
  return resolved.cells.map((cell) => {
    const chain = resolved.chains.find((c) => c.cell === cell.index)
    if (chain === undefined) return cell
    const { kind: dataKind, module: dataModule } = chain.config.data
    const { kind: modelKind, module: modelModule } = chain.config.model
    return {
      ...cell,
      config: {
        ...cell.config,
        data: { kind: dataKind, ...(dataModule === undefined ? {} : { module: dataModule }), n: chain.n, ...chain.datasetParams },
        model: { kind: modelKind, ...(modelModule === undefined ? {} : { module: modelModule }), ...chain.modelParams },
      },
    }
  })
}
