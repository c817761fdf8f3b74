"""Reward-curated unigram chain with sentence lengths (the n-gram sampler: end token, maxLength cap).
Model state: e = P(end), pi = lexicon share of word tokens. A sentence has length l ~ Geom(e) capped
at 256, and c ~ Bin(l, pi) lexicon tokens. Luce choice between 2 draws keeps P'(l,c) = 2 P(l,c) E[sigma(R - R')].
MLE refit on N kept (plus rho*N real sentences of 20 tokens, lexicon share pi0): e = S/(T+S), pi = lexicon/T."""
import numpy as np
from scipy.stats import binom
from scipy.special import expit
MAXL = 256
def joint(e, pi):
    l = np.arange(MAXL+1); pl = (1-e)**l * e; pl[MAXL] = (1-e)**MAXL
    c = np.arange(MAXL+1)
    P = pl[:, None] * binom.pmf(c[None, :], l[:, None], pi)
    return P
def step(e, pi, per, T=1.0):
    P = joint(e, pi); l = np.arange(MAXL+1)[:, None]; c = np.arange(MAXL+1)[None, :]
    R = (c + 0*l).astype(float) if per == 'sentence' else np.where(l > 0, c/np.maximum(l, 1), 0.0) + 0*c
    mask = P > 1e-13
    r, p = R[mask], P[mask]
    u, inv = np.unique(np.round(r, 12), return_inverse=True); pu = np.bincount(inv, p)
    F = np.empty_like(u)
    for i in range(0, len(u), 2000): F[i:i+2000] = expit((u[i:i+2000, None] - u[None, :])/T) @ pu
    kept = np.zeros_like(P); kept[mask] = 2*p*F[inv]
    L = l + 0*c; C = c + 0*l
    return dict(reward=(P*R).sum(), kept_reward=(kept*R).sum(), length=(P*L).sum(), kept_length=(kept*L).sum(), kept_c=(kept*C).sum(), c=(P*C).sum())
def chain(per, rho, V=1000, s=1.1, lex=range(11, 21), G=10, T=1.0):
    p = np.arange(1, V+1, dtype=float)**-s; p /= p.sum(); pi0 = p[np.array(lex)-1].sum()
    e, pi = 1/21, pi0; out = []
    for g in range(G):
        m = step(e, pi, per, T); m.update(g=g, e=e, pi=pi); out.append(m)
        tok = rho*20 + (1-rho)*m["kept_length"]; lexc = rho*20*pi0 + (1-rho)*m["kept_c"]
        e, pi = 1/(tok+1), lexc/tok
    return out
if __name__ == '__main__':
    import argparse, os, sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from runlib import Parser
    # No arguments: it prints the chain for the settings docs/rlhf-collapse.md quotes.
    Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    for per in ['sentence', 'token']:
        for rho in [0, 0.1, 0.5]:
            print(f'per {per} rho {rho}')
            for m in chain(per, rho):
                print(f"  g{m['g']}: reward {m['reward']:.3f} kept {m['kept_reward']:.3f} len {m['length']:.1f} kept len {m['kept_length']:.1f} lexicon share {m['pi']:.4f}")
def show(per, rho, T):
    print(f'per {per} rho {rho} T {T}')
    for m in chain(per, rho, T=T):
        print(f"  g{m['g']}: reward {m['reward']:.3f} kept {m['kept_reward']:.3f} len {m['length']:.1f} kept len {m['kept_length']:.1f} lexicon share {m['pi']:.4f}")
