"""Fit Gao et al.'s forms to gold-reward curves: best-of-n  dG = d(a - b d); RL  dG = d(a - b ln d); d = sqrt(KL).
usage: gao_fit.py RUNDIR bon|rl [--group KEY]   (cells grouped by the swept KEY value, by default posttrain.0.reward.labels,
or the run's one swept parameter where it sweeps no labels; rl pools every beta and step)"""
import json, os, sys, math, argparse
import numpy as np
DEFAULT_GROUP = 'posttrain.0.reward.labels'
ap = argparse.ArgumentParser(); ap.add_argument('run'); ap.add_argument('form'); ap.add_argument('--group'); ap.add_argument('--only')
a = ap.parse_args()
run = json.load(open(os.path.join(a.run, 'run.json')))
cells = {c['index']: c for c in run['cells']}
swept = sorted({k for c in run['cells'] for k in c['params']})
# A run swept over one thing only (a beta) is grouped by it; a KeyError would say nothing of what the run sweeps.
if a.group is None: a.group = DEFAULT_GROUP if DEFAULT_GROUP in swept or len(swept) != 1 else swept[0]
if a.group not in swept:
    sweeps = f"it sweeps {', '.join(swept)} (give one to --group)" if swept else 'it sweeps nothing, and the fits are of cells grouped by a swept parameter'
    print(f'error: {a.run}: the run does not sweep {a.group}; {sweeps}', file=sys.stderr)
    sys.exit(2)
pts = {}  # group -> seed -> list of (d, dG)
for ch in run['chains']:
    p = cells[ch['cell']]['params']
    if a.only:
        k, v = a.only.split('=')
        if str(p.get(k)) != v: continue
    g = p[a.group]
    f = os.path.join(a.run, 'chains', ch['id'], 'gen-000000.posttrain.ndjson')
    if not os.path.exists(f): continue
    lines = [json.loads(l) for l in open(f)]
    g0 = lines[0]['gold_reward']
    for l in lines:
        if l['kl'] is None: continue
        pts.setdefault(g, {}).setdefault(ch['replicate'], []).append((math.sqrt(max(l['kl'], 0)), l['gold_reward'] - g0))
def fit(P):
    d = np.array([x for x, _ in P]); y = np.array([v for _, v in P])
    if a.form == 'bon': X = np.c_[d, -d*d]
    else: X = np.c_[d, -d*np.log(np.where(d > 0, d, 1))]
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    res = y - X @ coef; r2 = 1 - (res @ res) / (((y - y.mean())**2).sum() or 1)
    al, be = coef
    if a.form == 'bon': peak = al/(2*be) if be > 0 else float('inf'); top = al*peak - be*peak**2 if be > 0 else float('nan')
    else: peak = math.exp(al/be - 1) if be > 0 else float('inf'); top = peak*(al - be*math.log(peak)) if be > 0 else float('nan')
    return al, be, r2, peak, top, len(P)
for g in sorted(pts):
    allp = [x for s in pts[g].values() for x in s]
    print(f'{a.group}={g}: pooled  alpha={fit(allp)[0]:.3f} beta={fit(allp)[1]:.3f} R2={fit(allp)[2]:.2f} peak d={fit(allp)[3]:.2f} dG={fit(allp)[4]:.2f} (n={len(allp)})')
    for s in sorted(pts[g]):
        al, be, r2, pk, top, n = fit(pts[g][s])
        print(f'   seed {s}: alpha={al:.3f} beta={be:.3f} R2={r2:.2f} peak d={pk:.2f} dG={top:.2f} (n={n})')
