"""Per cell, each replicate's final samples (the last generation's gen-NNNNNN.samples.npy, after any post-training):
the share nearest a non-task mode (whatever their quality), the non-task modes holding >= 1 % of the samples, and the
high-quality share (within qualityStds, 3 by default, standard deviations of the nearest mode, as the `modes` metric).
Task modes: those of weight > 0 in the cell's finetuning stage's data.weights; a run without one has no task, and
gets the modes holding >= 1 % instead. Ring and grid runs only (2-D samples).
usage: mode_shares.py RUNDIR [--generation G]   (G: the generation whose samples to read; the last by default)"""
import os, sys
import numpy as np
import runlib

ap = runlib.Parser(prog='mode_shares.py', description="Where each replicate's final samples lie among the ring's or grid's modes.")
ap.add_argument('run', metavar='RUNDIR')
ap.add_argument('--generation', type=int, metavar='G', help='the generation whose samples to read (the last)')
a = ap.parse_args()
R = runlib.load_run(a.run); cells = {c['index']: c for c in R['cells']}
gens = runlib.generations_of(R)
if a.generation is None:
    if gens is None: runlib.die(f'{a.run}: run.json does not say how many generations the run has; give --generation G')
    a.generation = gens - 1
elif gens is not None and not 0 <= a.generation < gens:
    runlib.die(f'--generation {a.generation}: the run has ' + (f'generations 0–{gens - 1}' if gens > 1 else 'generation 0 only'))

def config(c):
    return cells[c].get('config') or R.get('config') or {}

def centres(c):
    """The mode centres and std of cell c's data, or a one-line error for data that has no modes."""
    d = config(c).get('data', {})
    kind = d.get('kind')
    if kind == 'ring':
        k = d.get('modes', 8); ang = 2*np.pi*np.arange(k)/k; r = d.get('radius', 2)
        return np.c_[r*np.cos(ang), r*np.sin(ang)], d.get('std', 0.02)
    if kind == 'grid':
        g = np.array([-4, -2, 0, 2, 4], float)
        return np.array([(x, y) for y in g for x in g]), d.get('std', 0.05)
    what = 'a token run' if R.get('modality') == 'tokens' or (R.get('dataset') or {}).get('modality') == 'tokens' else 'not a ring or grid run'
    runlib.die(f"{a.run}: cell {c} has data {kind!r}, {what}; mode_shares.py reads the 2-D samples of ring and grid runs "
               "(for other runs: `records.py RUN KEYS` on their metrics)")

def task_modes(c):
    """Modes of weight > 0 in the last finetuning stage's data.weights, and where they come from; else None."""
    for i, st in reversed(list(enumerate(config(c).get('posttrain') or []))):
        w = (st.get('data') or {}).get('weights') if st.get('kind') == 'finetune' else None
        if w is not None:
            return [k for k, v in enumerate(w) if v > 0], f'posttrain.{i}.data.weights'
    return None

q = ((R.get('metricOptions') or {}).get('modes') or {}).get('qualityStds', 3)
name = f'gen-{a.generation:06d}.samples.npy'
by, missing, tasks = {}, [], {}
for ch in sorted(R['chains'], key=lambda ch: (ch['cell'], ch['replicate'])):
    C, std = centres(ch['cell'])
    f = os.path.join(a.run, 'chains', ch['id'], name)
    if not os.path.exists(f):
        missing.append(ch['id']); continue
    x = np.load(f)
    if x.ndim != 2 or x.shape[1] != 2:
        runlib.die(f'{f}: samples of shape {x.shape}, not 2-D points')
    d = np.sqrt(((x[:, None, :] - C[None])**2).sum(-1)); k = d.argmin(1); hq = d.min(1) <= q*std
    share = np.bincount(k, minlength=len(C))/len(x)
    t = task_modes(ch['cell']); tasks[ch['cell']] = t
    other = np.ones(len(C), bool)
    if t is not None: other[t[0]] = False
    by.setdefault(ch['cell'], []).append((share[other].sum(), (share[other] >= 0.01).sum(), hq.mean()))
runlib.note_unfinished(a.run, R)
if not by:
    runlib.die(f'{a.run}: no chain has chains/<chain>/{name} (the run has not reached generation {a.generation}, or kept no samples '
               'of it); --generation G reads another generation')
if missing:
    print(f'note: {len(missing)} of {len(R["chains"])} chains have no {name} and are left out: {runlib.listing(missing, 8)}', file=sys.stderr)
last = ' (the last)' if gens is not None and a.generation == gens - 1 else ''
print(f'# samples of generation {a.generation}{last}, {name}; HQ: within {q:g} std of the nearest mode')
for c in sorted(by):
    v = by[c]; t = tasks[c]
    if t is None:
        print(cells[c]['label'], '| no finetuning task: modes with >=1% of samples (any quality)', '/'.join(str(a[1]) for a in v), '| HQ', '/'.join(f'{a[2]:.2f}' for a in v))
        continue
    print(cells[c]['label'], f"| task modes {','.join(map(str, t[0]))} ({t[1]})", '| non-task share', '/'.join(f'{a[0]:.3f}' for a in v), '| non-task modes with >=1% of samples (any quality)', '/'.join(str(a[1]) for a in v), '| HQ', '/'.join(f'{a[2]:.2f}' for a in v))
