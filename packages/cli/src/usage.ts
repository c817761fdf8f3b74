/*
 * The choices and help text the command line states before any command runs, kept apart from the
 * commands' modules: `--help` and `--version` load none of those.
 */

/** `export --format`. */
export const EXPORT_FORMATS = ['csv', 'ndjson', 'parquet'] as const

/** `new KIND`. */
export const NEW_KINDS = ['model', 'metric', 'dataset'] as const

/** After `eval --help`'s options. */
export const EVAL_HELP = `
Without --metrics, eval runs every cheap metric group that applies to the files; expensive ones
(ouroboros list marks them) run when named. Besides the built-in groups' names, --metrics takes a
metric group's module, as a config's {"module": ...} does: a path relative to the working
directory (the walkthrough of docs/extending.md builds ./packages/metric-spread/dist/index.js)
or a package name found from there; its options are its defaults. --data names the dataset the
files come from (a data.kind, or a JSON object as in a config's "data") so that groups needing
its facts apply: mode centres (ring, grid), labels (mnist), genres (brown). A group asked for by name that needs what
eval does not have (a model, a training set without --training, a dataset's facts) is refused
with what it needs.

A .csv holds decimal numbers separated by commas; its first row may name the columns, but a
header of numbers cannot be told from data and is read as a sample: pandas' to_csv(index=False)
writes one (0,1,...) for integer column names, so write such a frame with header=False.

A value that cannot be computed prints as n/a with the reason (with --json: null, the reasons on
stderr). A group that fails does not hide the others: its values are n/a and the error is on
stderr.

Exit status: 0 when every group was computed; 1 when a group failed; 2 for bad input (files,
options, a group eval cannot compute, or a group the input cannot serve).
`
