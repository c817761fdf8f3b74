"""Per cell and generation: mean (min-max) over replicates of metrics from metrics.ndjson.
usage: records.py RUNDIR KEY [KEY ...] [--gens 0,5,9] [--per-seed] [--fmt .3g]
keys, separated by spaces or commas: the records' metrics (modes_covered, ...) and timings (fitMs, sampleMs,
evalMs); an unknown key is refused with the known ones. A run without metrics.ndjson (records.text false) needs `ouroboros export RUN --format ndjson`."""
import sys
import runlib

ap = runlib.Parser(prog='records.py', description='Per cell and generation: mean (min-max) over replicates of metrics from metrics.ndjson.')
ap.add_argument('run', metavar='RUNDIR'); ap.add_argument('keys', nargs='+', metavar='KEY', help='keys to tabulate, separated by spaces or commas'); ap.add_argument('--gens', metavar='G[,G...]'); ap.add_argument('--per-seed', action='store_true'); ap.add_argument('--fmt', default='.3g')
# Keys may come before, between or after the options.
a = ap.parse_intermixed_args()
runlib.check_fmt(a.fmt)
run = runlib.load_run(a.run); cells = {c['index']: c for c in run['cells']}
records = runlib.metric_records(a.run, run)
keys = [k for arg in a.keys for k in arg.split(',') if k]
metric_keys = sorted({k for r in records for k in r.get('metrics', {})})
timing_keys = sorted({k for r in records for k in r.get('timings', {})})
if not keys:
    runlib.die(f'{a.run}: no key given; the records have {", ".join(metric_keys + timing_keys)}')
for k in keys:
    if k not in metric_keys and k not in timing_keys:
        runlib.die(f'{a.run}: ' + runlib.unknown('no record has the key', k, metric_keys + timing_keys))
# Per cell and generation, each key's value by replicate: --per-seed lines them up, and a
# replicate that has not recorded a generation (stopped, failed) is said, not left out.
data = {}
for r in records:
    if r['generation'] < 0: continue
    d = data.setdefault(r['cell'], {}).setdefault(r['generation'], {})
    for k in keys:
        v = r['metrics'].get(k) if k in r['metrics'] else r.get('timings', {}).get(k)
        d.setdefault(k, {})[r['replicate']] = v
if not data:
    runlib.die(f'{a.run}: metrics.ndjson holds no generation yet (only the reference line, generation -1)')
replicates = {}
for ch in run['chains']:
    replicates.setdefault(ch.get('cell'), set()).add(ch.get('replicate'))
def generations_of(c):
    g = (cells.get(c, {}).get('config') or {}).get('generations', (run.get('config') or {}).get('generations'))
    return g if isinstance(g, int) else None
gens = None if a.gens is None else runlib.int_list(a.gens, '--gens')
if gens is not None:
    have = sorted({g for c in data.values() for g in c})
    most = max((n for n in map(generations_of, set(data) | set(cells)) if n is not None), default=None)
    for g in gens:
        # A generation the run is to reach is "not recorded yet"; one past its last is no generation of it.
        if g not in have and (most is None or not 0 <= g < most):
            runlib.die(f'--gens: no record of generation {g}; the records have generations {runlib.listing(have)}')
f = lambda x: format(x, a.fmt)
def fmt(by_replicate, c):
    order = sorted(replicates.get(c) or by_replicate, key=lambda r: (r is None, r))
    vs = [by_replicate.get(r) for r in order]
    if a.per_seed: return '/'.join(f(v) if runlib.is_number(v) else ('null' if r in by_replicate else 'not recorded') for r, v in zip(order, vs))
    v2 = runlib.numbers(by_replicate.values())
    if not v2: return 'null'
    m = sum(v2)/len(v2)
    shown = f(m) if min(v2) == max(v2) else f'{f(m)} ({f(min(v2))}–{f(max(v2))})'
    missing = sum(1 for r in order if r not in by_replicate)
    return shown if missing == 0 else f'{shown} [{len(order) - missing} of {len(order)} replicates]'
# Every cell of the run, those an unfinished run has not reached included, and every generation
# asked for, each said where a cell has no record of it.
for c in sorted(set(data) | set(cells)):
    print(f"## cell {c}: {cells[c]['label'] if c in cells else '?'}")
    if c not in data:
        print('no generation recorded yet')
        continue
    print('| gen | ' + ' | '.join(keys) + ' |')
    for g in sorted(set(data[c]) | set(gens or [])):
        if gens is not None and g not in gens: continue
        row = data[c].get(g)
        print(f'| {g} | ' + ' | '.join('not recorded yet' if row is None else fmt(row[k], c) for k in keys) + ' |')
