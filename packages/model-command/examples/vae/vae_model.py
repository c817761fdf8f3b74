"""The PyTorch VAE of the shared peers' vae_chain.py, served to Ouroboros: an MLP VAE
(encoder d -> H -> H -> (mu, logvar) in R^L, decoder L -> H -> H -> mean in R^d, ReLU) trained on
the negative ELBO with a fixed Gaussian likelihood of std obs_std, Adam, reshuffled minibatches.
Samples are decoder means of z ~ N(0, temperature * I)."""
import math
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from ouroboros_model import serve


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
        mu, lv = self.enc(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * (0.5 * lv).exp()
        nll = 0.5 * ((x - self.dec(z)) ** 2).sum(1) / self.obs_std ** 2 + 0.5 * self.d * math.log(2 * math.pi * self.obs_std ** 2)
        kl = 0.5 * (mu ** 2 + lv.exp() - 1 - lv).sum(1)
        return (nll + kl).mean()

    def fit(self, x, rng, warm):
        torch.manual_seed(int(rng.integers(2 ** 63)))
        if not warm or self.enc is None:
            self._build(x.shape[1])
        x = torch.tensor(x, dtype=torch.float32)
        opt = torch.optim.Adam([*self.enc.parameters(), *self.dec.parameters()], lr=self.lr)
        for _ in range(self.epochs):
            for idx in torch.randperm(len(x)).split(self.batch):
                loss = self._neg_elbo(x[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()

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
