#!/usr/bin/python3
"""The transformer language model of packages/model-transformer, written the usual PyTorch way
(nanoGPT's model.py shape), for speed and correctness comparisons with the tfjs implementation.

Same spec: word tokens; vocabulary = the --max-vocab most frequent words of the training data
(ties by dataset id, the dataset's <unk> left out) plus <unk> and an end-of-sentence token;
training stream = an end of sentence, then every sentence in a seeded order, each followed by an
end of sentence; batches of --batch random windows of --context + 1 tokens; pre-LayerNorm blocks
(causal multi-head self-attention, GELU MLP in its tanh form), learned positions, final LayerNorm,
logits tied to the token embedding, no dropout, init N(0, 0.02) and zero biases; LayerNorm eps
1e-5; AdamW (betas 0.9, 0.95, eps 1e-8, decoupled weight decay on every 2-D parameter), linear
warm-up then cosine decay to 10 % of lr at the last step; gradient norm clipped at --clip.
Sampling starts from the end-of-sentence token and stops at the next one or after --context
tokens, batched, with a key/value cache; scoring counts each sentence's words and its end, in
windows of --context positions that advance by half of it for long sentences.

Modes (one JSON object per line on stdout):
  transformer_lm.py --data FILE.json [sizes] --samples N --seed S
      FILE.json: {"train": [[id, ...], ...], "heldout": [[...], ...], "vocab_size": int, "unk": int}
      trains, samples N sentences and scores the held-out ones, timing each phase.
  transformer_lm.py --check FILE.json
      FILE.json: the sizes, the initial weights (our layout: linear weights [in, out]) and the
      batches of each step; runs those steps and prints the loss of each and the final weights,
      so that a test can compare the tfjs implementation with PyTorch's autograd step by step.
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class Block(nn.Module):
    def __init__(self, C, H, Fh):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C, eps=1e-5)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C, eps=1e-5)
        self.c_fc = nn.Linear(C, Fh)
        self.mlp_proj = nn.Linear(Fh, C)
        self.H = H

    def attend(self, q, k, v, causal):
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
        if causal is not None:
            att = att.masked_fill(causal, float('-inf'))
        return F.softmax(att, dim=-1) @ v

    def forward(self, x, mask):
        B, T, C = x.size()
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        shape = (B, T, self.H, C // self.H)
        q, k, v = (t.view(shape).transpose(1, 2) for t in (q, k, v))
        y = self.attend(q, k, v, mask[:T, :T]).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate='tanh'))

    def decode(self, x, keys, values, slots, positions):
        """One position for each row; keys/values: [slots, H, T, dh], filled up to positions."""
        n, C = x.size()
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=1)
        dh = C // self.H
        keys[slots, :, positions] = k.view(n, self.H, dh)
        values[slots, :, positions] = v.view(n, self.H, dh)
        length = int(positions.max()) + 1
        K = keys[slots, :, :length]  # [n, H, L, dh]
        V = values[slots, :, :length]
        att = (K @ q.view(n, self.H, dh, 1)).squeeze(-1) * (1.0 / math.sqrt(dh))  # [n, H, L]
        beyond = torch.arange(length).view(1, 1, length) > positions.view(n, 1, 1)
        att = F.softmax(att.masked_fill(beyond, float('-inf')), dim=-1)
        y = (att.unsqueeze(2) @ V).view(n, C)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate='tanh'))


class GPT(nn.Module):
    def __init__(self, V, T, L, H, C, Fh):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList([Block(C, H, Fh) for _ in range(L)])
        self.ln_f = nn.LayerNorm(C, eps=1e-5)
        self.register_buffer('mask', torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1))
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if getattr(m, 'bias', None) is not None:
                    nn.init.zeros_(m.bias)

    def hidden(self, idx):
        T = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x, self.mask)
        return self.ln_f(x)

    def logits(self, idx):
        return self.hidden(idx) @ self.wte.weight.t()

    def optimizer(self, lr, weight_decay):
        decay = [p for p in self.parameters() if p.dim() >= 2]
        rest = [p for p in self.parameters() if p.dim() < 2]
        return torch.optim.AdamW([{'params': decay, 'weight_decay': weight_decay}, {'params': rest, 'weight_decay': 0.0}], lr=lr, betas=(0.9, 0.95), eps=1e-8)


def rate(step, steps, lr, warmup, floor=0.1):
    """Step is 1-based: linear warm-up to lr over `warmup` steps, then cosine to floor·lr at the last step."""
    if step <= warmup:
        return lr * step / warmup
    progress = (step - warmup) / (steps - warmup)
    return floor * lr + (1 - floor) * lr * 0.5 * (1 + math.cos(math.pi * progress))


def train_step(model, opt, inputs, targets, lr, clip):
    for g in opt.param_groups:
        g['lr'] = lr
    logits = model.logits(inputs)
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss.item()


def vocabulary(train, max_vocab, vocab_size, unk):
    counts = np.zeros(vocab_size, dtype=np.int64)
    for s in train:
        np.add.at(counts, np.asarray(s, dtype=np.int64), 1)
    counts[unk] = 0
    seen = np.flatnonzero(counts)
    order = seen[np.lexsort((seen, -counts[seen]))][:max_vocab]
    table = np.full(vocab_size, len(order), dtype=np.int64)
    table[order] = np.arange(len(order))
    return order, table


@torch.no_grad()
def sample(model, n, words, unk, T, slots, gen):
    """n sentences as dataset ids, slots decoded in parallel, each refilled when its sentence ends."""
    K = len(words)
    end = K + 1
    L, H, C = len(model.h), model.h[0].H, model.wte.weight.size(1)
    slots = min(n, slots)
    keys = [torch.zeros(slots, H, T, C // H) for _ in range(L)]
    values = [torch.zeros(slots, H, T, C // H) for _ in range(L)]
    owner = list(range(slots))
    nxt = slots
    pos = torch.zeros(slots, dtype=torch.long)
    last = torch.full((slots,), end, dtype=torch.long)
    written = [[] for _ in range(slots)]
    out = [None] * n
    word_ids = torch.tensor(np.append(words, unk))
    wt = model.wte.weight.t()
    while True:
        active = torch.tensor([s for s in range(slots) if owner[s] >= 0], dtype=torch.long)
        if len(active) == 0:
            break
        p = pos[active]
        x = model.wte(last[active]) + model.wpe(p)
        for l, block in enumerate(model.h):
            x = block.decode(x, keys[l], values[l], active, p)
        probs = F.softmax(model.ln_f(x) @ wt, dim=-1)
        tokens = torch.multinomial(probs, 1, generator=gen).squeeze(1)
        for i, s in enumerate(active.tolist()):
            t = int(tokens[i])
            done = t == end
            if not done:
                written[s].append(int(word_ids[t]))
            pos[s] += 1
            last[s] = t
            if done or pos[s] == T:
                out[owner[s]] = written[s]
                written[s] = []
                owner[s] = nxt if nxt < n else -1
                nxt += 1
                pos[s] = 0
                last[s] = end
    return out


@torch.no_grad()
def score(model, sentences, table, K, vocab_size, T):
    """Per-sentence log-probability: words and end, windows of T advancing by T // 2, <unk> spread over the unknown words."""
    end = K + 1
    S = max(1, T // 2)
    rows = []  # (sentence, inputs, targets, counted)
    for i, s in enumerate(sentences):
        seq = [end] + [int(table[w]) for w in s] + [end]
        P = len(seq) - 1
        w = 0
        while True:
            frm = w * S
            first = 0 if w == 0 else frm + T - S
            if w > 0 and first >= P:
                break
            n = min(T, P - frm)
            rows.append((i, seq[frm:frm + n], seq[frm + 1:frm + n + 1], [p >= first for p in range(frm, frm + n)]))
            if frm + T >= P:
                break
            w += 1
    rows.sort(key=lambda r: len(r[1]))
    out = np.zeros(len(sentences))
    spread = math.log(vocab_size - K)
    i = 0
    while i < len(rows):
        n = len(rows[i][1])
        j = i
        while j < len(rows) and len(rows[j][1]) == n and (j - i + 1) * n <= max(1024, n):
            j += 1
        group = rows[i:j]
        logp = F.log_softmax(model.logits(torch.tensor([r[1] for r in group])), dim=-1)
        picked = logp.gather(2, torch.tensor([r[2] for r in group]).unsqueeze(2)).squeeze(2).double()
        for k, (s, _, targets, counted) in enumerate(group):
            for p in range(n):
                if counted[p]:
                    out[s] += float(picked[k, p]) - (spread if targets[p] == K else 0.0)
        i = j
    return out


def run(args):
    with open(args.data) as f:
        d = json.load(f)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    words, table = vocabulary(d['train'], args.max_vocab, d['vocab_size'], d['unk'])
    K = len(words)
    end = K + 1
    stream = [end]
    for i in rng.permutation(len(d['train'])):
        stream.extend(int(table[w]) for w in d['train'][i])
        stream.append(end)
    stream = torch.tensor(stream)
    T, B = args.context, args.batch
    model = GPT(K + 2, T, args.layers, args.heads, args.dmodel, args.ffn)
    opt = model.optimizer(args.lr, args.weight_decay)
    offsets = torch.arange(T + 1)
    t0 = time.perf_counter()
    losses = []
    profile = None
    for step in range(1, args.steps + 1):
        if step == 2:
            t1 = time.perf_counter()
            c1 = time.process_time()
        if step == args.steps and args.profile:
            profile = torch.autograd.profiler.profile()
            profile.__enter__()
        starts = torch.from_numpy(rng.integers(0, len(stream) - T, B))
        windows = stream[starts.unsqueeze(1) + offsets]
        losses.append(train_step(model, opt, windows[:, :-1], windows[:, 1:], rate(step, args.steps, args.lr, args.warmup), args.clip))
    t2 = time.perf_counter()
    c2 = time.process_time()
    if profile is not None:
        profile.__exit__(None, None, None)
    # The first step (allocations, kernel selection) is left out of the time per step.
    # CPU seconds are given too: on a shared machine they move far less with the load than wall time.
    per_step = (t2 - t1) / (args.steps - 1) if args.steps > 1 else t2 - t0
    cpu_per_step = (c2 - c1) / (args.steps - 1) if args.steps > 1 else None
    print(json.dumps({'phase': 'train', 'steps': args.steps, 'seconds': t2 - t0, 'seconds_per_step': per_step, 'cpu_seconds_per_step': cpu_per_step,
                      'loss': float(np.mean(losses[-100:]))}), flush=True)
    if profile is not None:
        ops = sorted(profile.key_averages(), key=lambda e: -e.self_cpu_time_total)
        print(json.dumps({'phase': 'profile', 'step_ms': sum(e.self_cpu_time_total for e in ops) / 1000,
                          'ops': [{'name': e.key, 'calls': e.count, 'self_ms': e.self_cpu_time_total / 1000} for e in ops[:15]]}), flush=True)
    model.eval()
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    c0 = time.process_time()
    sampled = sample(model, args.samples, words, d['unk'], T, args.slots, gen)
    sample_seconds = time.perf_counter() - t0
    # Tokens: the words and an end for each sentence that ended before the context did.
    tokens = sum(len(s) + (1 if len(s) < T else 0) for s in sampled)
    print(json.dumps({'phase': 'sample', 'sentences': args.samples, 'tokens': tokens, 'seconds': sample_seconds, 'cpu_seconds': time.process_time() - c0,
                      'words_per_sentence': float(np.mean([len(s) for s in sampled])) if sampled else 0.0}), flush=True)
    t0 = time.perf_counter()
    c0 = time.process_time()
    ll = score(model, d['heldout'], table, K, d['vocab_size'], T)
    score_seconds = time.perf_counter() - t0
    tokens = sum(len(s) + 1 for s in d['heldout'])
    print(json.dumps({'phase': 'score', 'sentences': len(d['heldout']), 'seconds': score_seconds, 'cpu_seconds': time.process_time() - c0,
                      'perplexity': math.exp(-ll.sum() / tokens)}), flush=True)


def check(path):
    with open(path) as f:
        d = json.load(f)
    s = d['dims']
    model = GPT(s['vocab'], s['context'], s['layers'], s['heads'], s['dModel'], s['ffn']).double()
    names = {'wte': 'wte.weight', 'wpe': 'wpe.weight', 'ln_f.weight': 'ln_f.weight', 'ln_f.bias': 'ln_f.bias'}
    for l in range(s['layers']):
        for ours, theirs in [('ln_1', 'ln_1'), ('attn.c_attn', 'c_attn'), ('attn.c_proj', 'c_proj'), ('ln_2', 'ln_2'), ('mlp.c_fc', 'c_fc'), ('mlp.c_proj', 'mlp_proj')]:
            for kind in ('weight', 'bias'):
                names[f'h.{l}.{ours}.{kind}'] = f'h.{l}.{theirs}.{kind}'
    params = dict(model.named_parameters())
    with torch.no_grad():
        for w in d['weights']:
            t = torch.tensor(w['data'], dtype=torch.float64).view(w['shape'])
            # Our linear weights are [in, out]; nn.Linear's are [out, in].
            params[names[w['name']]].copy_(t.t() if len(w['shape']) == 2 and w['name'].startswith('h.') else t)
    o = d['optimizer']
    opt = model.optimizer(o['lr'], o['weightDecay'])
    losses = []
    for step, batch in enumerate(d['batches'], start=1):
        T = len(batch['inputs'][0])
        lr = rate(step, o['steps'], o['lr'], o['warmup'])
        losses.append(train_step(model, opt, torch.tensor(batch['inputs']), torch.tensor(batch['targets']), lr, o['clip']))
    final = {}
    for ours, theirs in names.items():
        t = params[theirs].detach()
        final[ours] = (t.t() if t.dim() == 2 and ours.startswith('h.') else t).reshape(-1).tolist()
    print(json.dumps({'losses': losses, 'weights': final}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data')
    p.add_argument('--check')
    p.add_argument('--context', type=int, default=64)
    p.add_argument('--layers', type=int, default=2)
    p.add_argument('--heads', type=int, default=4)
    p.add_argument('--dmodel', type=int, default=128)
    p.add_argument('--ffn', type=int, default=512)
    p.add_argument('--max-vocab', type=int, default=8192)
    p.add_argument('--steps', type=int, default=1000)
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--warmup', type=int, default=50)
    p.add_argument('--weight-decay', type=float, default=0.01)
    p.add_argument('--clip', type=float, default=1.0)
    p.add_argument('--samples', type=int, default=1000)
    p.add_argument('--slots', type=int, default=256)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--profile', action='store_true', help='profile the last training step (torch.autograd.profiler) and print its ops')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.check:
        check(args.check)
    elif args.data:
        run(args)
    else:
        p.error('give --data or --check')


if __name__ == '__main__':
    main()
