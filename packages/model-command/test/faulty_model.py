"""A model that misbehaves as params["fault"] says, from its fit number params["after"] on (0: the
first), for the tests of the process protocol."""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from ouroboros_model import serve


class Faulty:
    def __init__(self, params):
        self.fault = params.get("fault")
        self.after = params.get("after", 0)
        self.fits = 0
        self.mean = None

    def fit(self, x, rng, warm):
        print("fitting", x.shape)  # must reach stderr, not the replies
        self.fits += 1
        fault = self.fault if self.fits > self.after else None
        if fault == "crash":
            sys.stderr.write("about to crash\n")
            sys.stderr.flush()
            os._exit(3)
        if fault == "slow":
            time.sleep(1)
        if fault == "hang":
            time.sleep(600)
        if fault == "raise":
            raise ValueError("the data are too small")
        if fault == "garbage":
            sys.__stdout__.write("this is not json\n")
            sys.__stdout__.flush()
        self.mean = x.mean(axis=0)

    def sample(self, n, rng, temperature):
        d = self.mean.size + (1 if self.fault == "shape" else 0)
        return np.zeros((n, d))

    def save(self, path):
        np.save(os.path.join(path, "mean.npy"), self.mean)

    def load(self, path):
        self.mean = np.load(os.path.join(path, "mean.npy"))


serve(Faulty)
