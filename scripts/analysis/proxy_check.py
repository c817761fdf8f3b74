"""Independent numpy check of the kernel ridge proxy on the ring: how often a proxy fit to L labelled
reference draws rates mode 0 (the trap) above every other mode, for L = 50, 200, 1000.
usage: proxy_check.py WEIGHTS GOLD NOISE [RIDGE] [SEEDS]   (WEIGHTS, GOLD: 8 comma-separated values)"""
import numpy as np, sys
def ring(n, w, rng):
    w = np.array(w, float); w /= w.sum()
    k = rng.choice(8, n, p=w); a = 2*np.pi*k/8
    return np.c_[2*np.cos(a), 2*np.sin(a)] + 0.02*rng.standard_normal((n,2)), k
def fit(x, y, ridge=1e-3):
    n = len(x); d = np.sqrt(((x[:,None]-x[None])**2).sum(-1)); iu = np.triu_indices(n,1)
    h = np.sort(d[iu])[len(iu[0])>>1]; g = 1/(2*h*h)
    K = np.exp(-g*d**2); m = y.mean(); a = np.linalg.solve(K + ridge*n*np.eye(n), y-m)
    return lambda z: m + np.exp(-g*((z[:,None]-x[None])**2).sum(-1)) @ a, h
USAGE = 'usage: proxy_check.py WEIGHTS GOLD NOISE [RIDGE] [SEEDS]   (WEIGHTS, GOLD: 8 comma-separated values)'
def die(msg): print(f'error: {msg}; {USAGE}', file=sys.stderr); sys.exit(2)
if not 4 <= len(sys.argv) <= 6: die('give WEIGHTS, GOLD and NOISE')
try:
    ridge = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-3
    w = [float(v) for v in sys.argv[1].split(',')]; gold = np.array([float(v) for v in sys.argv[2].split(',')]); noise = float(sys.argv[3])
    seeds = int(sys.argv[5]) if len(sys.argv) > 5 else 5
except ValueError as e: die(f'not a number ({e})')
if len(w) != 8 or len(gold) != 8: die(f'WEIGHTS and GOLD need 8 values each (got {len(w)} and {len(gold)})')
if min(w) < 0 or sum(w) <= 0: die('WEIGHTS must be >= 0 and not all 0')
centres = np.c_[2*np.cos(2*np.pi*np.arange(8)/8), 2*np.sin(2*np.pi*np.arange(8)/8)]
for L in [50, 200, 1000]:
    rows = []
    for s in range(seeds):
        rng = np.random.default_rng(s)
        x, k = ring(L, w, rng); y = gold[k] + noise*rng.standard_normal(L)
        f, h = fit(x, y, ridge)
        rows.append(f(centres))
    rows = np.array(rows)
    print(L, "h=%.2f" % h, "P(argmax=0)", (rows.argmax(1)==0).mean(), "mean gap p0-max(p1..)", np.round((rows[:,0]-rows[:,1:].max(1)).mean(),2), '\n  mean', np.round(rows.mean(0), 2), '\n  sd  ', np.round(rows.std(0), 2))
