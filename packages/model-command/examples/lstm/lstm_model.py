"""A word-level LSTM language model in PyTorch, served to Ouroboros on text data: embedding ->
LSTM -> a softmax over the data's words and an end of sentence. Each sentence is read from an end
of sentence (its start) to its own end, never seeing the one before, as Ouroboros scores text.
Trained with Adam on reshuffled minibatches of whole sentences; sampled at a temperature, at most
max_length words (a sentence cut there has no end, and is scored without one). Finetuning and
policy-gradient RL stages train it with Adam on minibatches of weighted sentences."""
import json
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from ouroboros_model import progress, serve


class Net(nn.Module):
    def __init__(self, vocab_size, embed, hidden):
        super().__init__()
        # Ids 0..V-1 are the data's words, V is the end of sentence (and the start of each one).
        self.embed = nn.Embedding(vocab_size + 1, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size + 1)

    def forward(self, x, state=None):
        h, state = self.lstm(self.embed(x), state)
        return self.out(h), state


class WordLSTM:
    def __init__(self, params):
        self.embed = params.get("embed", 64)
        self.hidden = params.get("hidden", 128)
        self.epochs = params.get("epochs", 5)
        self.batch = params.get("batch", 32)
        self.lr = params.get("lr", 3e-3)
        self.max_length = params.get("maxLength", 100)
        torch.set_num_threads(params.get("threads", 1))
        self.net = None

    def _build(self, vocab_size):
        self.vocab_size = vocab_size
        self.net = Net(vocab_size, self.embed, self.hidden)

    def _batch(self, sentences, as_sampled=False):
        """Inputs (the end, then the words) and targets (the words, then the end), padded with -1.
        as_sampled: a sentence of max_length words gets no end, as the sampler cuts it there."""
        end = self.vocab_size
        width = max(len(s) for s in sentences) + 1
        inputs = torch.full((len(sentences), width), end, dtype=torch.long)
        targets = torch.full((len(sentences), width), -1, dtype=torch.long)
        for i, s in enumerate(sentences):
            s = torch.as_tensor(s, dtype=torch.long)
            inputs[i, 1 : len(s) + 1] = s
            targets[i, : len(s)] = s
            if not (as_sampled and len(s) == self.max_length):
                targets[i, len(s)] = end
        return inputs, targets

    def _log_p(self, sentences):
        """log p of each sentence as the sampler draws it (a tensor with gradients)."""
        inputs, targets = self._batch(sentences, as_sampled=True)
        logits, _ = self.net(inputs)
        logp = torch.log_softmax(logits, dim=-1).gather(2, targets.clamp(min=0).unsqueeze(2)).squeeze(2)
        return (logp * (targets >= 0)).sum(1)

    def fit(self, sentences, rng, warm):
        torch.manual_seed(int(rng.integers(2 ** 63)))
        if not warm or self.net is None:
            self._build(sentences.vocab_size)
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        loss_fn = nn.CrossEntropyLoss(ignore_index=-1)
        batches = -(-len(sentences) // self.batch)
        for epoch in range(self.epochs):
            total = 0.0
            for b, idx in enumerate(torch.randperm(len(sentences)).split(self.batch)):
                inputs, targets = self._batch([sentences[i] for i in idx.tolist()])
                logits, _ = self.net(inputs)
                loss = loss_fn(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
                progress(epoch * batches + b + 1, self.epochs * batches)
            print(f"epoch {epoch}: {total / len(sentences):.3f} nats a token")

    def sample(self, n, rng, temperature):
        torch.manual_seed(int(rng.integers(2 ** 63)))
        end = self.vocab_size
        out = [[] for _ in range(n)]
        with torch.no_grad():
            token = torch.full((n, 1), end, dtype=torch.long)
            state = None
            alive = torch.ones(n, dtype=torch.bool)
            for _ in range(self.max_length):
                logits, state = self.net(token, state)
                probs = torch.softmax(logits[:, -1] / temperature, dim=-1)
                token = torch.multinomial(probs, 1)
                for i in torch.nonzero(alive).flatten().tolist():
                    t = int(token[i, 0])
                    if t == end:
                        alive[i] = False
                    else:
                        out[i].append(t)
                if not alive.any():
                    break
        return out

    def log_likelihood(self, sentences):
        """log p of each sentence's words and of its end (none after max_length words)."""
        result = []
        with torch.no_grad():
            for start in range(0, len(sentences), 256):
                result.extend(self._log_p(sentences[start : start + 256]).double().tolist())
        return np.array(result)

    # Post-training: Adam steps on (1/n)·Σ w_i log p(x_i), weights of either sign (policy gradient).
    signed_weights = True

    @property
    def train_batch(self):
        return self.batch

    def start_training(self, rng, lr, anchor):
        torch.manual_seed(int(rng.integers(2 ** 63)))
        self.opt = torch.optim.Adam(self.net.parameters(), lr=self.lr if lr is None else lr)
        self.anchor = anchor
        self.start = [p.detach().clone() for p in self.net.parameters()]

    def train_step(self, sentences, weights):
        objective = (torch.as_tensor(weights, dtype=torch.float32) * self._log_p(sentences)).mean()
        loss = -objective
        if self.anchor > 0:  # L2-SP: a pull toward the parameters training started from
            loss = loss + self.anchor / 2 * sum(((p - p0) ** 2).sum() for p, p0 in zip(self.net.parameters(), self.start))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return {"loss": float(loss)}

    def save(self, path):
        torch.save(self.net.state_dict(), os.path.join(path, "lstm.pt"))
        with open(os.path.join(path, "vocab_size.json"), "w") as f:
            json.dump(self.vocab_size, f)

    def load(self, path):
        with open(os.path.join(path, "vocab_size.json")) as f:
            self._build(json.load(f))
        self.net.load_state_dict(torch.load(os.path.join(path, "lstm.pt")))


serve(WordLSTM)
