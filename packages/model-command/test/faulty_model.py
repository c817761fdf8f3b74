"""A model that misbehaves as params["fault"] says, from its fit number params["after"] on (0: the
first), for the tests of the process protocol. On text it samples the sentence [0, 1] n times, or
what params["fault"] breaks: "token" (an id past the vocabulary), "offsets" (one sentence too few),
"offsets-written" (one sentence too few written, past the helper's check, as a child in another
language might),
"float-token" (ids 0.5 and 1.5), "whole-float-token" (ids 0.0 and 1.0). An argument "banner-before"
or "banner-after" prints a line on stdout before or after importing ouroboros_model, at the top of
the script, as a model announcing itself would. An argument "trainable" serves it with summary() and
train_step(), which break as "nan-summary", "nan-loss", "inf-loss" or "nan-line" (a reply holding
NaN, written as an older ouroboros_model.py wrote it) say."""
import json
import os
import sys
import time

import numpy as np

if "banner-before" in sys.argv[1:]:
    print("Loading my model v1.0", flush=True)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import ouroboros_model
from ouroboros_model import progress, serve

if "banner-after" in sys.argv[1:]:
    print("Loading my model v1.0", flush=True)


class Faulty:
    def __init__(self, params):
        self.fault = params.get("fault")
        self.after = params.get("after", 0)
        self.fits = 0
        self.mean = None
        if self.fault == "offsets-written":
            write = ouroboros_model._write_sentences
            ouroboros_model._write_sentences = lambda path, offsets_path, sentences, n: write(path, offsets_path, sentences[:-1], n - 1)

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
            ouroboros_model._replies.write("this is not json\n")
            ouroboros_model._replies.flush()
        if fault == "subprocess":
            os.system("echo from a subprocess")
        if fault == "progress":
            for step in range(1, 4):
                progress(step, 3)
        if fault == "bad-progress":
            request_id = ouroboros_model._progress_to[0]
            ouroboros_model._replies.write(f'{{"id": {request_id}, "progress": {{"step": "one"}}}}\n')
            ouroboros_model._replies.flush()
        self.mean = x.mean(axis=0) if self.vocab_size is None else np.zeros(1)

    def sample(self, n, rng, temperature):
        if self.vocab_size is not None:
            if self.fault == "token":
                return [[0, self.vocab_size]] * n
            if self.fault == "float-token":
                return [[0.5, 1.5]] * n
            if self.fault == "whole-float-token":
                return np.array([[0.0, 1.0]] * n)
            return [[0, 1]] * (n - 1 if self.fault == "offsets" else n)
        d = self.mean.size + (1 if self.fault == "shape" else 0)
        if self.fault == "nan":
            return np.where(np.arange(n)[:, None] == n - 1, np.nan, np.zeros((n, d)))
        return np.zeros((n, d))

    def save(self, path):
        np.save(os.path.join(path, "mean.npy"), self.mean)
        np.save(os.path.join(path, "vocab_size.npy"), -1 if self.vocab_size is None else self.vocab_size)

    def load(self, path):
        self.mean = np.load(os.path.join(path, "mean.npy"))
        vocab_size = int(np.load(os.path.join(path, "vocab_size.npy")))
        self.vocab_size = None if vocab_size < 0 else vocab_size


class Trainable(Faulty):
    def summary(self):
        return {"mean": [0.0, float("nan")] if self.fault == "nan-summary" else [0.0, 1.0]}

    def start_training(self, rng, lr, anchor):
        self.steps = 0

    def train_step(self, x, weights):
        self.steps += 1
        if self.fault == "nan-line":
            # What json.dumps writes unchecked: the reply, with NaN in it, and then this step's own reply.
            request_id = ouroboros_model._progress_to[0]
            ouroboros_model._replies.write(json.dumps({"id": request_id, "ok": True, "losses": {"loss": float("nan")}}) + "\n")
            ouroboros_model._replies.flush()
        loss = {"nan-loss": float("nan"), "inf-loss": float("inf")}.get(self.fault, 1.0)
        return {"loss": loss, "steps": self.steps}


serve(Trainable if "trainable" in sys.argv[1:] else Faulty)
