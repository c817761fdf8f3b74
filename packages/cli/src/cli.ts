import { basename, isAbsolute, relative } from 'node:path'
import { Command, CommanderError } from 'commander'
import { integerOption } from './integer-option.js'
import { versionLine } from './provenance.js'
import type { ReportCommandOptions } from './report-command.js'
import { useOwnTmpdir } from './scratch.js'
import { EVAL_HELP, EXPORT_FORMATS, NEW_KINDS } from './usage.js'

useOwnTmpdir()
// Read by the core package's ouroborosCommand (not imported here: the command line loads it lazily).
process.env['OUROBOROS_INVOCATION'] = JSON.stringify(invocation())
// Output piped into a reader that stops early (`| head`) has given the reader what it wanted.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
  process.exit(0)
})

let exitCode = 0
/** `--queue-timeout`'s ceiling: a day, well inside what Node's timers hold (2^31 ms, 24.8 days). */
const QUEUE_TIMEOUT_MAX = { value: 86_400, why: 'a day' }

const program = new Command('ouroboros')
  .description('Generational model-collapse simulator')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  // Not commander's .version(): the git commit is looked up only when asked for.
  .option('-V, --version', 'print the version (and the git commit of a checkout)')
  .on('option:version', () => {
    process.stdout.write(versionLine() + '\n')
    throw new CommanderError(0, 'ouroboros.version', 'version printed')
  })

program
  .command('run')
  .argument('[config]', 'config file (.json or .ts); none = the built-in default experiment')
  .option('--out <dir>', 'run directory (default runs/<name>-<time>)')
  .option('--workers <n>', 'worker threads (default: cores)', integerOption('--workers', 1))
  .option('--seed <s>', 'override the config seed', integerOption('--seed', 0))
  .option('--force', 'replace an existing run directory')
  .option('--queue <url>', 'coordinate workers through Redis (redis://[user:password@]host:port, rediss:// for TLS) instead of running here')
  .option('--queue-timeout <s>', 'with --queue: seconds Redis may stay unreachable once the run has begun before the run stops, resumable (default 60, at most 86400); unreachable at the start, the run stops at once', integerOption('--queue-timeout', 1, QUEUE_TIMEOUT_MAX))
  .description('run an experiment and write its run directory and report')
  .action(async (config: string | undefined, opts) => {
    const { runCommand } = await import('./run-command.js')
    exitCode = await runCommand(config, opts)
  })

program
  .command('resume')
  .argument('<dir>', 'run directory of an interrupted run')
  .option('--workers <n>', 'worker threads', integerOption('--workers', 1))
  .option('--queue <url>', 'continue on the workers of a Redis queue (as for run)')
  .option('--queue-timeout <s>', 'with --queue: seconds Redis may stay unreachable once the run has resumed before it stops (default 60, at most 86400); unreachable at the start, it stops at once', integerOption('--queue-timeout', 1, QUEUE_TIMEOUT_MAX))
  .description('finish an interrupted run')
  .action(async (dir: string, opts) => {
    const { resumeCommand } = await import('./run-command.js')
    exitCode = await resumeCommand(dir, opts)
  })

program
  .command('worker')
  .option('--queue <url>', 'Redis URL the coordinators use (redis://[user:password@]host:port, rediss:// for TLS); default: the environment variable OUROBOROS_QUEUE')
  .option('--workers <n>', 'worker threads, and tasks taken at once (default: cores)', integerOption('--workers', 1))
  .option('--allow-modules <dir>', 'also run plug-in files (model.module and the like) under this directory; repeatable', (dir: string, dirs: string[] = []) => [...dirs, dir])
  .option('--allow-commands', 'also start the model programs that runs name (model.command), as this worker\'s user')
  .option('--lock-seconds <s>', 'how soon a task of a worker that died is taken over by another (this, and up to 10 s more; default 30, at most 3600)', integerOption('--lock-seconds', 1, { value: 3600, why: 'an hour: a task whose worker died waits this long' }))
  .option('--queue-timeout <s>', 'seconds to wait for Redis at the start (default 60, at most 86400)', integerOption('--queue-timeout', 1, QUEUE_TIMEOUT_MAX))
  .description('run tasks from the queue on this machine until stopped (SIGTERM finishes the tasks in flight)')
  .action(async (opts) => {
    const { workerCommand } = await import('./worker-command.js')
    exitCode = await workerCommand(opts)
  })

program
  .command('report')
  .argument('<dirs...>', 'run directories')
  .option('--out <file>', 'output file (default DIR/report.html; required for several runs)')
  // Given again, it adds to the list: one option per metric reads as naturally as one list.
  .option('--thresholds <list>', 'collapse thresholds per metric, e.g. vocab_size=0.25,reverse_kl=0.2 (a factor; an amount for metrics in nats or on a log scale); repeatable', (list: string, given?: string) => (given === undefined ? list : `${given},${list}`))
  .option('--force', 'replace an existing file at --out that is not an Ouroboros report (never a file of a run directory)')
  .description('(re)build report.html')
  .action(async (dirs: string[], opts: ReportCommandOptions) => {
    const { reportCommand } = await import('./report-command.js')
    process.stdout.write(`${await reportCommand(dirs, opts)}\n`)
  })

program
  .command('export')
  .argument('<dir>', 'run directory')
  .requiredOption('--format <format>', `record file to write (required): ${EXPORT_FORMATS.join(', ')}`)
  .option('--out <dir>', 'directory to write it in (default: the run directory)')
  .option('--force', 'replace a file of that name at --out (never another run\'s)')
  .description('write metrics.csv, metrics.ndjson or metrics.parquet from the run\'s record log (runs with records.text false leave the text files out)')
  .action(async (dir: string, opts: { format: string; out?: string; force?: boolean }) => {
    const { exportCommand } = await import('./export-command.js')
    process.stdout.write(`${await exportCommand(dir, opts.format, opts.out, opts.force === true)}\n`)
  })

