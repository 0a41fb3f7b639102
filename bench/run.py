#!/usr/bin/env python3
"""The benchmark of issue 8, in one run:

  (a) `kpi eval` of the 12 KPIs of bench/pack.yaml against DuckDB and Polars;
  (c) ... and against the per-row baseline, `evalexpr` 11.3.1 + the csv crate
      (examples/evalexpr_baseline.rs): the speed-up kpi must show is 20x;
  (d, e) scaling: kpi on 1M and 10M rows, time per row, peak RSS, CPU utilisation;
  (b) `kpi check` of a generated 1,000-KPI pack (bench/gen_pack.py): median wall, target < 100 ms;
  and a summary of the targets.

    cargo build --release && cargo build --release --example evalexpr_baseline
    pip install numpy duckdb polars
    python3 bench/run.py                    # 10M rows, 3 rounds, everything
    python3 bench/run.py --rows 1000000 --no-scaling     # a quick run

The posts files are generated first if missing (bench/gen_posts.py; bench/data/ is git-ignored).
Every round runs the engines one after another, each in a fresh subprocess, so that its
peak RSS can be read on its own: for kpi and the baseline, the worker's RUSAGE_CHILDREN after
waiting for the binary; for DuckDB and Polars, the worker's own RUSAGE_SELF (the Python
interpreter included, about 30-60 MB). Wall time covers, for kpi and the baseline, the whole
process (start-up, CSV scan, report); for DuckDB and Polars, connecting/scanning to the fetched
result, but not `import`. CPU time (user + sys) is measured over the same span; CPU / wall is
the number of cores kept busy. DuckDB runs with `SET threads=N` and Polars with
POLARS_MAX_THREADS=N (--threads, default 2). The evalexpr baseline is one thread and takes
about 20 s on 10M rows, so by default it runs in the first round only (--baseline-rounds).

Then the values of kpi, Polars and the baseline are checked against DuckDB's (relative
tolerance 1e-9, null == null) and the mismatches are counted.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
AS_OF = "2026-12-31"
KPIS = ["engagement_rate", "ctr", "conversion_rate", "roi", "cpc", "reaction_rate", "avg_reach",
        "total_reach", "net_follower_growth", "c07_likes", "distinct_posts",
        "revenue_per_conversion"]


def nz(x):
    return f"NULLIF(CAST({x} AS DOUBLE), 0)"


# The SQL twins of bench/pack.yaml's formulas, in KPIS order.
SQL = f"""
SELECT channel, strftime(date, '%Y-%m') AS period,
  (sum(likes) + sum(comments) + sum(shares) + sum(saves)) / {nz('sum(reach)')},
  sum(clicks) / {nz('sum(impressions)')},
  sum(conversions) / {nz('sum(clicks)')},
  (sum(revenue) - sum(spend)) / {nz('sum(spend)')},
  sum(spend) / {nz('sum(clicks)')},
  count(*) FILTER (WHERE likes + comments > 0) / {nz('count(*)')},
  avg(reach),
  sum(reach),
  sum(new_followers) - sum(unfollows),
  sum(likes) FILTER (WHERE campaign = 'c07'),
  count(DISTINCT post_id),
  sum(revenue) / {nz('sum(conversions)')}
FROM read_csv(?, header = true, nullstr = '', columns = {{
  'date': 'DATE', 'channel': 'VARCHAR', 'campaign': 'VARCHAR', 'post_id': 'VARCHAR',
  'impressions': 'BIGINT', 'reach': 'BIGINT', 'likes': 'BIGINT', 'comments': 'BIGINT',
  'shares': 'BIGINT', 'saves': 'BIGINT', 'clicks': 'BIGINT', 'conversions': 'BIGINT',
  'revenue': 'DOUBLE', 'spend': 'DOUBLE', 'new_followers': 'BIGINT', 'unfollows': 'BIGINT'}})
