"""One markdown row per GAN run and cell of generation 0: modes covered per replicate, HQ % as
mean ± standard deviation, modes holding >= 1 % as HQ samples, and fit minutes per replicate.
Runs in the order given; a run's cells in the order of its sweep's values, data.kind changing fastest (ring then
grid, as the docs' tables read). The cell column is left out where no run given sweeps anything (where some do, a
run without a sweep has – there).
usage: gan_table.py RUNDIR [RUNDIR ...]   (reads each run's metrics.ndjson: the `modes` metrics of a ring or grid run)"""
import json, os, statistics as st, sys
import runlib

USAGE = 'usage: gan_table.py RUNDIR [RUNDIR ...]  (a markdown row per run and cell of generation 0, from the modes metrics of metrics.ndjson)'
if len(sys.argv) < 2 or sys.argv[1] in ('-h', '--help'):
    if len(sys.argv) >= 2:
        print(USAGE); sys.exit(0)
    runlib.die(f'give one or more run directories; {USAGE}')
NEED = ['modes_covered', 'pct_high_quality', 'modes_covered_1pct']

rows = []
for run_dir in sys.argv[1:]:
    run = runlib.load_run(run_dir)
    records = runlib.metric_records(run_dir, run)
    have = {k for r in records for k in r.get('metrics', {})}
    lacking = [k for k in NEED if k not in have]
    if lacking:
        runlib.die(f"{run_dir}: its records have no {', '.join(lacking)}; gan_table.py reads the `modes` metric group of a ring or grid run (\"metrics\": [\"modes\"])")
    cells = {}
    for r in records:
        if r['generation'] != 0:
            continue
        cells.setdefault(r['cell'], []).append(r)
    if not cells:
        runlib.die(f'{run_dir}: metrics.ndjson has no record of generation 0 yet')
    # The docs' tables are of one generation: a run of several gets its first only, said aside
    # from the table (stderr), which stays pasteable.
    later = max(r['generation'] for r in records)
    if later > 0:
        print(f'note: {run_dir}: generation 0 of generations 0–{later} (gan_table.py tabulates the first fit only)', file=sys.stderr)
    name = os.path.basename(os.path.normpath(run_dir))
    # The sweep's own order of values, data.kind last so that it changes fastest (ring, then grid).
    sweep = (run.get('config') or {}).get('sweep') or {}
    keys = [k for k in sweep if k != 'data.kind'] + [k for k in sweep if k == 'data.kind']
    def position(cell):
        params = cells[cell][0]['params']
        listed = lambda k: [json.dumps(v, sort_keys=True) for v in sweep[k]]
        at = lambda k, v: listed(k).index(v) if v in listed(k) else len(sweep[k])
        return tuple(at(k, json.dumps(params.get(k), sort_keys=True)) for k in keys) + (cell,)
    for cell in sorted(cells, key=position):
        rs = cells[cell]
        # The cell's label as run.json, the report and the other scripts give it; none without a sweep.
        label = ', '.join(f'{k}={runlib.words(v)}' for k, v in rs[0]['params'].items())
        rs.sort(key=lambda r: r['replicate'])
        m = [r['metrics'] for r in rs]
        show = lambda v: 'null' if v is None else str(v)
        mean = lambda v: f'{st.mean(runlib.numbers(v)):.1f}' if runlib.numbers(v) else 'null'
        covered = [x['modes_covered'] for x in m]
        hq = runlib.numbers([x['pct_high_quality'] for x in m])
        one = [x['modes_covered_1pct'] for x in m]
        sd = lambda v: st.stdev(v) if len(v) > 1 else 0.0
        hq_text = f'{st.mean(hq):.1f} ± {sd(hq):.1f}' if hq else 'null'
        fit = lambda r: r.get('timings', {}).get('fitMs')
        minutes = ', '.join(f'{fit(r) / 60000:.1f}' if runlib.is_number(fit(r)) else 'null' for r in rs)
        rows.append((name, label, f"{mean(covered)} ({', '.join(map(show, covered))})", hq_text,
                     f"{mean(one)} ({', '.join(map(show, one))})", minutes))
# A cell column only where some run sweeps something: a run without a sweep has one cell, with no label.
with_cell = any(label for _, label, *_ in rows)
header = ['run'] + (['cell'] if with_cell else []) + ['modes covered: mean (per replicate)', 'HQ %: mean ± sd',
                                                      'modes with ≥ 1 % as HQ: mean (per replicate)', 'fit minutes per replicate']
print('| ' + ' | '.join(header) + ' |')
print('|' + '---|' * len(header))
for name, label, *rest in rows:
    print('| ' + ' | '.join([name] + ([label or '–'] if with_cell else []) + rest) + ' |')
