// The arguments of `pnpm bench` (scripts/bench.js): what each one selects, the usage text, and the
// refusal of an argument that selects nothing, which would otherwise run nothing and still write
// an empty result file.
import { chainWorkloads } from './chains.js'

/** The sections after the chains, in the order scripts/bench.js runs them; an argument names one exactly. */
export const SECTIONS = ['scale', 'metrics', 'neural', 'text', 'transformer', 'queue']

const selects = (arg) => SECTIONS.includes(arg) || chainWorkloads.some((w) => w.name.includes(arg))

/**
 * `{ help: true }` for --help or -h anywhere, `{ error }` (one line) when an argument names no
 * section and is part of no chain workload's name, else `{ only }`: the arguments as given, where
 * none means every chain workload and every section.
 */
export function parseBenchArgs(argv) {
  if (argv.includes('--help') || argv.includes('-h')) return { help: true }
  const unknown = argv.filter((arg) => !selects(arg))
  if (unknown.length > 0) {
    const named = unknown.map((arg) => `'${arg}'`).join(', ')
    return { error: `bench: ${named} ${unknown.length === 1 ? 'is' : 'are'} neither a section (${SECTIONS.join(', ')}) nor part of a chain workload's name; see --help` }
  }
  return { only: argv }
}

export const USAGE = `usage: npx -y pnpm@12.4.2 bench [argument...]

Times our code and, in the same run, the Python or PyTorch peer where a workload has one; prints
the results and writes bench-results/bench-<time>.json. With no argument every chain workload and
every section runs, one after another (many minutes). With arguments, only what they select runs.

A section's name runs that section:
  scale        the Gaussian chain with R = 100, 1,000 and 10,000 replicates, then exports each record format
  metrics      the prdc, vendi and mmd_rbf metric groups on synthetic data
  neural       the VAE chain, a block of 8 VAE replicates and the GAN variants, against PyTorch
  text         the n-gram model's fit, scoring and sampling on the Brown training split
  transformer  the transformer language model against PyTorch
  queue        the Redis queue against the local worker pool (needs redis-server)

Any other argument runs the chain workloads whose name contains it ('gmm', 'mle', 'chain' for all):
${chainWorkloads.map((w) => `  ${w.name}`).join('\n')}

Environment:
  OUROBOROS_BENCH_SCALE  the scale section's replicate counts, comma-separated (default 100,1000,10000)
  OUROBOROS_PEERS        the folder of gaussian_chain.py, gmm_chain.py and vae_chain.py
                         (default ../shared/peers beside the repository)

Example, a quick run: OUROBOROS_BENCH_SCALE=100 npx -y pnpm@12.4.2 bench scale
`