program
  .command('validate')
  .argument('[config]', 'config file; none = the built-in default')
  .option('--json', 'print the resolved config, every cell with its defaults filled in, as JSON (the default when the output is not a terminal)')
  .option('--summary', 'print a short summary of what it would run (the default on a terminal)')
  // As `run` takes it: what validate shows (the run seed, the chains' seeds in --json) is then what that run would use.
  .option('--seed <s>', 'override the config seed, as for run', integerOption('--seed', 0))
  .description('check a config: on a terminal, summarise what it would run; piped, print the resolved form as JSON')
  .action(async (config: string | undefined, opts: { json?: boolean; summary?: boolean; seed?: number }) => {
    if (opts.json === true && opts.summary === true) {
      const { inputError } = await import('@ouroboros/core')
      throw inputError('--json and --summary: give one of them', 'on a terminal validate summarises; piped, it prints JSON')
    }
    const [{ defaultConfig }, { loadConfigFile }, { resolveRun }, { validateOutput }] = await Promise.all([import('./default-config.js'), import('./load-config.js'), import('./resolve.js'), import('./validate-command.js')])
    const raw = config === undefined ? defaultConfig : await loadConfigFile(config)
    const where = config ?? '(built-in default config)'
    // Scripts that read the resolved form from a pipe keep getting JSON; a person gets the summary.
    const json = opts.json === true || (opts.summary !== true && process.stdout.isTTY !== true)
    process.stdout.write(validateOutput(await resolveRun(raw, where, opts.seed === undefined ? {} : { seed: opts.seed }), where, json))
  })

program
  .command('eval')
  .requiredOption('--real <file>', '(required) real samples (.csv, .json or .npy; for text .txt, one sequence a line, or a run\'s .tokens file)')
  .requiredOption('--generated <file>', '(required) generated samples (the same kind of file as --real)')
  .option('--metrics <list>', 'comma-separated metric groups (default: the cheap ones that apply)')
  .option('--data <kind|json>', "the dataset the files come from, e.g. ring, grid, mnist, brown or '{\"kind\":\"grid\",\"std\":0.1}'")
  .option('--training <file>', 'the training set of the model that generated the samples (for copy_rate)')
  .option('--seed <s>', 'seed of randomised metrics', integerOption('--seed', 0))
  .option('--json', 'print one JSON object {metric: value}, every bit (the table shows 12 significant digits)')
  .description('metrics of any two sample files')
  .addHelpText('after', EVAL_HELP)
  .action(async (opts) => {
    const { evalCommand } = await import('./eval-command.js')
    exitCode = await evalCommand(opts)
  })

program
  .command('new')
  .argument('<kind>', `what to create: ${NEW_KINDS.join(', ')}`)
  .argument('<name>', 'its id: lower-case letters, digits and dashes (the package is @ouroboros/KIND-NAME)')
  .option('--dir <dir>', 'where to write it (default: packages/KIND-NAME of this workspace)')
  .description('write a package with a working plug-in, its conformance test and a config that uses it')
  .action(async (kind: string, name: string, opts: { dir?: string }) => {
    const { newCommand } = await import('./new-command.js')
    process.stdout.write(await newCommand(kind, name, opts))
  })

program
  .command('list')
  .description('models, datasets, metrics, policies and backends')
  .action(async () => {
    const { listCommand } = await import('./list-command.js')
    exitCode = await listCommand()
  })

try {
  // An unknown command, or `help` of one (which printed the whole help, exit 2, without naming
  // it), is named with the commands there are.
  const [first, topic] = process.argv.slice(2)
  const unknown = first === 'help' ? topic : first?.startsWith('-') === false ? first : undefined
  if (unknown !== undefined && unknown !== 'help' && !program.commands.some((c) => c.name() === unknown)) program.error(`error: unknown command '${unknown}'; the commands are ${program.commands.map((c) => c.name()).join(', ')}`, { exitCode: 2 })
  await program.parseAsync(process.argv)
} catch (err) {
  exitCode = await handleError(err)
}
process.exitCode = exitCode

/** Usage errors: one clear message and exit 2, never a stack trace. */
async function handleError(err: unknown): Promise<number> {
  // Commander has already printed its own parse errors.
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2
  const { toOuroborosError } = await import('@ouroboros/core')
  const e = toOuroborosError(err)
  process.stderr.write(`error: ${e.message}\n`)
  if (e.hint) process.stderr.write(`hint: ${e.hint}\n`)
  if (!e.isUsageError && process.env['OUROBOROS_DEBUG']) process.stderr.write(`${(err as Error).stack}\n`)
  return e.isUsageError ? 2 : 1
}

/** The words that run this program as it was started, for the messages that say what to run next. */
function invocation(): string[] {
  const script = process.env['npm_lifecycle_event']
  const pnpm = /^pnpm\/(\S+)/.exec(process.env['npm_config_user_agent'] ?? '')
  // The workspace's scripts `start` and `ouroboros` run it: typed again, it is the second, run as pnpm was.
  if (pnpm !== null && (script === 'start' || script === 'ouroboros')) return ['npx', '-y', `pnpm@${pnpm[1]}`, 'ouroboros']
  const main = process.argv[1] ?? ''
  if (main === '' || basename(main) === 'ouroboros') return ['ouroboros']
  const fromHere = relative(process.cwd(), main)
  return ['node', fromHere.startsWith('..') || isAbsolute(fromHere) ? main : fromHere]
}
