"""The PyTorch VAE of the shared peers' vae_chain.py, served to Ouroboros: an MLP VAE
(encoder d -> H -> H -> (mu, logvar) in R^L, decoder L -> H -> H -> mean in R^d, ReLU) trained on
the negative ELBO with a fixed Gaussian likelihood of std obs_std, Adam, reshuffled minibatches.
Samples are decoder means of z ~ N(0, temperature * I). Finetuning stages train it with Adam on
minibatches of the weighted ELBO (weights ≥ 0: it has no log-likelihood, so no policy gradient)."""
import math
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from ouroboros_model import progress, serve


def mlp(i, h, o):
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o))


class VAE:
    def __init__(self, params):
        self.hidden = params.get("hidden", 128)
        self.latent = params.get("latent", 2)
        self.epochs = params.get("epochs", 20)
        self.batch = params.get("batch", 128)
        self.lr = params.get("lr", 1e-3)
        self.obs_std = params.get("obsStd", 0.1)
        torch.set_num_threads(params.get("threads", 1))
        self.enc = self.dec = None

    def _build(self, d):
        self.d = d
        self.enc, self.dec = mlp(d, self.hidden, 2 * self.latent), mlp(self.latent, self.hidden, d)

    def _neg_elbo(self, x):
        """The negative ELBO of each row, from one draw of z."""
        mu, lv = self.enc(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * (0.5 * lv).exp()
        nll = 0.5 * ((x - self.dec(z)) ** 2).sum(1) / self.obs_std ** 2 + 0.5 * self.d * math.log(2 * math.pi * self.obs_std ** 2)
        kl = 0.5 * (mu ** 2 + lv.exp() - 1 - lv).sum(1)
        return nll + kl

    def _parameters(self):
        return [*self.enc.parameters(), *self.dec.parameters()]

    def fit(self, x, rng, warm):
        torch.manual_seed(int(rng.integers(2 ** 63)))
        if not warm or self.enc is None:
            self._build(x.shape[1])
        x = torch.tensor(x, dtype=torch.float32)
        opt = torch.optim.Adam(self._parameters(), lr=self.lr)
        batches = -(-len(x) // self.batch)
        for epoch in range(self.epochs):
            for b, idx in enumerate(torch.randperm(len(x)).split(self.batch)):
                loss = self._neg_elbo(x[idx]).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                progress(epoch * batches + b + 1, self.epochs * batches)

    # Finetuning: Adam steps on the weighted ELBO, (1/n)·Σ w_i ELBO(x_i), a bound on Σ w_i log p(x_i).
    @property
    def train_batch(self):
        return self.batch

    def start_training(self, rng, lr, anchor):
        torch.manual_seed(int(rng.integers(2 ** 63)))
        self.opt = torch.optim.Adam(self._parameters(), lr=self.lr if lr is None else lr)
        self.anchor = anchor
        self.start = [p.detach().clone() for p in self._parameters()]

    def train_step(self, x, weights):
        loss = (torch.as_tensor(weights, dtype=torch.float32) * self._neg_elbo(torch.tensor(x, dtype=torch.float32))).mean()
        if self.anchor > 0:  # L2-SP: a pull toward the parameters training started from
            loss = loss + self.anchor / 2 * sum(((p - p0) ** 2).sum() for p, p0 in zip(self._parameters(), self.start))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return {"loss": float(loss)}

    def sample(self, n, rng, temperature):
        torch.manual_seed(int(rng.integers(2 ** 63)))
        with torch.no_grad():
            return self.dec(torch.randn(n, self.latent) * math.sqrt(temperature)).double().numpy()

    def save(self, path):
        torch.save({"d": self.d, "enc": self.enc.state_dict(), "dec": self.dec.state_dict()}, os.path.join(path, "vae.pt"))

    def load(self, path):
        saved = torch.load(os.path.join(path, "vae.pt"))
        self._build(saved["d"])
        self.enc.load_state_dict(saved["enc"])
        self.dec.load_state_dict(saved["dec"])


serve(VAE)
