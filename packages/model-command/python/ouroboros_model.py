"""Serve a Python model to Ouroboros (`model.command` in a config).

Ouroboros starts one process per chain and writes one JSON request a line to its stdin; the
process answers each with one JSON line on stdout, in order. Arrays travel as .npy files whose
paths are in the messages. `serve(factory)` does all of that; a model is a class with

    __init__(self, params)          params: the config's model.params (a dict)
    fit(self, x, rng, warm)         x: (n, d) float64; warm: start from the model loaded last
                                    (with a `weights=None` parameter, rl stages can refit it: the
                                    maximiser of Σ w_i log p(x_i), one weight ≥ 0 per item)
    sample(self, n, rng, temperature) -> (n, d) array
    log_likelihood(self, x) -> (n,) array of natural-log densities     (optional)
    summary(self) -> {name: number or array}  quantities metrics may read  (optional)
                                    (finite numbers: NaN is a diverged model, infinity is refused)
    save(self, path)                write the fitted model into the directory `path`
    load(self, path)                read back what save wrote

Finetuning and policy-gradient RL (`posttrain` stages) train a copy of a saved model step by step
when the class also has (both optional):

    start_training(self, rng, lr, anchor)    make the optimiser; lr: None for the model's own;
                                    anchor: the L2-SP strength, a pull (anchor/2)·‖θ − θ₀‖² toward
                                    the parameters the model has now (0: none)
    train_step(self, x, weights) -> {name: loss} or None
                                    one update ascending (1/n)·Σ w_i log p(x_i) over the n items;
                                    weights may be negative when signed_weights is True;
                                    a loss of NaN is a diverged model (a run's `retries` may
                                    retry the generation) and an infinite one is refused: JSON,
                                    which carries the replies, has neither
    train_batch = 32                items per train_step (the default), or "all" for full batches
    signed_weights = False          True when train_step takes weights of either sign (policy
                                    gradient's advantages); False (the default) leaves rl to refits

On text data the same methods take and give sentences instead of an array: `x` is a `Sentences`
list of 1-D int64 arrays of token ids, with `x.vocab_size` (ids are below it) and `x.vocabulary`
(the words, id = index); `sample` returns n sequences of token ids (lists or arrays of whole numbers); and
`log_likelihood` gives each sentence's natural-log probability, its end included.

`rng` is a numpy Generator seeded by Ouroboros: use it (or seed your framework from
`rng.integers(2**63)`) so that a chain is reproducible. A fit that trains in steps may call
`progress(step, steps)` after each (or each epoch): the run's progress line then shows
`fit step 120/300` while it trains.

Stdout carries the replies. Once this module is imported by a process Ouroboros started,
everything else written there (print, a library's or a subprocess's output) goes to stderr, the
chain's model.log: print nothing before the import. The protocol is described in
docs/extending.md ("Models in any language").
"""
import inspect
import json
import math
import os
import sys
import threading
import time
import traceback

import numpy as np

PROTOCOL = 1

# Where progress lines go while a request is handled: (its id, the replies stream); None between requests.
_progress_to = None

# The stream the replies go to, once stdout is kept for them (`_keep_replies`).
_replies = None


def _keep_replies():
    """Keeps the real stdout for the replies alone and sends everything else written there to stderr
    (the chain's model.log): the model's print, and its libraries' and subprocesses' output too,
    which write to file descriptor 1. Text printed before this and still in Python's buffer goes to
    stderr as well; text already written on stdout reaches Ouroboros, which reads it as a reply."""
    global _replies
    if _replies is not None:
        return _replies
    try:
        replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
        os.dup2(2, 1)
    except (OSError, ValueError):  # no file descriptor 1 to move (stdout closed): print can still go elsewhere
        replies = sys.stdout
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    sys.stdout = sys.stderr
    _replies = replies
    return replies


# Started by Ouroboros (which names itself in OUROBOROS_PID): from this import on, a print at the
# top of the script, before serve(), goes to the model log rather than into the replies. Imported
# elsewhere (a notebook, the model's own tests), stdout stays as it is until serve().
if os.environ.get("OUROBOROS_PID", "").isdigit():
    _keep_replies()


def _read(path):
    return np.load(path, allow_pickle=False)


def _write(path, array):
    # np.save would append .npy to a path without it; a file object keeps the name Ouroboros chose.
    with open(path, "wb") as f:
        np.save(f, np.asarray(array, dtype=np.float64))


class Sentences(list):
    """Sentences of token ids (1-D int64 arrays), with the vocabulary they index."""

    def __init__(self, sentences, vocab_size, vocabulary=None):
        super().__init__(sentences)
        self.vocab_size = vocab_size
        self.vocabulary = vocabulary


_vocabularies = {}


