"""Fit Gao et al.'s forms to gold-reward curves: best-of-n  dG = d(a - b d); RL  dG = d(a - b ln d); d = sqrt(KL).
usage: gao_fit.py RUNDIR bon|rl [--group KEY[,KEY...]] [--per-replicate] [--only KEY=VALUE ...] [--generation G]
One fit per sweep cell (all the parameters the run sweeps), pooled over its replicates, then one per replicate of
the cell; rl pools every step. --group KEY pools the cells of each value of the swept KEY instead (each replicate
line is still one cell's). --per-replicate makes each replicate line one replicate's points over all the cells of
its group (with --group posttrain.0.reward.labels on ring-gmm-rl.json: 5 beta x 11 steps = 55 points).
--only KEY=VALUE keeps the cells whose swept KEY has that value (numbers compared as numbers: 1e-5 = 0.00001),
repeatable. Reads chains/<chain>/gen-G.posttrain.ndjson, G = --generation (0)."""
import math
import numpy as np
import sys
import runlib

FORMS = {'bon': 'best-of-n, dG = d(a - b d)', 'rl': 'RL, dG = d(a - b ln d)'}
ap = runlib.Parser(prog='gao_fit.py', description="Fit Gao et al.'s forms to the gold-reward curves of a run's cells.")
ap.add_argument('run', metavar='RUNDIR'); ap.add_argument('form', metavar='bon|rl')
ap.add_argument('--group', metavar='KEY[,KEY...]', help='swept parameter(s), comma-separated, whose values group the pooled fits (default: all, one fit per cell)')
ap.add_argument('--per-replicate', action='store_true', help="each replicate line fits one replicate over all its group's cells (default: one line per cell and replicate)")
ap.add_argument('--only', action='append', default=[], metavar='KEY=VALUE', help='keep the cells whose swept KEY is VALUE (repeatable)')
ap.add_argument('--generation', type=int, default=0, metavar='G', help='the generation whose post-training curves to fit (0)')
a = ap.parse_args()
if a.form not in FORMS:
    runlib.die(f"unknown form {a.form!r}: give {' or '.join(f'{k} ({v})' for k, v in FORMS.items())}")
run = runlib.load_run(a.run)
cells = {c['index']: c for c in run['cells']}
swept = sorted({k for c in run['cells'] for k in c.get('params', {})})
# The parameters whose value differs between cells: the ones that tell a cell apart.
varying = [k for k in swept if len({repr(c.get('params', {}).get(k)) for c in run['cells']}) > 1]

show = runlib.words

def matches(p, v):
    """Whether the swept value p is what was written as v: numerically where both are numbers."""
    if runlib.is_number(p):
        try: return float(v) == p
        except ValueError: return False
    if isinstance(p, bool) or p is None: return v.lower() == show(p)
    return str(p) == v

def numkey(s):
    try: return (0, float(s), '')
    except ValueError: return (1, 0, s)

keep = set(cells)
for only in a.only:
    k, eq, v = only.partition('=')
    if not eq or not k:
        runlib.die(f'--only {only!r}: give KEY=VALUE, a swept parameter and its value (the run sweeps {", ".join(swept) or "nothing"})')
    if k not in swept:
        runlib.die(f'--only {only}: ' + runlib.unknown('the run does not sweep', k, swept))
    hit = {i for i, c in cells.items() if matches(c['params'].get(k), v)}
    if not hit:
        values = sorted({show(c['params'].get(k)) for c in cells.values()}, key=numkey)
        runlib.die(f'--only {only}: no cell has {k}={v}; its values are {", ".join(values)}')
    keep &= hit
if not keep:
    runlib.die(f'--only {" ".join(a.only)}: no cell has all of these values at once')

if a.group is None:
    group = varying
else:
    group = a.group.split(',')
    for k in group:
        if k not in swept:
            sweeps = f"it sweeps {', '.join(swept)} (give one to --group)" if swept else 'it sweeps nothing, and --group names swept parameters'
            runlib.die(f'{a.run}: the run does not sweep {k}; {sweeps}')
# Told apart on each replicate's line; a line of --per-replicate spans the group's cells, so names none.
rest = [] if a.per_replicate else [k for k in varying if k not in group]

def label(p, ks):
    return ', '.join(f'{k}={show(p.get(k))}' for k in ks)

def order(p, ks):
    return tuple((0, p.get(k), '') if runlib.is_number(p.get(k)) else (1, 0, show(p.get(k))) for k in ks)

pts = {}  # group label -> (cell, replicate) -> list of (d, dG); cell None with --per-replicate
sort = {}
for ch, lines in runlib.posttrain_curves(a.run, run, a.generation):
    if ch['cell'] not in keep: continue
    p = cells[ch['cell']]['params']
    g = label(p, group) if group else 'all cells'
    sort[g] = order(p, group)
    lines = [l for l in lines if runlib.is_number(l.get('gold_reward'))]
    if not lines: continue
    g0 = lines[0]['gold_reward']
    for l in lines:
        if not runlib.is_number(l.get('kl')): continue
        pts.setdefault(g, {}).setdefault((None if a.per_replicate else ch['cell'], ch['replicate']), []).append((math.sqrt(max(l['kl'], 0)), l['gold_reward'] - g0))
if not pts:
    runlib.die(f'{a.run}: the chosen cells\' curves have no point with both gold_reward and kl to fit')

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

note = runlib.generation_note(run, a.generation)
if note: print(note)
for g in sorted(pts, key=lambda g: sort[g]):
    allp = [x for s in pts[g].values() for x in s]
    al, be, r2, pk, top, n = fit(allp)
    print(f'{g}: pooled  alpha={al:.3f} beta={be:.3f} R2={r2:.2f} peak d={pk:.2f} dG={top:.2f} (n={n})')
    for (c, s) in sorted(pts[g], key=lambda cs: (order(cells[cs[0]]['params'], rest) if cs[0] is not None else (), cs[1])):
        al, be, r2, pk, top, n = fit(pts[g][(c, s)])
        other = f' ({label(cells[c]["params"], rest)})' if rest else ''
        print(f'   seed {s}{other}: alpha={al:.3f} beta={be:.3f} R2={r2:.2f} peak d={pk:.2f} dG={top:.2f} (n={n})')
