#!/usr/bin/env python3
"""Generate the sample data of the shipped SMM pack: kpis/smm/data/posts.csv and audience.csv.

Deterministic (fixed seed, standard library only): the same options always write the same bytes.

    python3 scripts/gen_smm_data.py                    # the committed sample (8,000 posts)
    python3 scripts/gen_smm_data.py --posts 50000 --out /tmp/smm --seed 7

What the data looks like, on purpose:
- six channels (instagram, facebook, vk, telegram, tiktok, x) with their own reach, engagement,
  click-through and conversion levels, and a seasonal drift month to month;
- paid posts belong to a campaign c01..c08 (roughly one campaign every six weeks); organic posts
  have an empty campaign and spend 0, so CPC and ROI divide by zero where nothing was paid
  (telegram is organic only: its ROI is null every month);
- `x` stops posting after September (no posts, no audience rows from 2026-10-01): a goal on it gets
  `no_data` for October and November;
- a few deliberately empty fields (null): comments, saves, clicks in posts, mentions in audience;
- some posts got no reaction at all (likes + comments + shares = 0);
- dates run 2026-01-01..2026-11-30: rows after a run's --as-of are ignored by kpi, as intended.
"""
import argparse
import csv
import datetime as dt
import math
import os
import random

# channel: share of posts, mean reach, engagement rate, CTR (of impressions), conversion rate
# (of clicks), cost per click, share of paid posts, followers on Jan 1, new followers per day,
# unfollows as a share of new followers, mentions per day, seasonal phase
CHANNELS = {
    "instagram": dict(w=24, reach=5200, er=0.052, ctr=0.012, cvr=0.035, cpc=0.55, paid=0.30,
                      f0=125_000, new=180, unf=0.45, men=35, phase=0.0),
    "facebook": dict(w=18, reach=3400, er=0.024, ctr=0.018, cvr=0.030, cpc=0.45, paid=0.35,
                     f0=84_000, new=70, unf=0.70, men=20, phase=2.0),
    "vk": dict(w=16, reach=2600, er=0.036, ctr=0.015, cvr=0.025, cpc=0.30, paid=0.25,
               f0=61_000, new=60, unf=0.60, men=15, phase=4.0),
    "telegram": dict(w=14, reach=4100, er=0.016, ctr=0.022, cvr=0.020, cpc=0.0, paid=0.0,
                     f0=43_000, new=90, unf=0.50, men=12, phase=6.0),
    "tiktok": dict(w=18, reach=12500, er=0.071, ctr=0.007, cvr=0.015, cpc=0.80, paid=0.20,
                   f0=152_000, new=420, unf=0.40, men=50, phase=8.0),
    "x": dict(w=10, reach=1600, er=0.012, ctr=0.009, cvr=0.010, cpc=0.90, paid=0.15,
              f0=21_000, new=15, unf=0.90, men=25, phase=10.0),
}
X_LAST_DAY = dt.date(2026, 9, 30)  # x stops posting (and reporting its audience) after September
CAMPAIGNS = [f"c{i:02d}" for i in range(1, 9)]
POSTS_HEADER = ["date", "channel", "campaign", "post_id", "impressions", "reach", "likes",
                "comments", "shares", "saves", "clicks", "conversions", "revenue", "spend"]
AUDIENCE_HEADER = ["date", "channel", "followers", "new_followers", "unfollows", "mentions"]


def poisson(rng, lam):
    """A Poisson draw: Knuth's method for small means, a rounded normal above."""
    if lam <= 0:
        return 0
    if lam < 30:
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


def season(ch, month, jitter):
    """Month-to-month drift of a channel's engagement: a yearly wave plus a fixed jitter."""
    return 1.0 + 0.12 * math.sin(2 * math.pi * (month + CHANNELS[ch]["phase"]) / 12) + jitter


def campaign_for(rng, day):
    """Campaigns run one after another, about six weeks each, and overlap a little."""
    start = dt.date(2026, 1, 1)
    pos = (day - start).days / 42.0 + rng.uniform(-0.35, 0.35)
    return CAMPAIGNS[max(0, min(len(CAMPAIGNS) - 1, int(pos)))]


def maybe_null(rng, value, share):
    return "" if rng.random() < share else value


