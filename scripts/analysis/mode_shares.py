"""Per chain: share of final samples nearest each ring mode, and HQ share, from gen-000000.samples.npy."""
import json, os, sys, numpy as np
run = sys.argv[1]; R = json.load(open(os.path.join(run, 'run.json'))); cells = {c['index']: c for c in R['cells']}
ang = 2*np.pi*np.arange(8)/8; C = np.c_[2*np.cos(ang), 2*np.sin(ang)]
by = {}
for ch in R['chains']:
    f = os.path.join(run, 'chains', ch['id'], 'gen-000000.samples.npy')
    if not os.path.exists(f): continue
    x = np.load(f); d = np.sqrt(((x[:, None, :] - C[None])**2).sum(-1)); k = d.argmin(1); hq = d.min(1) <= 0.06
    share = np.bincount(k, minlength=8)/len(x)
    by.setdefault(ch['cell'], []).append((share[2:].sum(), (share[2:] >= 0.01).sum(), hq.mean(), np.round(share, 3)))
for c in sorted(by):
    v = by[c]
    print(cells[c]['label'], '| non-task share', '/'.join(f'{a[0]:.3f}' for a in v), '| non-task modes with >=1% of samples (any quality)', '/'.join(str(a[1]) for a in v), '| HQ', '/'.join(f'{a[2]:.2f}' for a in v))
