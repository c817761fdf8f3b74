"""Tabulate post-training curves: per cell and step, mean (min-max) over replicates.
usage: curves.py RUNDIR KEY [KEY ...] [--steps 0,1,2] [--stage N] [--cells 0,1] [--generation G] [--fmt .3g] [--per-seed]
keys, separated by spaces or commas: reward, gold_reward, kl, sqrt_kl, loss.X (a training loss, also losses.X or X
alone: kl_coefficient) or a metric name (metrics.X); an unknown key, step, stage or cell is refused with the known ones. Reads
chains/<chain>/gen-G.posttrain.ndjson, G = --generation (0 by default; a run of several generations says which it
read).
"""
import math
import sys
import runlib

ap = runlib.Parser(prog='curves.py', description='Post-training curves per cell and step: mean (min-max) over replicates.')
ap.add_argument('run', metavar='RUNDIR'); ap.add_argument('keys', nargs='+', metavar='KEY', help='keys to tabulate, separated by spaces or commas')
ap.add_argument('--steps', metavar='S[,S...]'); ap.add_argument('--stage', type=int, metavar='N'); ap.add_argument('--fmt', default='.3g')
ap.add_argument('--per-seed', action='store_true'); ap.add_argument('--cells', metavar='C[,C...]')
ap.add_argument('--generation', type=int, default=0, metavar='G', help="the generation whose post-training curves to read (0)")
# Keys may come before, between or after the options.
a = ap.parse_intermixed_args()
runlib.check_fmt(a.fmt)
run = runlib.load_run(a.run)
cells = {c['index']: c for c in run['cells']}
curves = runlib.posttrain_curves(a.run, run, a.generation)
NOT_KEYS = {'stage', 'step', 'metrics', 'losses'}
def val(p, k):
    if k == 'sqrt_kl':
        v = p.get('kl'); return None if not runlib.is_number(v) else math.sqrt(max(v, 0))
    if k in p and k not in NOT_KEYS: return p[k]
    if k.startswith('loss.'): return (p.get('losses') or {}).get(k[5:])
    if k.startswith('metrics.'): k = k[8:]
    return (p.get('metrics') or {}).get(k)
# The keys of numbers (or nulls) in the curves (reward_description, kind and the like are text).
known = set()
for _, lines in curves:
    for p in lines:
        known |= {k for k, v in p.items() if k not in NOT_KEYS and (v is None or runlib.is_number(v))}
        known |= {k for k, v in (p.get('metrics') or {}).items() if v is None or runlib.is_number(v)}
        known |= {'loss.' + k for k, v in (p.get('losses') or {}).items() if v is None or runlib.is_number(v)}
if 'kl' in known: known.add('sqrt_kl')
known = sorted(known)
losses = {k[5:] for k in known if k.startswith('loss.')}
def named(k):
    # A loss as posttrain.ndjson spells it (losses.X) or by its name alone, as the README names
    # kl_coefficient and preference_loss, where no other key has that name.
    if k.startswith('losses.'): return 'loss.' + k[7:]
    if k in losses and k not in known: return 'loss.' + k
    return k
keys = [named(k) for arg in a.keys for k in arg.split(',') if k]
if not keys:
    runlib.die(f'{a.run}: no key given; the post-training curves have {", ".join(known)}')
for k in keys:
    if k not in known and not (k.startswith('metrics.') and k[8:] in known):
        # A loss misspelt by its name alone is near that name, not near loss.NAME.
        near = known + sorted(l for l in losses if l not in known)
        runlib.die(f'{a.run}: ' + runlib.unknown('the post-training curves have no numeric key', k, near))
stages = sorted({p['stage'] for _, lines in curves for p in lines})
if a.stage is not None and a.stage not in stages:
    runlib.die(f'--stage {a.stage}: the curves have stages {runlib.listing(stages)}')
data = {}  # cell -> (stage, step) -> key -> [vals]
for ch, lines in sorted(curves, key=lambda x: (x[0]['cell'], x[0]['replicate'])):
    for p in lines:
        if a.stage is not None and p['stage'] != a.stage: continue
        d = data.setdefault(ch['cell'], {}).setdefault((p['stage'], p['step']), {})
        for k in keys: d.setdefault(k, []).append(val(p, k))
steps = None if a.steps is None else runlib.int_list(a.steps, '--steps')
if steps is not None:
    have = sorted({s for c in data.values() for (_, s) in c})
    for s in steps:
        if s not in have:
            where = '' if a.stage is None else f' of stage {a.stage}'
            runlib.die(f'--steps: no curve point at step {s}; the curves{where} have steps {runlib.listing(have)}')
want = None if a.cells is None else runlib.int_list(a.cells, '--cells')
if want is not None:
    for c in want:
        if c not in data:
            runlib.die(f'--cells: no curve of cell {c}; the cells with curves are {runlib.listing(sorted(data))}')
def fmt(vs):
    vs2 = runlib.numbers(vs)
    if not vs2: return 'null'
    m = sum(vs2)/len(vs2)
    f = lambda x: format(x, a.fmt)
    if a.per_seed: return '/'.join(f(v) if runlib.is_number(v) else 'null' for v in vs)
    if min(vs2) == max(vs2): return f(m)
    return f'{f(m)} ({f(min(vs2))}–{f(max(vs2))})'
note = runlib.generation_note(run, a.generation)
if note: print(note)
for ci in sorted(data):
    if want is not None and ci not in want: continue
    print(f"## cell {ci}: {cells[ci]['label'] if ci in cells else '?'}")
    print('| stage | step | ' + ' | '.join(keys) + ' |')
    for (st, s) in sorted(data[ci]):
        if steps is not None and s not in steps: continue
        d = data[ci][(st, s)]
        print(f'| {st} | {s} | ' + ' | '.join(fmt(d[k]) for k in keys) + ' |')
