#!/usr/bin/env python3
"""Write a large deterministic posts CSV for the benchmark (the SMM `posts` columns plus
new_followers and unfollows).

    python3 bench/gen_posts.py --rows 10000000 --out bench/data/posts_10000000.csv

Needs numpy (pip install numpy). The same --rows and --seed always give the same file. Rows are in
date order over 2026-01-01..2026-12-31; about 30% of posts are paid (campaign c01..c08, spend > 0),
the rest organic (empty campaign, spend 0); a few comments, saves and clicks are empty (null).
Written in chunks with polars' CSV writer when polars is installed (fast), else with a plain loop.
"""
import argparse
import datetime as dt
import os
import sys
import time

import numpy as np

CHANNELS = np.array(["instagram", "facebook", "vk", "telegram", "tiktok", "x"])
WEIGHTS = np.array([24, 18, 16, 14, 18, 10], dtype=float) / 100
REACH = np.array([5200, 3400, 2600, 4100, 12500, 1600], dtype=float)
ER = np.array([0.052, 0.024, 0.036, 0.016, 0.071, 0.012])
CTR = np.array([0.012, 0.018, 0.015, 0.022, 0.007, 0.009])
CVR = np.array([0.035, 0.030, 0.025, 0.020, 0.015, 0.010])
CPC = np.array([0.55, 0.45, 0.30, 0.25, 0.80, 0.90])
CAMPAIGNS = np.array([f"c{i:02d}" for i in range(1, 9)])
COLUMNS = ["date", "channel", "campaign", "post_id", "impressions", "reach", "likes", "comments",
           "shares", "saves", "clicks", "conversions", "revenue", "spend", "new_followers",
           "unfollows"]
START = dt.date(2026, 1, 1)
DAYS = 365
CHUNK = 1_000_000


def chunk_columns(rng, lo, hi, total):
    """Columns of rows lo..hi (numpy arrays; masked = null)."""
    n = hi - lo
    idx = np.arange(lo, hi)
    day = (idx * DAYS) // total  # non-decreasing: the file is in date order
    ch = rng.choice(len(CHANNELS), size=n, p=WEIGHTS)
    paid = rng.random(n) < 0.3
    camp = np.where(paid, np.minimum(7, day // 46), -1)
    reach = np.maximum(50, rng.lognormal(np.log(REACH[ch]), 0.5) * np.where(paid, 1.8, 1.0)).astype(np.int64)
    impressions = (reach * rng.uniform(1.15, 1.9, n)).astype(np.int64)
    lam = reach * ER[ch] * rng.lognormal(0, 0.3, n) * (rng.random(n) >= 0.04)
    likes = rng.poisson(lam * 0.72)
    comments = rng.poisson(lam * 0.07)
    shares = rng.poisson(lam * 0.09)
    saves = rng.poisson(lam * 0.12)
    clicks = rng.poisson(impressions * CTR[ch] * rng.lognormal(0, 0.35, n))
    conversions = rng.poisson(clicks * CVR[ch])
    revenue = np.round(conversions * rng.uniform(20, 60, n), 2)
    spend = np.where(paid, np.round(clicks * CPC[ch] * rng.uniform(0.7, 1.3, n) + reach * 0.002, 2), 0.0)
    new_followers = rng.poisson(reach * 0.002)
    unfollows = rng.poisson(reach * 0.0008)
    null_comments = rng.random(n) < 0.003
    null_saves = rng.random(n) < 0.005
    null_clicks = rng.random(n) < 0.002
    return dict(day=day, ch=ch, camp=camp, idx=idx, impressions=impressions, reach=reach,
                likes=likes, comments=comments, shares=shares, saves=saves, clicks=clicks,
                conversions=conversions, revenue=revenue, spend=spend,
                new_followers=new_followers, unfollows=unfollows, null_comments=null_comments,
                null_saves=null_saves, null_clicks=null_clicks)


def write_polars(pl, f, c, header):
    dates = np.datetime64(START.isoformat()) + c["day"].astype("timedelta64[D]")
    df = pl.DataFrame({
        "date": dates,
        "channel": CHANNELS[c["ch"]],
        "campaign": pl.Series(np.where(c["camp"] >= 0, CAMPAIGNS[np.maximum(c["camp"], 0)], "")),
        "post_id": pl.Series(c["idx"] + 1).cast(pl.Utf8).str.zfill(9),
        "impressions": c["impressions"], "reach": c["reach"], "likes": c["likes"],
        "comments": pl.Series(c["comments"]).scatter(np.flatnonzero(c["null_comments"]), None),
        "shares": c["shares"],
        "saves": pl.Series(c["saves"]).scatter(np.flatnonzero(c["null_saves"]), None),
        "clicks": pl.Series(c["clicks"]).scatter(np.flatnonzero(c["null_clicks"]), None),
        "conversions": c["conversions"], "revenue": c["revenue"], "spend": c["spend"],
        "new_followers": c["new_followers"], "unfollows": c["unfollows"],
    }).with_columns(
        pl.col("date").cast(pl.Date),
        pl.when(pl.col("campaign") == "").then(None).otherwise(pl.col("campaign")).alias("campaign"),
        ("p" + pl.col("post_id")).alias("post_id"),
    )
    df.write_csv(f, include_header=header, float_precision=2, date_format="%Y-%m-%d")


def write_plain(f, c, header):
    if header:
        f.write(",".join(COLUMNS) + "\n")
    dates = [(START + dt.timedelta(days=d)).isoformat() for d in range(DAYS)]
    cols = [c[k].tolist() for k in ("day", "ch", "camp", "idx", "impressions", "reach", "likes",
                                     "comments", "shares", "saves", "clicks", "conversions",
                                     "revenue", "spend", "new_followers", "unfollows",
                                     "null_comments", "null_saves", "null_clicks")]
    out = []
    for (d, ch, camp, i, imp, rch, lk, cm, sh, sv, cl, cv, rev, sp, nf, uf, ncm, nsv, ncl) in zip(*cols):
        out.append(f"{dates[d]},{CHANNELS[ch]},{CAMPAIGNS[camp] if camp >= 0 else ''},p{i + 1:09d},"
                   f"{imp},{rch},{lk},{'' if ncm else cm},{sh},{'' if nsv else sv},"
                   f"{'' if ncl else cl},{cv},{rev:.2f},{sp:.2f},{nf},{uf}\n")
    f.write("".join(out))


def generate(rows, out, seed=42):
    try:
        import polars as pl
    except ImportError:
        pl = None
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".part"
    t0 = time.time()
    with open(tmp, "w", newline="") as f:
        for k, lo in enumerate(range(0, rows, CHUNK)):
            # one generator per chunk: the file does not depend on how fast it was written
            rng = np.random.default_rng([seed, k])
            c = chunk_columns(rng, lo, min(rows, lo + CHUNK), rows)
            if pl is not None:
                f.flush()
                write_polars(pl, f, c, header=(k == 0))
            else:
                write_plain(f, c, header=(k == 0))
    os.replace(tmp, out)
    print(f"wrote {rows:,} rows to {out} in {time.time() - t0:.1f}s "
          f"({os.path.getsize(out) / 1e6:.0f} MB)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", help="default bench/data/posts_ROWS.csv")
    ap.add_argument("--plain", action="store_true", help="write with the plain loop, not polars")
    a = ap.parse_args()
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", f"posts_{a.rows}.csv")
    if a.plain:
        sys.modules["polars"] = None  # makes `import polars` fail
    generate(a.rows, out, a.seed)


if __name__ == "__main__":
    main()