def gen_posts(rng, n, start, end):
    days = (end - start).days + 1
    names = list(CHANNELS)
    weights = [CHANNELS[c]["w"] for c in names]
    jitter = {(c, m): rng.uniform(-0.06, 0.06) for c in names for m in range(1, 13)}
    drafts = []
    while len(drafts) < n:
        day = start + dt.timedelta(days=rng.randrange(days))
        ch = rng.choices(names, weights)[0]
        if ch == "x" and day > X_LAST_DAY:
            continue
        drafts.append((day, ch, rng.random()))
    drafts.sort()
    rows = []
    for i, (day, ch, _) in enumerate(drafts, 1):
        p = CHANNELS[ch]
        paid = rng.random() < p["paid"]
        campaign = campaign_for(rng, day) if paid else ""
        reach = max(50, round(rng.lognormvariate(math.log(p["reach"]), 0.5) * (1.8 if paid else 1.0)))
        impressions = round(reach * rng.uniform(1.15, 1.9))
        if rng.random() < 0.04:  # a dud: nobody reacted
            likes = comments = shares = saves = 0
        else:
            lam = reach * p["er"] * season(ch, day.month, jitter[(ch, day.month)])
            lam *= rng.lognormvariate(0, 0.3)
            likes = poisson(rng, lam * 0.72)
            comments = poisson(rng, lam * 0.07)
            shares = poisson(rng, lam * 0.09)
            saves = poisson(rng, lam * 0.12)
        clicks = poisson(rng, impressions * p["ctr"] * rng.lognormvariate(0, 0.35) * (1.3 if paid else 1.0))
        conversions = poisson(rng, clicks * p["cvr"] * rng.lognormvariate(0, 0.3))
        revenue = round(sum(max(5.0, rng.gauss(42, 12)) for _ in range(conversions)), 2)
        spend = round(clicks * p["cpc"] * rng.uniform(0.7, 1.3) + reach * 0.002, 2) if paid else 0.0
        rows.append([
            day.isoformat(), ch, campaign, f"p{i:06d}", impressions, reach, likes,
            maybe_null(rng, comments, 0.004), shares, maybe_null(rng, saves, 0.006),
            maybe_null(rng, clicks, 0.003), conversions, f"{revenue:.2f}", f"{spend:.2f}",
        ])
    return rows


def gen_audience(rng, start, end):
    rows = []
    followers = {c: CHANNELS[c]["f0"] for c in CHANNELS}
    day = start
    while day <= end:
        for ch, p in CHANNELS.items():
            if ch == "x" and day > X_LAST_DAY:
                continue
            # a slow summer and a busy autumn
            lift = 1.0 + 0.25 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 120) / 365)
            new = poisson(rng, p["new"] * lift)
            unf = poisson(rng, p["new"] * p["unf"] * rng.uniform(0.8, 1.2))
            followers[ch] += new - unf  # the count at the end of the day
            mentions = maybe_null(rng, poisson(rng, p["men"] * lift), 0.01)
            rows.append([day.isoformat(), ch, followers[ch], new, unf, mentions])
        day += dt.timedelta(days=1)
    return rows


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=8000, help="number of posts (default 8000)")
    ap.add_argument("--seed", type=int, default=20261120, help="random seed")
    ap.add_argument("--start", default="2026-01-01", help="first day (default 2026-01-01)")
    ap.add_argument("--end", default="2026-11-30", help="last day (default 2026-11-30)")
    ap.add_argument("--out", default=os.path.join(here, "..", "kpis", "smm", "data"),
                    help="output folder (default kpis/smm/data)")
    a = ap.parse_args()
    start, end = dt.date.fromisoformat(a.start), dt.date.fromisoformat(a.end)
    os.makedirs(a.out, exist_ok=True)
    # two streams so that changing --posts leaves the audience data as it is
    posts = gen_posts(random.Random(a.seed), a.posts, start, end)
    audience = gen_audience(random.Random(a.seed + 1), start, end)
    write(os.path.join(a.out, "posts.csv"), POSTS_HEADER, posts)
    write(os.path.join(a.out, "audience.csv"), AUDIENCE_HEADER, audience)
    print(f"wrote {len(posts)} posts and {len(audience)} audience rows to {os.path.normpath(a.out)}")


if __name__ == "__main__":
    main()
