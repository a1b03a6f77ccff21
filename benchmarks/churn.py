"""Churn scoring at scale: probability + top-3 reasons in plain language for 1,000,000 customers.

    python benchmarks/churn.py                        # train 200k, score 1,000,000, 3 repeats
    python benchmarks/churn.py --score 200000 --repeat 1

Synthesises a customer feature table like the one cxlens builds nightly (26 columns: tenure,
order / spend / login / ticket counts and their trends, ratios, NPS with gaps, and categorical
segment / plan / region / channel) with a planted, partly non-linear churn signal. Trains the
default `ChurnModel` on `--train` rows (timed on its own), then times `score_and_explain`
(calibrated probability, tree-SHAP contributions, top-3 reasons from templates) on `--score`
other rows: median of `--repeat` runs, seconds and rows/s, and the ROC-AUC on those held-out
rows. Target for the whole nightly path: features + scoring + reasons <= 60 s for 1M customers;
features are built elsewhere, this is the scoring + reasons part.

Measured (2 cores, shared with other jobs): training 32-53 s on 200k rows; scoring + reasons
for 1M rows 19.5-26.5 s (about 40-45k rows/s); held-out ROC-AUC 0.815.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from cxlens.models.churn import ChurnModel, evaluate, reasons, score_and_explain
from cxlens.models.churn.explain import Template


def _change(what: str) -> Callable[[object], str]:
    """A template for a relative change (-0.42 -> "orders 42% down")."""

    def text(value: object) -> str:
        v = float(value)  # type: ignore[arg-type]
        if abs(v) < 0.005:
            return f"{what} flat"
        return f"{what} {abs(v):.0%} {'down' if v < 0 else 'up'}"

    return text


TEMPLATES: dict[str, Template] = {
    "days_since_last_order": "no order for {value:.0f} days",
    "order_trend": _change("orders vs the quarter before"),
    "tickets_90d": "{value:.0f} support tickets in the last 90 days",
    "complaints_90d": "{value:.0f} complaints in the last 90 days",
    "nps_last": "last NPS answer {value:.0f}",
    "payment_failures": "{value:.0f} failed payments",
    "plan": "on the {value} plan",
    "seat_utilisation": "uses {value:.0%} of paid seats",
    "price_increase_pct": "price up {value:.0f}% at last renewal",
    "login_trend": _change("logins"),
    "tenure_months": "customer for {value:.0f} months",
    "late_deliveries": "{value:.0f} late deliveries",
}


def simulate(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    segment = rng.choice(np.array(["smb", "mid", "enterprise"]), n, p=[0.6, 0.3, 0.1])
    plan = rng.choice(np.array(["basic", "plus", "pro", "legacy"]), n, p=[0.4, 0.3, 0.2, 0.1])
    region = rng.choice(np.array(["north", "south", "east", "west", "central", "intl"]), n)
    channel = rng.choice(np.array(["web", "app", "store", "partner"]), n, p=[0.4, 0.3, 0.2, 0.1])
    tenure = rng.gamma(1.5, 16, n)
    activity = rng.gamma(2.0, 1.0, n)  # latent engagement
    orders_prev = rng.poisson(3 * activity)
    decline = rng.normal(0, 0.35, n)  # latent trend
    orders = rng.poisson(3 * activity * np.exp(decline))
    order_trend = (orders - orders_prev) / np.maximum(orders_prev, 1)
    aov = rng.lognormal(3.5, 0.5, n)
    spend = orders * aov * rng.lognormal(0, 0.1, n)
    spend_prev = orders_prev * aov * rng.lognormal(0, 0.1, n)
    days_since = np.minimum(rng.exponential(20 / np.maximum(orders, 0.3)), 365)
    tickets = rng.poisson(0.5 + 0.8 * np.maximum(-decline, 0) * 3, n)
    tickets_prev = rng.poisson(0.8, n)
    complaints = rng.binomial(tickets, 0.3)
    nps = np.clip(np.round(rng.normal(8 - 1.2 * complaints, 2)), 0, 10)
    nps[rng.random(n) < 0.6] = np.nan  # most customers never answered
    sentiment = np.tanh(rng.normal(0.2 - 0.3 * complaints, 0.5))
    logins = rng.poisson(10 * activity)
    login_trend = np.clip(decline + rng.normal(0, 0.3, n), -1, 2)
    returns_ratio = rng.beta(1, 12, n)
    discount_share = rng.beta(1.5, 6, n)
    late = rng.poisson(0.3, n)
    failures = rng.poisson(0.1, n)
    seats = rng.integers(1, 50, n)
    utilisation = rng.beta(4, 2, n)
    price_increase = np.where(rng.random(n) < 0.3, rng.uniform(3, 20, n), 0.0)
    logit = (
        -2.2
        + 0.012 * np.minimum(days_since, 120)
        - 1.2 * np.clip(order_trend, -1, 1)
        + 0.35 * tickets
        + 0.4 * complaints
        - 0.15 * np.nan_to_num(nps - 7)
        + 0.9 * failures
        + 0.8 * (plan == "legacy")
        - 1.5 * (utilisation - 0.6)
        + 0.05 * price_increase * (segment == "smb")
        - 0.02 * np.minimum(tenure, 48)
        - 0.6 * login_trend
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    frame = pd.DataFrame(
        {
            "tenure_months": tenure,
            "orders_90d": orders.astype(float),
            "orders_prev_90d": orders_prev.astype(float),
            "order_trend": order_trend,
            "spend_90d": spend,
            "spend_trend": (spend - spend_prev) / np.maximum(spend_prev, 1),
            "avg_order_value": aov,
            "days_since_last_order": days_since,
            "tickets_90d": tickets.astype(float),
            "tickets_trend": (tickets - tickets_prev).astype(float),
            "complaints_90d": complaints.astype(float),
            "nps_last": nps,
            "sentiment_avg": sentiment,
            "logins_30d": logins.astype(float),
            "login_trend": login_trend,
            "returns_ratio": returns_ratio,
            "discount_share": discount_share,
            "late_deliveries": late.astype(float),
            "payment_failures": failures.astype(float),
            "seats": seats.astype(float),
            "seat_utilisation": utilisation,
            "price_increase_pct": price_increase,
            "segment": pd.Categorical(segment),
            "plan": pd.Categorical(plan),
            "region": pd.Categorical(region),
            "channel": pd.Categorical(channel),
        }
    )
    return frame, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=200_000)
    parser.add_argument("--score", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    X, y = simulate(args.train + args.score, args.seed)
    print(
        f"simulated {len(X):,} customers x {X.shape[1]} features in "
        f"{time.perf_counter() - start:.1f} s; churn rate {y.mean():.1%}"
    )
    X_train, y_train = X.iloc[: args.train], y[: args.train]
    X_score, y_score = X.iloc[args.train :].reset_index(drop=True), y[args.train :]

    start = time.perf_counter()
    model = ChurnModel().fit(X_train, y_train)
    print(f"training on {args.train:,} rows (with out-of-fold calibration): "
          f"{time.perf_counter() - start:.1f} s")  # fmt: skip

    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        proba, found = score_and_explain(model, X_score, TEMPLATES, top=3)
        timings.append(time.perf_counter() - start)
        del found
    seconds = statistics.median(timings)
    print(
        f"score + contributions + top-3 reasons, {args.score:,} rows: {seconds:.1f} s "
        f"(median of {args.repeat}: {', '.join(f'{t:.1f}' for t in timings)}), "
        f"{args.score / seconds:,.0f} rows/s"
    )
    parts = X_score.iloc[:100_000]
    start = time.perf_counter()
    model.predict_proba(parts)
    t_proba = time.perf_counter() - start
    start = time.perf_counter()
    contributions = model.contributions(parts)
    t_contrib = time.perf_counter() - start
    start = time.perf_counter()
    reasons(parts, contributions, TEMPLATES)
    t_reasons = time.perf_counter() - start
    print(
        f"  per 100k rows: predict_proba {t_proba:.2f} s, contributions {t_contrib:.2f} s, "
        f"reasons {t_reasons:.2f} s"
    )
    result = evaluate(y_score, proba)
    print(
        f"held-out ROC-AUC {result.roc_auc:.3f}, PR-AUC {result.pr_auc:.3f}, "
        f"top-decile lift {result.top_decile_lift:.2f}, Brier {result.brier:.4f}"
    )
    _, example = score_and_explain(model, X_score.iloc[:3], TEMPLATES)
    for row in example:
        print("  e.g.", "; ".join(r.text for r in row))
    target = "within" if seconds <= 60 else "OVER"
    print(f"scoring + reasons {seconds:.1f} s: {target} the 60 s budget (features not included)")


if __name__ == "__main__":
    main()
