"""What the analysis scripts share: reading a run directory, and one-line errors (exit 2, no traceback).
Not a script of its own; the others import it from beside them (standard library only)."""
import argparse, decimal, difflib, json, math, os, sys


def die(msg):
    """One line to stderr, exit 2."""
    print(f'error: {msg}', file=sys.stderr)
    sys.exit(2)


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line: the problem, then the usage."""
    def error(self, message):
        usage = ' '.join(self.format_usage().split())
        die(f'{message}; {usage}')


def load_run(path):
    """run.json of a run directory, or a one-line error saying what the path is instead."""
    if not os.path.exists(path):
        die(f'{path}: no such file or directory; give a run directory (the --out of `ouroboros run`)')
    if not os.path.isdir(path):
        die(f'{path} is a file, not a run directory; give the directory `ouroboros run --out` wrote (it holds run.json)')
    f = os.path.join(path, 'run.json')
    if not os.path.exists(f):
        die(f'{path} is not a run directory (no run.json); give the directory `ouroboros run --out` wrote')
    try:
        with open(f) as fh:
            run = json.load(fh)
    except (OSError, ValueError) as e:
        die(f'{f}: cannot be read as JSON ({e}); is the run still being created?')
    if not isinstance(run, dict) or not isinstance(run.get('cells'), list) or not isinstance(run.get('chains'), list):
        die(f'{f} has no cells and chains: not the run.json of an ouroboros run')
    return run


def unfinished(run):
    """How many chains of the run have not finished (0 for a finished run)."""
    return sum(1 for ch in run['chains'] if ch.get('status') not in (None, 'finished'))


def note_unfinished(path, run):
    n = unfinished(run)
    if n:
        print(f'note: {path}: {n} of {len(run["chains"])} chains did not finish, so what follows is what the run had done; `ouroboros resume {path}` finishes it', file=sys.stderr)


def metric_records(path, run):
    """The records of metrics.ndjson, or a one-line error saying how to get the file."""
    f = os.path.join(path, 'metrics.ndjson')
    if not os.path.exists(f):
        if (run.get('config') or {}).get('records', {}).get('text') is False:
            why = 'it was run with records.text false'
        elif unfinished(run) or run.get('status') not in (None, 'finished'):
            why = f'it did not finish; `ouroboros resume {path}` finishes it and writes the file'
        else:
            why = 'deleted?'
        die(f'{path}: the run has no metrics.ndjson ({why}); `ouroboros export {path} --format ndjson` writes it from records.log')
    out, bad = [], None
    with open(f) as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if bad is not None:
                die(f'{f}: line {bad} is not JSON; `ouroboros export {path} --format ndjson` writes the file again')
            try:
                out.append(json.loads(line))
            except ValueError:
                bad = i
    if bad is not None:
        # The last line of a run stopped while appending it: left out, and said.
        print(f'note: {f}: its last line is cut short (the run stopped while writing it?); left out', file=sys.stderr)
    note_unfinished(path, run)
    return out


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def words(v):
    """A swept value as run.json's cell labels, `validate` and the report write it: a number as
    JavaScript writes it (0.00001, where Python writes 1e-05), a spec with a kind as the kind and its
    options (mix(realFraction=0.2)), other objects and lists in brackets without JSON's quotes."""
    if isinstance(v, str): return v
    if isinstance(v, list): return '[' + ', '.join(map(words, v)) + ']'
    if isinstance(v, dict):
        named = isinstance(v.get('kind'), str)
        options = ', '.join(f'{k}={words(x)}' for k, x in v.items() if not (named and k == 'kind'))
        if named: return f"{v['kind']}({options})" if options else v['kind']
        return '{' + options + '}'
    if v is None: return 'null'
    if isinstance(v, bool): return 'true' if v else 'false'
    if isinstance(v, int): return str(v) if abs(v) < 10**21 else words(float(v))
    if math.isnan(v) or math.isinf(v): return 'null'
    if v == 0: return '0'
    sign, digits, exp = decimal.Decimal(repr(v)).normalize().as_tuple()
    d = ''.join(map(str, digits))
    k, n = len(d), exp + len(d)  # n: where the decimal point falls after the digits' start
    s = '-' if sign else ''
    if k <= n <= 21: return s + d + '0' * (n - k)
    if 0 < n <= 21: return s + d[:n] + '.' + d[n:]
    if -6 < n <= 0: return s + '0.' + '0' * -n + d
    e = n - 1
    return s + d[0] + ('.' + d[1:] if k > 1 else '') + 'e' + ('+' if e > 0 else '-') + str(abs(e))


def numbers(vs):
    """The values that are numbers (not null, not true/false)."""
    return [v for v in vs if is_number(v) and not (isinstance(v, float) and math.isnan(v))]


def unknown(what, name, known):
    """'no metric gold_rewrd (did you mean gold_reward?); known: a, b, c'."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = f' (did you mean {close[0]}?)' if close else ''
    return f'{what} {name!r}{hint}; known: {", ".join(known) if known else "none"}'


def int_list(text, what):
    try:
        return [int(s) for s in text.split(',')]
    except ValueError:
        die(f'{what} {text!r}: give whole numbers separated by commas, e.g. 0,5,9')


def check_fmt(fmt):
    try:
        format(1.5, fmt)
    except ValueError:
        die(f"--fmt {fmt!r} is not a Python number format; give one such as .3g or .2f")


def listing(vs, most=24):
    """'0, 1, 2, …, 48, 49' for a long list."""
    vs = [str(v) for v in vs]
    return ', '.join(vs) if len(vs) <= most else ', '.join(vs[:most - 4]) + ', …, ' + ', '.join(vs[-3:])


def generations_of(run):
    g = run.get('config', {}).get('generations')
    return g if isinstance(g, int) and g > 0 else None


def posttrain_curves(path, run, generation):
    """Per chain of the run, the lines of its gen-G.posttrain.ndjson: [(chain, lines)]. Chains without the
    file are named on stderr; a run where none has it is an error."""
    gens = generations_of(run)
    if gens is not None and not 0 <= generation < gens:
        die(f'--generation {generation}: the run has ' + (f'generations 0–{gens - 1}' if gens > 1 else 'generation 0 only'))
    name = f'gen-{generation:06d}.posttrain.ndjson'
    out, missing = [], []
    for ch in run['chains']:
        f = os.path.join(path, 'chains', ch['id'], name)
        if not os.path.exists(f):
            missing.append(ch['id'])
            continue
        lines = []
        with open(f) as fh:
            for line in fh:
                if line.strip():
                    try:
                        lines.append(json.loads(line))
                    except ValueError:
                        print(f'note: {f}: a line cut short (the run stopped while writing it); left out', file=sys.stderr)
        out.append((ch, lines))
    if not out:
        stages = run.get('config', {}).get('posttrain')
        why = 'the run has no post-training stage' if stages == [] else 'the run has not reached it, or has no post-training stage'
        die(f'{path}: no chain has chains/<chain>/{name} ({why})')
    note_unfinished(path, run)
    if missing:
        print(f'note: {len(missing)} of {len(run["chains"])} chains have no {name} and are left out: {listing(missing, 8)}', file=sys.stderr)
    return out


def generation_note(run, generation):
    """A line saying which generation's curves these are, for a run of several generations (else None)."""
    gens = generations_of(run)
    if gens is not None and gens > 1:
        return f'# post-training curves of generation {generation} (the run has 0–{gens - 1}; --generation G reads another)'
    return None
