"""Tabulate post-training curves: per cell and step, mean (min-max) over replicates.
usage: curves.py RUNDIR key[,key...] [--steps 0,1,2] [--stage N] [--fmt .3g] [--per-seed]
keys: reward, gold_reward, kl, sqrt_kl, or a metric name (metrics.X); derived: nontask = modes_covered-2 etc. via expr
"""
import json, sys, os, math, argparse
ap = argparse.ArgumentParser()
ap.add_argument('run'); ap.add_argument('keys')
ap.add_argument('--steps'); ap.add_argument('--stage', type=int); ap.add_argument('--fmt', default='.3g')
ap.add_argument('--per-seed', action='store_true'); ap.add_argument('--cells')
a = ap.parse_args()
run = json.load(open(os.path.join(a.run, 'run.json')))
cells = {c['index']: c for c in run['cells']}
chains = run['chains']
def val(p, k):
    if k == 'sqrt_kl':
        v = p.get('kl'); return None if v is None else math.sqrt(max(v, 0))
    if k in p and k != 'metrics': return p[k]
    if k.startswith('loss.'): return p['losses'].get(k[5:])
    return p['metrics'].get(k)
keys = a.keys.split(',')
data = {}  # cell -> step -> key -> [vals]
for ch in chains:
    f = os.path.join(a.run, 'chains', ch['id'], 'gen-000000.posttrain.ndjson')
    if not os.path.exists(f): continue
    for line in open(f):
        p = json.loads(line)
        if a.stage is not None and p['stage'] != a.stage: continue
        d = data.setdefault(ch['cell'], {}).setdefault((p['stage'], p['step']), {})
        for k in keys: d.setdefault(k, []).append(val(p, k))
def fmt(vs):
    vs2 = [v for v in vs if v is not None]
    if not vs2: return 'null'
    m = sum(vs2)/len(vs2)
    f = lambda x: format(x, a.fmt)
    if a.per_seed: return '/'.join(f(v) if v is not None else 'null' for v in vs)
    if min(vs2) == max(vs2): return f(m)
    return f'{f(m)} ({f(min(vs2))}–{f(max(vs2))})'
steps = None if a.steps is None else [int(s) for s in a.steps.split(',')]
want = None if a.cells is None else [int(c) for c in a.cells.split(',')]
for ci in sorted(data):
    if want is not None and ci not in want: continue
    print(f"## cell {ci}: {cells[ci]['label']}")
    print('| stage | step | ' + ' | '.join(keys) + ' |')
    for (st, s) in sorted(data[ci]):
        if steps is not None and s not in steps: continue
        d = data[ci][(st, s)]
        print(f'| {st} | {s} | ' + ' | '.join(fmt(d[k]) for k in keys) + ' |')
