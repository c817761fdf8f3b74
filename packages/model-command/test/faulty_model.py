"""A model that misbehaves as params["fault"] says, from its fit number params["after"] on (0: the
first), for the tests of the process protocol. On text it samples the sentence [0, 1] n times, or
what params["fault"] breaks: "token" (an id past the vocabulary), "offsets" (one sentence too few)."""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import ouroboros_model
from ouroboros_model import progress, serve


class Faulty:
    def __init__(self, params):
        self.fault = params.get("fault")
        self.after = params.get("after", 0)
        self.fits = 0
        self.mean = None

    def fit(self, x, rng, warm):
        self.vocab_size = getattr(x, "vocab_size", None)
        print("fitting", x.shape if self.vocab_size is None else f"{len(x)} sentences")  # must reach stderr, not the replies
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
        if fault == "progress":
            for step in range(1, 4):
                progress(step, 3)
        if fault == "bad-progress":
            request_id = ouroboros_model._progress_to[0]
            sys.__stdout__.write(f'{{"id": {request_id}, "progress": {{"step": "one"}}}}\n')
            sys.__stdout__.flush()
        self.mean = x.mean(axis=0) if self.vocab_size is None else np.zeros(1)

    def sample(self, n, rng, temperature):
        if self.vocab_size is not None:
            if self.fault == "token":
                return [[0, self.vocab_size]] * n
            return [[0, 1]] * (n - 1 if self.fault == "offsets" else n)
        d = self.mean.size + (1 if self.fault == "shape" else 0)
        return np.zeros((n, d))

    def save(self, path):
        np.save(os.path.join(path, "mean.npy"), self.mean)
        np.save(os.path.join(path, "vocab_size.npy"), -1 if self.vocab_size is None else self.vocab_size)

    def load(self, path):
        self.mean = np.load(os.path.join(path, "mean.npy"))
        vocab_size = int(np.load(os.path.join(path, "vocab_size.npy")))
        self.vocab_size = None if vocab_size < 0 else vocab_size


serve(Faulty)
