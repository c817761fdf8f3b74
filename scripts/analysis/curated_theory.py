"""Closed-form recursions of the reward-curated loop (Luce / Bradley-Terry choice between 2 draws).
Ring: per-mode weights w, reward r: C(w)_k = 2 w_k sum_j w_j sigma(r_k - r_j); mix: w <- rho*u + (1-rho)*C(w).
Zipf unigram with per-sentence lexicon count reward: only q = lexicon mass matters; a sentence of L
tokens has c ~ Bin(L, q) lexicon tokens; kept c-distribution P'(c) = 2 P(c) sum_c' P(c') sigma(c - c')."""
import numpy as np
from scipy.stats import binom
sig = lambda x: 1/(1+np.exp(-x))
def ring(r, rho, G=10):
    r = np.array(r, float); K = len(r); u = np.ones(K)/K; w = u.copy(); out = []
    for g in range(G):
        c = 2*w*(sig(r[:,None]-r[None,:]) @ w)
        out.append((g, w@r, c@r, float(np.sum(w*np.log(w/u))), w.copy()))
        w = rho*u + (1-rho)*c
    return out
def zipf(V, s, L, lex, rho, G=10):
    p = np.arange(1, V+1, dtype=float)**-s; p /= p.sum(); q0 = p[np.array(lex)-1].sum(); q = q0; out = []
    cs = np.arange(L+1)
    for g in range(G):
        P = binom.pmf(cs, L, q); kept = 2*P*(sig(cs[:,None]-cs[None,:]) @ P)
        out.append((g, L*q, kept@cs, q))
        q = rho*q0 + (1-rho)*(kept@cs)/L
    return out
if __name__ == '__main__':
    import argparse, os, sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from runlib import Parser
    # No arguments: it prints the recursions for the settings docs/rlhf-collapse.md quotes.
    Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    for rho in [0, 0.1, 0.5]:
        print('ring rho', rho)
        for g, rm, rk, kl, w in ring([2,2,1,1,0,0,0,0], rho):
            print(f'  g{g}: E_w r {rm:.3f}  kept {rk:.3f}  KL(w|u) {kl:.3f}  w {np.round(w,3)}')
    for rho in [0, 0.1, 0.5]:
        print('zipf rho', rho)
        for g, rm, rk, q in zipf(1000, 1.1, 20, range(11, 21), rho):
            print(f'  g{g}: E r {rm:.3f} kept {rk:.3f} q {q:.4f}')
    print('README check, reward 2 on one mode, replace:', [round(float(x[4][0]),2) for x in ring([2,0,0,0,0,0,0,0], 0, 6)])
    print('README check, mix 0.5 fixed point:', round(float(ring([2,0,0,0,0,0,0,0], 0.5, 60)[-1][4][0]),3))
