#!/usr/bin/env python3
"""Benchmark `kpi eval` against DuckDB and Polars on the 12 KPIs of bench/pack.yaml.

    cargo build --release
    pip install numpy duckdb polars
    python3 bench/run.py                    # 10M rows, 3 rounds
    python3 bench/run.py --rows 1000000     # a quick run

The posts file is generated first if missing (bench/gen_posts.py; bench/data/ is git-ignored).
Every round runs the three engines one after another, each in a fresh subprocess, so that its
peak RSS can be read on its own: for kpi, the worker's RUSAGE_CHILDREN after waiting for the
binary; for DuckDB and Polars, the worker's own RUSAGE_SELF (the Python interpreter included,
about 30-60 MB). Wall time covers, for kpi, the whole process (start-up, CSV scan, report); for
DuckDB and Polars, connecting/scanning to the fetched result, but not `import`. DuckDB runs with
`SET threads=N` and Polars with POLARS_MAX_THREADS=N (--threads, default 2).

Then kpi's values are checked against DuckDB's (relative tolerance 1e-9, null == null) and the
mismatches are counted; Polars is checked the same way as a sanity check of the benchmark itself.
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

def work_kpi(a):
    cmd = [a.kpi, "eval", os.path.join(HERE, "pack.yaml"), "--format", "json", "--as-of", AS_OF,
           "--fail-on", "never", "--data", f"posts={a.data}"]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        return {"error": f"cannot run {a.kpi}: {e} (build it: cargo build --release)"}
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if p.returncode != 0:
        return {"error": f"kpi exited {p.returncode}: {p.stderr.strip()[-600:]}", "wall": wall}
    try:
        rep = json.loads(p.stdout)
    except ValueError:
        return {"error": f"kpi printed no JSON report: {p.stdout[:200]!r} {p.stderr.strip()[-400:]}",
                "wall": wall}
    values = {}
    for k in rep.get("kpis", []):
        for v in k.get("values", []):
            values[f"{k.get('id')}|{(v.get('group') or {}).get('channel')}|{v.get('period')}"] = clean(v.get("value"))
    return {"wall": wall, "rss_kb": rss, "values": values}


def work_duckdb(a):
    import duckdb
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads = {a.threads}")
    rows = con.execute(SQL, [a.data]).fetchall()
    wall = time.perf_counter() - t0
    values = {f"{k}|{r[0]}|{r[1]}": clean(v) for r in rows for k, v in zip(KPIS, r[2:])}
    return {"wall": wall, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "values": values}


def work_polars(a):
    import polars as pl
    c = pl.col

    def div(n, d):
        return pl.when(d != 0).then(n.cast(pl.Float64) / d.cast(pl.Float64)).otherwise(None)

    def s(name):  # sum of no non-null value is null, as in SQL
        return pl.when(c(name).count() > 0).then(c(name).sum()).otherwise(None)

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
    values = {f"{k}|{r['channel']}|{r['period']}": clean(r[k]) for r in out.iter_rows(named=True) for k in KPIS}
    return {"wall": wall, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "values": values}


WORKERS = {"kpi": work_kpi, "duckdb": work_duckdb, "polars": work_polars}


# ---------------------------------------------------------------- driver

def run_worker(engine, a, keep_values):
    env = dict(os.environ, POLARS_MAX_THREADS=str(a.threads))
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", engine, "--data", a.data,
           "--kpi", a.kpi, "--threads", str(a.threads)]
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


def main():
    ap = argparse.ArgumentParser(description="kpi vs DuckDB vs Polars on bench/pack.yaml")
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows to generate (default 10M)")
    ap.add_argument("--data", help="an existing posts CSV (default bench/data/posts_ROWS.csv, generated if missing)")
    ap.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--kpi", default=os.path.join(ROOT, "target", "release", "kpi"), help="the kpi binary")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB and Polars threads (default 2)")
    ap.add_argument("--engines", default="kpi,duckdb,polars", help="comma-separated subset")
    ap.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.kpi = os.path.abspath(a.kpi)
    if a.worker:
        a.data = os.path.abspath(a.data)
        try:
            res = WORKERS[a.worker](a)
        except Exception as e:  # reported by the driver, which goes on with the other engines
            res = {"error": f"{type(e).__name__}: {e}"}
        json.dump(res, sys.stdout)
        return

    if not a.data:
        a.data = os.path.join(HERE, "data", f"posts_{a.rows}.csv")
        if not os.path.exists(a.data):
            sys.path.insert(0, HERE)
            import gen_posts
            gen_posts.generate(a.rows, a.data)
    a.data = os.path.abspath(a.data)
    engines = [e for e in a.engines.split(",") if e]
    print(f"data: {a.data} ({os.path.getsize(a.data) / 1e6:.0f} MB); {a.runs} rounds; "
          f"DuckDB/Polars threads: {a.threads}; kpi: {a.kpi}")

    results = {e: [] for e in engines}
    values, errors = {}, {}
    for i in range(a.runs):
        for e in engines:
            r = run_worker(e, a, keep_values=(i == 0))
            if "error" in r:
                errors.setdefault(e, r["error"])
                print(f"  round {i + 1} {e:7s} FAILED")
                continue
            results[e].append(r)
            if "values" in r:
                values[e] = r["values"]
            print(f"  round {i + 1} {e:7s} {r['wall']:7.2f}s  {fmt_mb(r['rss_kb'])}")

    print(f"\n{'engine':8s} {'median wall':>12s} {'peak RSS':>10s}")
    med = {}
    for e in engines:
        if results[e]:
            med[e] = statistics.median(r["wall"] for r in results[e])
            rss = max(r["rss_kb"] for r in results[e])
            print(f"{e:8s} {med[e]:11.2f}s {fmt_mb(rss):>10s}")
        else:
            print(f"{e:8s} {'failed':>12s}   {errors.get(e, '')}")
    for other in ("duckdb", "polars"):
        if "kpi" in med and other in med:
            print(f"kpi/{other}: {med['kpi'] / med[other]:.2f}x wall time")

    if "duckdb" in values:
        for e in ("kpi", "polars"):
            if e not in values:
                if e in engines:
                    print(f"cross-check {e} vs duckdb: not done ({e} failed)")
                continue
            bad = compare(values["duckdb"], values[e])
            print(f"cross-check {e} vs duckdb: {len(bad)} mismatches of {len(values['duckdb'])} values")
            for k, w, g in bad[:10]:
                print(f"    {k}: duckdb {w}, {e} {g}")
    for e, msg in errors.items():
        print(f"\n{e} failed: {msg}", file=sys.stderr)


if __name__ == "__main__":
    main()
