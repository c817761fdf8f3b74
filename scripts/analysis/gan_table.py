"""One markdown row per GAN run and cell of generation 0: modes covered per replicate, HQ % as
mean ± standard deviation, modes holding >= 1 % as HQ samples, and fit minutes per replicate.
usage: gan_table.py RUNDIR [RUNDIR ...]   (reads each run's metrics.ndjson)"""
import json, os, statistics as st, sys

for run in sys.argv[1:]:
    cells = {}
    for line in open(os.path.join(run, 'metrics.ndjson')):
        r = json.loads(line)
        if r['generation'] != 0:
            continue
        label = ', '.join(f'{k}={v}' for k, v in sorted(r['params'].items()))
        cells.setdefault(label, []).append(r)
    for label, rs in sorted(cells.items()):
        rs.sort(key=lambda r: r['replicate'])
        m = [r['metrics'] for r in rs]
        covered = [x['modes_covered'] for x in m]
        hq = [x['pct_high_quality'] for x in m]
        one = [x['modes_covered_1pct'] for x in m]
        sd = lambda v: st.stdev(v) if len(v) > 1 else 0.0
        minutes = ', '.join(f"{r['timings']['fitMs'] / 60000:.1f}" for r in rs)
        print(f"| {os.path.basename(run.rstrip('/'))} | {label} | {st.mean(covered):.1f} ({', '.join(map(str, covered))}) "
              f"| {st.mean(hq):.1f} ± {sd(hq):.1f} | {st.mean(one):.1f} ({', '.join(map(str, one))}) | {minutes} |")
