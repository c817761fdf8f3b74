import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, isAbsolute, resolve } from 'node:path'
import { inputError } from '@ouroboros/core'

/** An argument after the program that names a script for it to run (["python3", "model.py"]). */
const SCRIPT = /\.(py|sh|bash|js|mjs|cjs|ts|r|jl|rb|pl|lua)$/i

/**
 * Refuses, before a run, a command that cannot start: a program that is neither a file (a path, taken
 * from `cwd`) nor found on PATH, and a script named as its first argument that is not there. Without
 * it every chain would fail at its first generation, one by one. The message starts with `command:`,
 * which the config check reports as model.command.
 */
export function checkProgram(command: readonly string[], cwd: string): void {
  // spawn looks programs up by Windows' own rules (PATHEXT): there it says for itself.
  if (process.platform === 'win32') return
  const [program, first] = command
  if (program === undefined) return
  const shown = JSON.stringify(command)
  if (program.includes('/')) {
    const path = resolve(cwd, program)
    const where = isAbsolute(program) ? '' : ` in ${cwd}`
    const stat = statSync(path, { throwIfNoEntry: false })
    if (stat === undefined) throw inputError(`command: ${shown}: no program '${program}'${where}`, 'a path in model.command is taken from model.cwd (by default the config file\'s folder)')
    if (!stat.isFile()) throw inputError(`command: ${shown}: '${program}'${where} is not a file`)
    if (!executable(path)) throw inputError(`command: ${shown}: '${program}'${where} is not executable`, `make it executable (chmod +x ${program}), or name its interpreter first (["sh", "${program}"])`)
  } else if (!onPath(program, cwd)) {
    const local = statSync(resolve(cwd, program), { throwIfNoEntry: false })?.isFile() === true
    throw inputError(
      `command: ${shown}: no program '${program}' on PATH`,
      local ? `a program in model.cwd is named by its path: "./${program}"` : 'install it, or give its path',
    )
  }
  if (first !== undefined && !first.startsWith('-') && SCRIPT.test(first) && statSync(resolve(cwd, first), { throwIfNoEntry: false }) === undefined) {
    throw inputError(`command: ${shown}: no file '${first}'${isAbsolute(first) ? '' : ` in ${cwd}`} for ${program} to run`, "a script's path in model.command is taken from model.cwd (by default the config file's folder)")
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Whether `name` is an executable file in a folder of PATH (an empty entry is the working directory, as for execvp). */
function onPath(name: string, cwd: string): boolean {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter)) {
    const path = resolve(cwd, dir, name)
    if (statSync(path, { throwIfNoEntry: false })?.isFile() === true && executable(path)) return true
  }
  return false
}
