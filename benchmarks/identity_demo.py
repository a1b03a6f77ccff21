"""Accuracy of the master customer view on the demo company's planted duplicates.

    python benchmarks/identity_demo.py                       # 2,000 accounts, seeds 7 and 11
    python benchmarks/identity_demo.py --customers 500 --seeds 3

Generates the demo company, loads it into a fresh workspace, runs `resolve` (no labels are
used), and compares the resolved masters with the ground truth the generator planted:
pairwise precision, recall and F1 of the person and account masters (a pair of records is
predicted when both have the same master, true when both belong to the same planted party).
Also prints how the run's time splits. Target: F1 ≥ 0.98.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import duckdb

from cxlens.demo import demo_identity, demo_sources, generate_demo
from cxlens.workspace import Workspace

TRUTH = {"person": ("people.parquet", "person_id"), "account": ("accounts.parquet", "account_id")}


def pairwise(ws: Workspace, truth: Path, entity: str) -> dict[str, float]:
    file, key = TRUTH[entity]
    con = duckdb.connect()
    con.register(
        "links",
        ws.store.query("SELECT record_id, master_id FROM record_links WHERE entity = ?", [entity]),
    )
    con.execute(
        "CREATE TABLE j AS SELECT l.record_id, l.master_id, t.tid FROM links AS l JOIN "
        f"(SELECT DISTINCT system || ':' || source_key AS record_id, {key} AS tid "
        f"FROM '{truth / file}') AS t USING (record_id)"
    )

    def pairs(by: str) -> int:
        sql = (
            "SELECT coalesce(sum(n * (n - 1) / 2), 0) "
            f"FROM (SELECT count(*) AS n FROM j GROUP BY {by})"
        )
        return int(con.sql(sql).fetchall()[0][0])

    both, predicted, true = pairs("master_id, tid"), pairs("master_id"), pairs("tid")
    precision, recall = both / max(predicted, 1), both / max(true, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": true}


def run(customers: int, seed: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate_demo(root, customers=customers, seed=seed)
        ws = Workspace.init(root)
        for name, settings in demo_sources().items():
            ws.add_source(name, settings)
        ws.configure("identity", demo_identity())
        ws.ingest()
        report = ws.identity.resolve()
        result = {
            "customers": customers,
            "seed": seed,
            "seconds": round(report.seconds, 2),
            "timings": report.timings,
            **{e: pairwise(ws, root / "truth", e) for e in TRUTH},
            "records": {e: r.records for e, r in report.entities.items()},
        }
        ws.close()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [run(args.customers, seed) for seed in args.seeds]
    if args.json:
        print(json.dumps(results, indent=2))  # noqa: T201
        return
    for r in results:
        print(
            f"demo company, {r['customers']:,} accounts, seed {r['seed']}: resolve {r['seconds']} s"
        )  # noqa: T201
        for entity in TRUTH:
            m = r[entity]
            assert isinstance(m, dict)
            print(  # noqa: T201
                f"  {entity:8} precision {m['precision']:.4f}  recall {m['recall']:.4f}  "
                f"F1 {m['f1']:.4f}  ({m['true_pairs']:,} true pairs)  target F1 ≥ 0.98: "
                + ("met" if m["f1"] >= 0.98 else "NOT met")
            )
        print("  time split (s): " + ", ".join(f"{k} {v}" for k, v in r["timings"].items()))  # type: ignore[attr-defined]  # noqa: T201


if __name__ == "__main__":
    main()
