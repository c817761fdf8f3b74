import { execFileSync } from 'node:child_process'
import { readFileSync, realpathSync } from 'node:fs'
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

/** An installation's commit for the queue's tasks and workers, where it is a checkout. */
export function withCommit(git: GitState | undefined): { commit?: string } {
  return git === undefined ? {} : { commit: git.commit }
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
