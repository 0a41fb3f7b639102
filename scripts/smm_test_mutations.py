"""Mutation check of kpis/smm/tests: change one KPI formula at a time in a scratch copy of
the pack and run `kpi test` on it; every mutation should be killed (exit 1).

    cargo build && python3 scripts/smm_test_mutations.py
"""
import os, shutil, subprocess, sys, tempfile
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "debug", "kpi")
SRC = os.path.join(ROOT, "kpis", "smm")
# (kpi id, old, new): the replacement is applied to the formula line of that KPI only
M = [
 ("followers", "last(followers)", "first(followers)"),
 ("followers", "last(followers)", "max(followers)"),
 ("net_follower_growth", "sum(new_followers) - sum(unfollows)", "sum(new_followers)"),
 ("net_follower_growth", "sum(new_followers) - sum(unfollows)", "sum(new_followers) + sum(unfollows)"),
 ("follower_growth_rate", "/ first(followers)", "/ last(followers)"),
 ("follower_growth_rate", "(sum(new_followers) - sum(unfollows))", "sum(new_followers)"),
 ("audience_retention", "sum(unfollows)", "sum(new_followers)"),
 ("audience_retention", "first(followers)", "last(followers)"),
 ("mentions", "sum(mentions)", "count(mentions)"),
 ("mentions", "sum(mentions)", "max(mentions)"),
 ("total_mentions", "sum(mentions)", "max(mentions)"),
 ("engagement_rate", " + sum(saves)", ""),
 ("engagement_rate", "sum(reach)", "sum(impressions)"),
 ("engagement_rate_all", " + sum(saves)", ""),
 ("engagement_rate_all", "sum(likes)", "avg(likes)"),
 ("engagement_rate_weekly", "sum(reach)", "sum(impressions)"),
 ("engagement_rate_weekly", " + sum(comments)", ""),
 ("reaction_rate", "> 0", ">= 0"),
 ("reaction_rate", "likes + comments + shares", "likes + shares"),
 ("reaction_rate", "count()", "count(likes)"),
 ("reach", "sum(reach)", "avg(reach)"),
 ("reach", "sum(reach)", "sum(impressions)"),
 ("total_reach", "sum(reach)", "max(reach)"),
 ("channel_share_of_reach", "reach / total_reach", "reach / 1000"),
 ("impressions", "sum(impressions)", "sum(reach)"),
 ("impressions", "sum(impressions)", "avg(impressions)"),
 ("posts_published", "count()", "count(saves)"),
 ("posts_published", "count()", "count(where likes > 0)"),
 ("posts_per_week", "count()", "count_distinct(channel)"),
 ("ctr", "sum(clicks) / sum(impressions)", "sum(clicks) / sum(reach)"),
 ("ctr", "sum(clicks)", "sum(conversions)"),
 ("conversion_rate", "sum(conversions) / sum(clicks)", "sum(conversions) / sum(impressions)"),
 ("cpc", "sum(spend) / sum(clicks)", "sum(spend) / sum(conversions)"),
 ("cpc", "sum(spend)", "avg(spend)"),
 ("revenue", "sum(revenue)", "max(revenue)"),
 ("revenue", "sum(revenue)", "sum(revenue where campaign != \"\")"),
 ("total_revenue", "sum(revenue)", "max(revenue)"),
 ("total_revenue", "sum(revenue)", "sum(revenue where spend > 0)"),
 ("roi", "(sum(revenue) - sum(spend)) / sum(spend)", "sum(revenue) / sum(spend)"),
 ("total_roi", "(sum(revenue) - sum(spend)) / sum(spend)", "sum(revenue) / sum(spend)"),
 ("total_roi", "/ sum(spend)", "/ sum(revenue)"),
]
def apply(kpi, old, new):
    for f in os.listdir(DST):
        p = os.path.join(DST, f)
        if not f.endswith(".yaml"): continue
        lines = open(p).read().split("\n")
        inside = False
        for i, l in enumerate(lines):
            if l.startswith("  ") and not l.startswith("   ") and l.strip().endswith(":"):
                inside = (l.strip() == kpi + ":")
            if inside and l.strip().startswith("formula:"):
                if old not in l: sys.exit(f"{kpi}: {old!r} not in {l!r}")
                lines[i] = l.replace(old, new, 1)
                open(p, "w").write("\n".join(lines)); return
    sys.exit(f"no formula for {kpi}")
DST = os.path.join(tempfile.mkdtemp(prefix="kpi-mutations-"), "smm")
survived = 0
for kpi, old, new in M:
    shutil.rmtree(DST, ignore_errors=True)
    shutil.copytree(SRC, DST, ignore=shutil.ignore_patterns("data"))
    apply(kpi, old, new)
    r = subprocess.run([BIN, "test", DST], capture_output=True, text=True)
    fails = [l.strip() for l in r.stdout.splitlines() if l.startswith("    ")]
    verdict = {0: "SURVIVED", 1: "killed", 2: "invalid"}.get(r.returncode, "?")
    survived += r.returncode != 1
    print(f"{verdict:8} {kpi}: `{old}` -> `{new}`  ({len(fails)} failing expectation(s)){'' if r.returncode!=2 else ' ' + r.stderr[:200]}")
shutil.rmtree(os.path.dirname(DST), ignore_errors=True)
sys.exit(1 if survived else 0)
