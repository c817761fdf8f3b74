/**
 * This program's command as the user typed it, for messages that say what to run next ("resume
 * with: … resume DIR"): a checkout has no `ouroboros` on the PATH, so a run started with `node
 * packages/cli/dist/main.js` or through the workspace's pnpm scripts is told to go on the same
 * way. The command line sets its words as it starts (a JSON list, in the environment, which its
 * worker threads share); `words` are written as the shell reads them (shellWord).
 */
export function ouroborosCommand(words: string): string {
  const given = process.env['OUROBOROS_INVOCATION']
  let invocation = ['ouroboros']
  try {
    const parsed: unknown = given === undefined ? undefined : JSON.parse(given)
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((w) => typeof w === 'string')) invocation = parsed as string[]
  } catch {
    // Not the command line's words: the program's own name stands in.
  }
  return `${invocation.map(shellWord).join(' ')} ${words}`
}

/** A word as a POSIX shell reads it back: as it is where it is plain, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`
}
