"""Early warning on the demo company's planted churn: back-test and reasons against the truth.

    python benchmarks/churn_demo.py --workspace demo-workspace     # a `cxlens demo` workspace

Trains (rolling back-test, then the final model) and prints the back-test table of the churn
model and of the health scorecard side by side; then, for every account that churned in the
last 18 months of the history, scores it 30 days before it left, using only what was known
then, and checks whether its planted causes are among its top three reasons. Target: back-test
ROC-AUC >= 0.85; report the share of churners whose causes appear.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from cxlens.demo.churn import CAUSE_FEATURES
from cxlens.workspace import Workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("demo-workspace"))
    parser.add_argument("--months", type=int, default=18, help="Churners of the last N months.")
    args = parser.parse_args()
    ws = Workspace(args.workspace)
    start = time.perf_counter()
    report = ws.risk.train()
    print(f"trained in {time.perf_counter() - start:.0f} s: {report.rows:,} account-months, "
          f"{report.churn_rate:.1%} churned within {report.horizon_days} days")  # fmt: skip
    print(f"\n{'back-test':<18}{'ROC-AUC':>9}{'PR-AUC':>9}{'lift@10%':>10}{'Brier':>9}{'n':>8}")
    for name in ("model", "scorecard"):
        m = report.backtest[name]
        print(
            f"{'churn model' if name == 'model' else 'health scorecard':<18}"
            f"{m['roc_auc']:>9.3f}{m['pr_auc']:>9.3f}{m['top_decile_lift']:>10.2f}"
            f"{m['brier']:>9.4f}{m['n']:>8,}"
        )
    for w in report.backtest["windows"]:
        print(f"  {w['start']} – {w['end']}: model {w['model']['roc_auc']:.3f}, scorecard "
              f"{w['scorecard'].get('roc_auc', float('nan')):.3f}, {w['churned']} churned "
              f"of {w['test_rows']:,}")  # fmt: skip

    churn = pd.read_parquet(args.workspace / "truth" / "churn.parquet").dropna(subset=["causes"])
    links = ws.store.query("SELECT record_id, master_id FROM record_links").to_pandas()
    master = dict(zip(links["record_id"], links["master_id"], strict=True))
    churn["account"] = ("stripe:" + churn["stripe_customer_id"]).map(master)
    churn["churn_date"] = pd.to_datetime(churn["churn_date"])
    last = churn["churn_date"].max()
    churn = churn.dropna(subset=["account"])
    churn = churn[churn["churn_date"] > last - pd.DateOffset(months=args.months)]
    hits, total, by_cause = 0, 0, {c: [0, 0] for c in CAUSE_FEATURES}
    for month, group in churn.groupby(churn["churn_date"].dt.to_period("M")):
        as_of = (month.to_timestamp() - pd.Timedelta(days=30)).date()
        scored = ws.risk.score(as_of=as_of, save=False).set_index("account_id")
        for row in group.itertuples():
            if row.account not in scored.index:
                continue
            features = {r["feature"] for r in scored.loc[row.account, "reasons"]}
            causes = [c for c in str(row.causes).split(";") if c in CAUSE_FEATURES]
            found = [c for c in causes if features & CAUSE_FEATURES[c]]
            total += 1
            hits += bool(found)
            for c in causes:
                by_cause[c][1] += 1
                by_cause[c][0] += c in found
    print(f"\nchurners of the last {args.months} months scored 30 days before leaving: {total}")
    print(f"  a planted cause among their top 3 reasons: {hits / total:.0%} ({hits}/{total})")
    for cause, (found, seen) in by_cause.items():
        if seen:
            print(f"    {cause:<16} {found / seen:5.0%} ({found}/{seen})")
    ws.close()


if __name__ == "__main__":
    main()