def _vocabulary(path):
    if path is None:
        return None
    if path not in _vocabularies:
        with open(path, encoding="utf-8") as f:
            _vocabularies[path] = json.load(f)
    return _vocabularies[path]


def _read_data(req):
    """The request's data: an (n, d) array, or Sentences when it names offsets (text)."""
    if "offsets" not in req:
        return _read(req["data"])
    tokens = _read(req["data"]).astype(np.int64)
    offsets = _read(req["offsets"]).astype(np.int64)
    sentences = [tokens[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]
    return Sentences(sentences, req.get("vocab_size"), _vocabulary(req.get("vocabulary")))


def _token_ids(sentence, row):
    """A sampled sentence as int64 ids: whole numbers of any numeric type (3.0 is 3); anything else
    is refused rather than cast, which would turn 0.5 into 0."""
    ids = np.asarray(sentence).ravel()
    if ids.dtype.kind in "iu":
        return ids.astype(np.int64)
    if ids.dtype.kind != "f":
        raise BrokenContract(f"sample returned token ids of type {ids.dtype} (row {row}); expected whole numbers")
    bad = np.flatnonzero(~np.isfinite(ids) | (ids != np.round(ids)))
    if bad.size > 0:
        raise BrokenContract(f"sample returned non-integer token ids ({ids[bad[0]]} at row {row})")
    return ids.astype(np.int64)


class BrokenContract(Exception):
    """What a model's method returned breaks the protocol (fewer sentences than asked for, ids
    that are not whole numbers): said in one line, without this file's traceback, which is not
    where the model's author has anything to mend."""


def _write_sentences(path, offsets_path, sentences, n):
    seqs = [_token_ids(s, row) for row, s in enumerate(sentences)]
    # Said here, in the model's terms: Ouroboros, reading the offsets, would see one offset too few.
    if len(seqs) != n:
        raise BrokenContract(f"sample returned {len(seqs)} sentences where {n} were asked for; return exactly n sequences of token ids")
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    with open(offsets_path, "wb") as f:
        np.save(f, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    with open(path, "wb") as f:
        np.save(f, np.concatenate(seqs) if seqs else np.zeros(0, dtype=np.int64))


class _Session:
    """The model of the latest fit or load, and the copy being trained (if a stage trains one)."""

    def __init__(self, factory):
        self.factory = factory
        self.model = None
        self.trainee = None

    def handle(self, req):
        op = req["op"]
        if op == "hello":
            if req.get("protocol") != PROTOCOL:
                raise ValueError(f"protocol {req.get('protocol')} asked, this side speaks {PROTOCOL}")
            self.params = req.get("params") or {}
            self.model = self.factory(self.params)
            return {"protocol": PROTOCOL, "summary": hasattr(self.model, "summary"), "log_likelihood": hasattr(self.model, "log_likelihood")}
        model = self.model
        if model is None:
            raise RuntimeError(f"'{op}' before 'hello'")
        if op == "fit":
            args = (_read_data(req), np.random.default_rng(req["seed"]), bool(req["warm"]))
            if "weights" in req:
                if "weights" not in inspect.signature(model.fit).parameters:
                    raise TypeError("an rl stage refits this model to weighted items, but its fit takes no weights: add a parameter fit(self, x, rng, warm, weights=None)")
                model.fit(*args, weights=_read(req["weights"]).reshape(-1))
            else:
                model.fit(*args)
        elif op == "sample":
            samples = model.sample(int(req["n"]), np.random.default_rng(req["seed"]), float(req["temperature"]))
            if "out_offsets" in req:
                _write_sentences(req["out"], req["out_offsets"], samples, int(req["n"]))
            else:
                _write(req["out"], samples)
        elif op == "log_likelihood":
            if not hasattr(model, "log_likelihood"):
                raise NotImplementedError("this model has no log_likelihood method")
            _write(req["out"], model.log_likelihood(_read_data(req)))
        elif op == "summary":
            return {"summary": {k: np.asarray(v, dtype=np.float64).ravel().tolist() for k, v in model.summary().items()}}
        elif op == "save":
            os.makedirs(req["path"], exist_ok=True)
            model.save(req["path"])
        elif op == "load":
            model.load(req["path"])
        elif op == "train_begin":
            return self.train_begin(req)
        elif op == "train_step":
            if self.trainee is None:
                raise RuntimeError("'train_step' before 'train_begin'")
            losses = self.trainee.train_step(_read_data(req), _read(req["weights"]).reshape(-1))
            if losses is not None and not isinstance(losses, dict):
                raise BrokenContract(f"train_step returned {losses!r}; expected {{name: loss}} or None")
            return {"losses": {k: float(v) for k, v in (losses or {}).items()}}
        elif op == "train_save":
            if self.trainee is None:
                raise RuntimeError("'train_save' before 'train_begin'")
            os.makedirs(req["path"], exist_ok=True)
            self.trainee.save(req["path"])
        elif op == "train_end":
            self.trainee = None
        else:
            raise ValueError(f"unknown request '{op}'")
        return {}

    def train_begin(self, req):
        self.trainee = None
        trainee = self.factory(self.params)
        missing = [m for m in ("start_training", "train_step") if not hasattr(trainee, m)]
        if missing:
            raise TypeError(
                f"finetune and policy-gradient rl stages train this model step by step, but it has no {' or '.join(missing)}: "
                "add start_training(self, rng, lr, anchor) and train_step(self, x, weights) (see ouroboros_model.py)"
            )
        batch = getattr(trainee, "train_batch", 32)
        if batch != "all" and not (isinstance(batch, int) and not isinstance(batch, bool) and batch >= 1):
            raise ValueError(f"train_batch is {batch!r}; expected a whole number ≥ 1 or 'all'")
        trainee.load(req["path"])
        trainee.start_training(np.random.default_rng(req["seed"]), req.get("lr"), float(req["anchor"]))
        self.trainee = trainee
        return {"batch": batch, "signed_weights": bool(getattr(trainee, "signed_weights", False))}


def _alive(pid):
    """Whether process `pid` runs: it exists and is not a zombie (ended, its parent has not reaped it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2] != "Z"
    except (OSError, ValueError, IndexError):
        return True


def _exit_with_parent():
    """Ends this process when Ouroboros ends. A closed stdin ends it between requests, but a run
    stopped at once (a second Ctrl-C or SIGTERM, or a kill) cannot close a child busy with a fit,
    which would run on for minutes as an orphan: a parent gone, the process is adopted. Ouroboros
    names its pid in OUROBOROS_PID, which also covers a parent gone before this runs (numpy can
    take seconds to import) and a wrapper between the two."""
    parent = os.getppid()
    named = os.environ.get("OUROBOROS_PID", "")
    ouroboros = int(named) if named.isdigit() else None

    def watch():
        while os.getppid() == parent and (ouroboros is None or _alive(ouroboros)):
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def progress(step, steps):
    """Tells Ouroboros how far the request being handled is (a fit at `step` of `steps`).
    Outside a request (a model tried on its own) it does nothing."""
    if not (math.isfinite(step) and math.isfinite(steps)):
        raise ValueError(f"progress(step, steps) takes finite numbers; got step {step}, steps {steps}")
    if _progress_to is None:
        return
    request_id, replies = _progress_to
    replies.write(json.dumps({"id": request_id, "progress": {"step": float(step), "steps": float(steps)}}) + "\n")
    replies.flush()


def _non_finite(value, path=""):
    """The first NaN or infinite number in `value` (dicts and lists of numbers), as (its key path,
    the number); None when every number is finite."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _non_finite(item, f"{path}[{key!r}]")
        if found is not None:
            return found
    return None


def _checked_reply(op, result):
    """The reply's fields, or an error reply where one holds NaN or infinity. JSON has neither:
    json.dumps would write NaN, which Ouroboros cannot read as a reply. NaN is a diverged model,
    which a run may retry (as samples holding NaN are); infinity is refused with what to do."""
    for field, value in result.items():
        found = _non_finite(value)
        if found is None:
            continue
        path, number = found
        # The fields are what the model's method returned: train_step's losses, summary()'s values (arrays flattened).
        where = f"{op}() returned {number} at {path}" if field in ("losses", "summary") else f"the reply to '{op}' holds {number} at ['{field}']{path}"
        if math.isnan(number):
            why = "the training diverged (a lower learning rate may help)" if field == "losses" else f"the model diverged, or {op}() made the NaN"
            return {"ok": False, "diverged": True, "error": f"{where}: {why}"}
        return {"ok": False, "error": f"{where}, which a reply cannot carry (JSON has no infinity): give a finite number, or leave that value out"}
    return {"ok": True, **result}


def serve(factory):
    """Answers requests until stdin closes. `factory(params)` makes the model."""
    global _progress_to
    _exit_with_parent()
    # Anything the model prints goes to stderr (the chain's model log), never into the replies.
    replies = _keep_replies()
    session = _Session(factory)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        _progress_to = (req["id"], replies)
        try:
            reply = {"id": req["id"], **_checked_reply(req.get("op"), session.handle(req))}
            line = json.dumps(reply, allow_nan=False)
        except BrokenContract as e:
            line = json.dumps({"id": req["id"], "ok": False, "error": str(e)})
        except Exception as e:  # the error goes back to Ouroboros, which fails the chain with it
            traceback.print_exc()
            line = json.dumps({"id": req["id"], "ok": False, "error": f"{type(e).__name__}: {e}"})
        _progress_to = None
        replies.write(line + "\n")
        replies.flush()