WHERE date <= DATE '{AS_OF}'
GROUP BY channel, strftime(date, '%Y-%m')
"""


def clean(v):
    if v is None:
        return None
    v = float(v)
    return None if v != v or v in (float("inf"), float("-inf")) else v


# ---------------------------------------------------------------- workers (one per subprocess)

def cpu_seconds(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def run_binary(name, cmd, hint):
    """Runs a binary that prints a kpi-report-shaped JSON; its wall time, CPU time, peak RSS and
    values (the worker has no other child, so RUSAGE_CHILDREN is the binary's)."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        return {"error": f"cannot run {cmd[0]}: {e} ({hint})"}
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        return {"error": f"{name} exited {p.returncode}: {p.stderr.strip()[-600:]}", "wall": wall}
    try:
        rep = json.loads(p.stdout)
    except ValueError:
        return {"error": f"{name} printed no JSON report: {p.stdout[:200]!r} {p.stderr.strip()[-400:]}",
                "wall": wall}
    values = {}
    for k in rep.get("kpis", []):
        for v in k.get("values", []):
            values[f"{k.get('id')}|{(v.get('group') or {}).get('channel')}|{v.get('period')}"] = clean(v.get("value"))
    return {"wall": wall, "cpu": cpu, "rss_kb": rss, "values": values}


def work_kpi(a):
    cmd = [a.kpi, "eval", a.pack or os.path.join(HERE, "pack.yaml"), "--format", "json", "--as-of", AS_OF,
           "--fail-on", "never", "--data", f"posts={a.data}"]
    return run_binary("kpi", cmd, "build it: cargo build --release")


def work_evalexpr(a):
    return run_binary("evalexpr baseline", [a.baseline, a.data, AS_OF],
                      "build it: cargo build --release --example evalexpr_baseline")


def work_duckdb(a):
    import duckdb
    c0 = cpu_seconds(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads = {a.threads}")
    rows = con.execute(SQL, [a.data]).fetchall()
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(resource.RUSAGE_SELF) - c0
    values = {f"{k}|{r[0]}|{r[1]}": clean(v) for r in rows for k, v in zip(KPIS, r[2:])}
    return {"wall": wall, "cpu": cpu, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "values": values}


def work_polars(a):
    import polars as pl
    c = pl.col

    def div(n, d):
        return pl.when(d != 0).then(n.cast(pl.Float64) / d.cast(pl.Float64)).otherwise(None)

    def s(name):  # sum of no non-null value is null, as in SQL
        return pl.when(c(name).count() > 0).then(c(name).sum()).otherwise(None)

    c0 = cpu_seconds(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    ints = {k: pl.Int64 for k in ("impressions", "reach", "likes", "comments", "shares", "saves",
                                  "clicks", "conversions", "new_followers", "unfollows")}
    lf = pl.scan_csv(a.data, schema_overrides={"date": pl.Date, "channel": pl.Utf8, "campaign": pl.Utf8,
                                               "post_id": pl.Utf8, "revenue": pl.Float64,
                                               "spend": pl.Float64, **ints})
    c07 = c("likes").filter(c("campaign") == "c07")
    out = (lf.filter(c("date") <= pl.date(*map(int, AS_OF.split("-"))))
           .group_by(c("channel"), c("date").dt.strftime("%Y-%m").alias("period"))
           .agg(
               div(s("likes") + s("comments") + s("shares") + s("saves"), s("reach")).alias("engagement_rate"),
               div(s("clicks"), s("impressions")).alias("ctr"),
               div(s("conversions"), s("clicks")).alias("conversion_rate"),
               div(s("revenue") - s("spend"), s("spend")).alias("roi"),
               div(s("spend"), s("clicks")).alias("cpc"),
               div(((c("likes") + c("comments")) > 0).sum(), pl.len()).alias("reaction_rate"),
               c("reach").mean().alias("avg_reach"),
               s("reach").alias("total_reach"),
               (s("new_followers") - s("unfollows")).alias("net_follower_growth"),
               pl.when(c07.count() > 0).then(c07.sum()).otherwise(None).alias("c07_likes"),
               c("post_id").drop_nulls().n_unique().alias("distinct_posts"),
               div(s("revenue"), s("conversions")).alias("revenue_per_conversion"),
           ).collect())
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(resource.RUSAGE_SELF) - c0
    values = {f"{k}|{r['channel']}|{r['period']}": clean(r[k]) for r in out.iter_rows(named=True) for k in KPIS}
    return {"wall": wall, "cpu": cpu, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "values": values}


WORKERS = {"kpi": work_kpi, "duckdb": work_duckdb, "polars": work_polars, "evalexpr": work_evalexpr}


# ---------------------------------------------------------------- driver

def run_worker(engine, a, data=None, pack=None, keep_values=True):
    env = dict(os.environ, POLARS_MAX_THREADS=str(a.threads))
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", engine, "--data", data or a.data,
           "--kpi", a.kpi, "--baseline", a.baseline, "--threads", str(a.threads)]
    if pack:
        cmd += ["--pack", pack]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        return {"error": f"{engine} worker failed: {p.stderr.strip()[-600:]}"}
    res = json.loads(p.stdout)
    if not keep_values:
        res.pop("values", None)
    return res


def compare(want, got):
    """Mismatches of got against want (both {key: value}): missing, extra, or off by > 1e-9."""
    bad = []
    for k in sorted(set(want) | set(got)):
        w, g = want.get(k, "missing"), got.get(k, "missing")
        if w == "missing" or g == "missing":
            bad.append((k, w, g))
        elif w is None or g is None:
            if not (w is None and g is None):
                bad.append((k, w, g))
        elif abs(w - g) > 1e-9 * max(abs(w), abs(g), 1e-300):
            bad.append((k, w, g))
    return bad


def fmt_mb(kb):
    return f"{kb / 1024:.0f} MB"


def fmt_rows(n):
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"


def load():
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def data_file(rows):
    path = os.path.join(HERE, "data", f"posts_{rows}.csv")
    if not os.path.exists(path):
        sys.path.insert(0, HERE)
        import gen_posts
        gen_posts.generate(rows, path)
    return os.path.abspath(path)


def compare_engines(a, engines, summary):
    """(a) and (c): the engines on one file, alternating, then the cross-check."""
    print(f"== kpi eval vs DuckDB vs Polars vs per-row evalexpr ({load()})")
    print(f"data: {a.data} ({os.path.getsize(a.data) / 1e6:.0f} MB); {a.runs} rounds "
          f"(evalexpr: {min(a.runs, a.baseline_rounds)}); DuckDB/Polars threads: {a.threads}; kpi: {a.kpi}")
    results = {e: [] for e in engines}
    values, errors = {}, {}
    for i in range(a.runs):
        for e in engines:
            if e == "evalexpr" and i >= a.baseline_rounds:
                continue
            r = run_worker(e, a, keep_values=(e not in values))
            if "error" in r:
                errors.setdefault(e, r["error"])
                print(f"  round {i + 1} {e:8s} FAILED")
                continue
            results[e].append(r)
            if "values" in r:
                values[e] = r["values"]
            print(f"  round {i + 1} {e:8s} {r['wall']:7.2f}s  {fmt_mb(r['rss_kb']):>8s}  "
                  f"CPU {r['cpu']:6.2f}s")

    print(f"\n{'engine':8s} {'median wall':>12s} {'best wall':>10s} {'median CPU':>11s} {'peak RSS':>10s} "
          f"{'CPU/wall':>9s}")
    med, best, cpu = {}, {}, {}
    for e in engines:
        if results[e]:
            med[e] = statistics.median(r["wall"] for r in results[e])
            best[e] = min(r["wall"] for r in results[e])
            cpu[e] = statistics.median(r["cpu"] for r in results[e])
            rss = max(r["rss_kb"] for r in results[e])
            util = statistics.median(r["cpu"] / r["wall"] for r in results[e])
            print(f"{e:8s} {med[e]:11.2f}s {best[e]:9.2f}s {cpu[e]:10.2f}s {fmt_mb(rss):>10s} {util:9.2f}")
        else:
            print(f"{e:8s} {'failed':>12s}   {errors.get(e, '')}")
    # On a shared machine a round can lose a core to another job: the best wall (the least
    # disturbed round) and the CPU time (the work done) are steadier than the median.
    for other in ("duckdb", "polars"):
        if "kpi" in med and other in med:
            print(f"kpi/{other}: {med['kpi'] / med[other]:.2f}x median wall time, "
                  f"{best['kpi'] / best[other]:.2f}x best wall, {cpu['kpi'] / cpu[other]:.2f}x CPU time")
            summary[f"kpi/{other}"] = med["kpi"] / med[other]
    if "kpi" in med and "evalexpr" in med:
        speed = med["evalexpr"] / med["kpi"]
        summary["speedup"] = speed
        print(f"evalexpr/kpi: {speed:.1f}x speed-up in wall time "
              f"({cpu['evalexpr'] / cpu['kpi']:.1f}x in CPU time: the baseline is one thread)")

    if "duckdb" in values:
        for e in ("kpi", "polars", "evalexpr"):
            if e not in values:
                if e in engines:
                    print(f"cross-check {e} vs duckdb: not done ({e} failed)")
                continue
            bad = compare(values["duckdb"], values[e])
            summary[f"mismatches {e}"] = len(bad)
            print(f"cross-check {e} vs duckdb: {len(bad)} mismatches of {len(values['duckdb'])} values")
            for k, w, g in bad[:10]:
                print(f"    {k}: duckdb {w}, {e} {g}")
    for e, msg in errors.items():
        print(f"\n{e} failed: {msg}", file=sys.stderr)


def pack_without_distinct():
    """bench/pack.yaml without its count_distinct KPI, in bench/out/ (git-ignored)."""
    lines, skip = [], False
    with open(os.path.join(HERE, "pack.yaml")) as f:
        for line in f:
            if line.startswith("  ") and not line.startswith("    "):
                skip = line.strip() == "distinct_posts:"
            if not skip:
                lines.append(line)
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    path = os.path.join(HERE, "out", "pack_nodistinct.yaml")
    with open(path, "w") as f:
        f.writelines(lines)
    return path


def scaling(a, summary):
    """(d) and (e): kpi on each row count, alternating, for bench/pack.yaml and for the pack
    without count_distinct (the one KPI whose memory grows with distinct values)."""
    rows = [int(x) for x in a.scaling_rows.split(",")]
    packs = [("pack.yaml", os.path.join(HERE, "pack.yaml")),
             ("no count_distinct", pack_without_distinct())]
    files = {n: data_file(n) for n in rows}
    print(f"\n== scaling: kpi eval on {', '.join(fmt_rows(n) for n in rows)} rows, "
          f"{a.scaling_runs} rounds ({load()})")
    res = {(p, n): [] for p, _ in packs for n in rows}
    for i in range(a.scaling_runs):
        for p, path in packs:
            for n in rows:
                r = run_worker("kpi", a, data=files[n], pack=path, keep_values=False)
                if "error" in r:
                    print(f"  round {i + 1} {p} {fmt_rows(n)} FAILED: {r['error']}")
                    continue
                res[(p, n)].append(r)
                print(f"  round {i + 1} {p:17s} {fmt_rows(n):>4s} {r['wall']:7.2f}s  "
                      f"{fmt_mb(r['rss_kb']):>8s}  CPU/wall {r['cpu'] / r['wall']:.2f}")
    print(f"\n{'pack':17s} {'rows':>5s} {'median wall':>12s} {'ns/row':>7s} {'peak RSS':>9s} {'CPU/wall':>9s}")
    stats = {}
    for p, _ in packs:
        for n in rows:
            rs = res[(p, n)]
            if not rs:
                continue
            wall = statistics.median(r["wall"] for r in rs)
            rss = max(r["rss_kb"] for r in rs)
            util = statistics.median(r["cpu"] / r["wall"] for r in rs)
            stats[(p, n)] = (wall, rss, util)
            print(f"{p:17s} {fmt_rows(n):>5s} {wall:11.2f}s {wall / n * 1e9:7.0f} "
                  f"{rss / 1024:6.0f} MB {util:9.2f}")
    lo, hi = rows[0], rows[-1]
    for p, _ in packs:
        if (p, lo) in stats and (p, hi) in stats and hi != lo:
            (w0, m0, _), (w1, m1, u1) = stats[(p, lo)], stats[(p, hi)]
            growth = (m1 / m0 - 1) * 100
            per_row = (w1 / hi) / (w0 / lo)
            print(f"{p}: {fmt_rows(lo)} -> {fmt_rows(hi)} rows ({hi / lo:.0f}x): time {w1 / w0:.2f}x "
                  f"(per-row time {per_row:.2f}x), peak RSS {m0 / 1024:.0f} -> {m1 / 1024:.0f} MB "
                  f"({growth:+.0f}%), CPU/wall {u1:.2f} at {fmt_rows(hi)}")
            summary[f"scaling {p}"] = dict(rss_mb=m1 / 1024, growth=growth, per_row=per_row, util=u1,
                                           time_ratio=w1 / w0, row_ratio=hi / lo)


def check_timing(a, summary):
    """(b): `kpi check` of a generated pack: median wall of --check-runs runs."""
    sys.path.insert(0, HERE)
    import gen_pack
    folder = os.path.join(HERE, "data", f"pack_{a.check_kpis}")
    path = gen_pack.generate(a.check_kpis, folder)
    cmd = [a.kpi, "check", folder]
    print(f"\n== kpi check of a generated {a.check_kpis:,}-KPI pack ({path}), "
          f"{a.check_runs} runs ({load()})")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        print(f"cannot run {a.kpi}: {e}")
        return
    last = (p.stdout + p.stderr).strip().splitlines()[-1:] or [""]
    print(f"exit {p.returncode}: {last[0]}")
    if p.returncode != 0:
        print(p.stderr[-2000:])
        return
    walls, cpus, rss = [], [], 0
    for _ in range(a.check_runs):
        t0 = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(child.pid, 0)  # this child's own rusage
        walls.append(time.perf_counter() - t0)
        child.returncode = os.waitstatus_to_exitcode(status)
        cpus.append(ru.ru_utime + ru.ru_stime)
        rss = max(rss, ru.ru_maxrss)
    med = statistics.median(walls)
    print(f"kpi check: median {med * 1000:.0f} ms (CPU {statistics.median(cpus) * 1000:.0f} ms), "
          f"min {min(walls) * 1000:.0f} ms, max {max(walls) * 1000:.0f} ms; peak RSS {fmt_mb(rss)}")
    summary["check_ms"] = med * 1000


def print_summary(summary):
    def met(ok):
        return "met" if ok else "NOT met"

    print(f"\n== issue 8 targets ({load()})")
    if "kpi/duckdb" in summary and "kpi/polars" in summary:
        best = max(summary["kpi/duckdb"], summary["kpi/polars"])
        print(f"(a) kpi/duckdb {summary['kpi/duckdb']:.2f}x, kpi/polars {summary['kpi/polars']:.2f}x "
              f"wall time; 0.5x of the faster: {met(best <= 0.5)}")
    if "check_ms" in summary:
        print(f"(b) kpi check, generated pack: {summary['check_ms']:.0f} ms median; "
              f"< 100 ms: {met(summary['check_ms'] < 100)}")
    if "speedup" in summary:
        print(f"(c) evalexpr/kpi: {summary['speedup']:.1f}x; >= 20x: {met(summary['speedup'] >= 20)}")
    for p in ("pack.yaml", "no count_distinct"):
        s = summary.get(f"scaling {p}")
        if not s:
            continue
        print(f"(d) {p}: peak RSS {s['rss_mb']:.0f} MB, <= 100 MiB: {met(s['rss_mb'] <= 100)}; "
              f"growth {s['growth']:+.0f}% for {s['row_ratio']:.0f}x rows, < 10%: {met(s['growth'] < 10)}")
        print(f"(e) {p}: time {s['time_ratio']:.2f}x for {s['row_ratio']:.0f}x rows (per-row "
              f"{s['per_row']:.2f}x), linear: {met(s['per_row'] <= 1.1)}; CPU/wall {s['util']:.2f}, "
              f"both cores: {met(s['util'] >= 1.5)}")


def main():
    ap = argparse.ArgumentParser(description="the benchmark of issue 8 (see the module docstring)")
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows of the engine comparison (default 10M)")
    ap.add_argument("--data", help="an existing posts CSV (default bench/data/posts_ROWS.csv, generated if missing)")
    ap.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--kpi", default=os.path.join(ROOT, "target", "release", "kpi"), help="the kpi binary")
    ap.add_argument("--baseline", default=os.path.join(ROOT, "target", "release", "examples", "evalexpr_baseline"),
                    help="the evalexpr baseline binary (cargo build --release --example evalexpr_baseline)")
    ap.add_argument("--baseline-rounds", type=int, default=1,
                    help="rounds that run the evalexpr baseline (default 1: the first; it is slow)")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB and Polars threads (default 2)")
    ap.add_argument("--engines", default="kpi,duckdb,polars,evalexpr", help="comma-separated subset")
    ap.add_argument("--no-compare", action="store_true", help="skip the engine comparison")
    ap.add_argument("--no-scaling", action="store_true", help="skip the 1M/10M scaling runs")
    ap.add_argument("--scaling-rows", default="1000000,10000000", help="row counts of the scaling runs")
    ap.add_argument("--scaling-runs", type=int, help="rounds of the scaling runs (default --runs)")
    ap.add_argument("--no-check", action="store_true", help="skip the kpi check timing")
    ap.add_argument("--check-kpis", type=int, default=1000, help="KPIs of the generated pack (default 1000)")
    ap.add_argument("--check-runs", type=int, default=20, help="runs of kpi check (default 20)")
    ap.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--pack", help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.kpi = os.path.abspath(a.kpi)
    a.baseline = os.path.abspath(a.baseline)
    if a.worker:
        a.data = os.path.abspath(a.data)
        try:
            res = WORKERS[a.worker](a)
        except Exception as e:  # reported by the driver, which goes on with the other engines
            res = {"error": f"{type(e).__name__}: {e}"}
        json.dump(res, sys.stdout)
        return

    a.data = os.path.abspath(a.data) if a.data else data_file(a.rows)
    a.scaling_runs = a.scaling_runs or a.runs
    engines = [e for e in a.engines.split(",") if e]
    summary = {}
    if not a.no_compare:
        compare_engines(a, engines, summary)
    if not a.no_scaling:
        scaling(a, summary)
    if not a.no_check:
        check_timing(a, summary)
    print_summary(summary)


if __name__ == "__main__":
    main()
