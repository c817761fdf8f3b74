"""Per cell and generation: mean (min-max) over replicates of metrics from metrics.ndjson.
usage: records.py RUNDIR key[,key] [--gens 0,5,9] [--per-seed]"""
import json, sys, os, argparse
ap = argparse.ArgumentParser(); ap.add_argument('run'); ap.add_argument('keys'); ap.add_argument('--gens'); ap.add_argument('--per-seed', action='store_true'); ap.add_argument('--fmt', default='.3g')
a = ap.parse_args()
run = json.load(open(os.path.join(a.run, 'run.json'))); cells = {c['index']: c for c in run['cells']}
keys = a.keys.split(','); data = {}
for l in open(os.path.join(a.run, 'metrics.ndjson')):
    r = json.loads(l)
    if r['generation'] < 0: continue
    d = data.setdefault(r['cell'], {}).setdefault(r['generation'], {})
    for k in keys:
        v = r['metrics'].get(k) if k in r['metrics'] else r.get('timings', {}).get(k)
        d.setdefault(k, []).append(v)
gens = None if a.gens is None else [int(g) for g in a.gens.split(',')]
f = lambda x: format(x, a.fmt)
def fmt(vs):
    v2 = [v for v in vs if v is not None]
    if not v2: return 'null'
    if a.per_seed: return '/'.join(f(v) if v is not None else 'null' for v in vs)
    m = sum(v2)/len(v2)
    return f(m) if min(v2) == max(v2) else f'{f(m)} ({f(min(v2))}–{f(max(v2))})'
for c in sorted(data):
    print(f"## cell {c}: {cells[c]['label']}")
    print('| gen | ' + ' | '.join(keys) + ' |')
    for g in sorted(data[c]):
        if gens is not None and g not in gens: continue
        print(f'| {g} | ' + ' | '.join(fmt(data[c][g][k]) for k in keys) + ' |')
