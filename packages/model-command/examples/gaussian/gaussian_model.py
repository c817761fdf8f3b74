"""A Gaussian fit by maximum likelihood, served to Ouroboros: the numpy twin of model.kind
'gaussian' with estimator 'mle' (diagonal covariance)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from ouroboros_model import serve


class Gaussian:
    def __init__(self, params):
        self.mean = self.var = None

    def fit(self, x, rng, warm, weights=None):
        if weights is None:
            self.mean, self.var = x.mean(axis=0), x.var(axis=0)
        else:  # an rl stage's refit: the weighted maximum-likelihood fit
            self.mean = np.average(x, axis=0, weights=weights)
            self.var = np.average((x - self.mean) ** 2, axis=0, weights=weights)

    # Finetuning and policy-gradient RL: natural-gradient ascent on θ = (mean, log variance), whose
    # Fisher information is diag(1/var, 1/2), over the whole batch each step.
    train_batch = "all"
    signed_weights = True

    def start_training(self, rng, lr, anchor):
        self.lr = 0.1 if lr is None else lr
        self.anchor = anchor
        self.start = (self.mean.copy(), np.log(self.var))

    def train_step(self, x, weights):
        w = weights[:, None] / len(weights)
        log_var = np.log(self.var)
        z2 = (x - self.mean) ** 2 / self.var
        # The gradient of (1/n)·Σ w_i log p(x_i) − (anchor/2)·‖θ − θ_start‖².
        grad_mean = (w * (x - self.mean)).sum(axis=0) / self.var - self.anchor * (self.mean - self.start[0])
        grad_log_var = 0.5 * (w * (z2 - 1)).sum(axis=0) - self.anchor * (log_var - self.start[1])
        self.mean = self.mean + self.lr * self.var * grad_mean
        self.var = np.exp(log_var + self.lr * 2 * grad_log_var)
        return {"loss": -float((w * -0.5 * (np.log(2 * np.pi) + log_var + z2)).sum())}

    def sample(self, n, rng, temperature):
        return self.mean + np.sqrt(self.var * temperature) * rng.standard_normal((n, self.mean.size))

    def log_likelihood(self, x):
        return -0.5 * (np.log(2 * np.pi * self.var) + (x - self.mean) ** 2 / self.var).sum(axis=1)

    def summary(self):
        # What the moments metrics read (as from model.kind 'gaussian'): the fitted mean and covariance.
        return {"mean": self.mean, "covariance": np.diag(self.var)}

    def save(self, path):
        np.save(os.path.join(path, "mean.npy"), self.mean)
        np.save(os.path.join(path, "var.npy"), self.var)

    def load(self, path):
        self.mean = np.load(os.path.join(path, "mean.npy"))
        self.var = np.load(os.path.join(path, "var.npy"))


serve(Gaussian)
