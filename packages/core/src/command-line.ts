/**
 * This program's command as the user typed it, for messages that say what to run next ("resume
 * with: … resume DIR"): a checkout has no `ouroboros` on the PATH, so a run started with `node
 * packages/cli/dist/main.js` or through the workspace's pnpm scripts is told to go on the same
 * way. The command line sets it as it starts, in the environment, which its worker threads share.
 */
export function ouroborosCommand(words: string): string {
  return `${process.env['OUROBOROS_INVOCATION'] ?? 'ouroboros'} ${words}`
}
