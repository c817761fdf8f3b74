#!/usr/bin/env node
/**
 * The command line's entry. The Node version is checked before the command line's modules load:
 * on an older Node their imports fail as they are linked, with a SyntaxError that does not say
 * the version is the trouble (node:zlib's crc32, for one, came in Node 20.15).
 */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(
    `error: ouroboros needs Node.js 20.19 or newer (package.json's "engines"); this is Node.js ${process.versions.node}, ${process.execPath}\n` +
      'hint: install Node.js 20 or 22 and run the command with it\n',
  )
  process.exit(2)
}
await import('./cli.js')
