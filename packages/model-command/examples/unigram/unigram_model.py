"""A unigram language model fit by maximum likelihood, served to Ouroboros on text data: each
word's probability is its count over the training tokens, and a sentence's length is drawn from
the training sentences' lengths (with item weights, an rl stage's refit, both counts weighted). On data/configs/zipf-unigram.json's Zipf sentences (all of one
length) a chain of it is pure resampling, whose loss of word types has an exact prediction."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from ouroboros_model import serve


class Unigram:
    def __init__(self, params):
        self.probs = self.lengths = None

    def fit(self, sentences, rng, warm, weights=None):
        # With weights (an rl stage's refit): the maximiser of Σ w_i log p(sentence_i), weighted counts.
        w = np.ones(len(sentences)) if weights is None else np.asarray(weights, dtype=np.float64)
        lengths = np.array([len(s) for s in sentences], dtype=np.int64)
        tokens = np.concatenate(sentences) if len(sentences) else np.zeros(0, dtype=np.int64)
        counts = np.bincount(tokens, weights=np.repeat(w, lengths), minlength=sentences.vocab_size)
        self.probs = counts / counts.sum()
        self.lengths = lengths
        self.length_weights = w / w.sum()
        if sentences.vocabulary is not None:
            print(f"fit on {len(sentences)} sentences; most frequent word: {sentences.vocabulary[int(counts.argmax())]!r}")

    def sample(self, n, rng, temperature):
        # Equal weights draw as an unweighted choice does (numpy draws differently when given p).
        equal = np.all(self.length_weights == self.length_weights[0])
        lengths = rng.choice(self.lengths, size=n, p=None if equal else self.length_weights)
        p = self.probs ** (1 / temperature)
        tokens = rng.choice(p.size, size=int(lengths.sum()), p=p / p.sum())
        # np.split of nothing would give one empty sentence, not none.
        return np.split(tokens, np.cumsum(lengths)[:-1]) if n > 0 else []

    def log_likelihood(self, sentences):
        # log P(length) + Σ log p(word): the sentence's probability with its end, as Ouroboros asks.
        values, where = np.unique(self.lengths, return_inverse=True)
        length_logp = dict(zip(values.tolist(), np.log(np.bincount(where, weights=self.length_weights)).tolist()))
        with np.errstate(divide="ignore"):
            logp = np.log(self.probs)
        return np.array([length_logp.get(len(s), -np.inf) + logp[s].sum() for s in sentences])

    def save(self, path):
        np.save(os.path.join(path, "probs.npy"), self.probs)
        np.save(os.path.join(path, "lengths.npy"), self.lengths)
        np.save(os.path.join(path, "length_weights.npy"), self.length_weights)

    def load(self, path):
        self.probs = np.load(os.path.join(path, "probs.npy"))
        self.lengths = np.load(os.path.join(path, "lengths.npy"))
        self.length_weights = np.load(os.path.join(path, "length_weights.npy"))


serve(Unigram)
