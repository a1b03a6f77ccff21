"""Did the playbook work: churn and the next NPS answer of treated customers against those
held out, with 95% confidence intervals on the differences.

The unit is the customer (account, else person) at their first alert of the playbook: the
hold-out is decided per customer, so later alerts of the same customer are not independent
trials. Churn counts a subscription churn within the playbook's follow-up days after that
alert; the next survey is the first NPS answer in the same span."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

Z95 = 1.959963984540054


def wilson(successes: int, n: int) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return centre - half, centre + half


def rate_difference(a: int, n_a: int, b: int, n_b: int) -> tuple[float, float, float]:
    """Difference of two proportions a/n_a − b/n_b with Newcombe's hybrid score interval
    (well-behaved with small groups and rates near 0, unlike the Wald interval)."""
    if n_a == 0 or n_b == 0:
        return math.nan, math.nan, math.nan
    p_a, p_b = a / n_a, b / n_b
    l_a, u_a = wilson(a, n_a)
    l_b, u_b = wilson(b, n_b)
    diff = p_a - p_b
    low = diff - math.sqrt((p_a - l_a) ** 2 + (u_b - p_b) ** 2)
    high = diff + math.sqrt((u_a - p_a) ** 2 + (p_b - l_b) ** 2)
    return diff, low, high


def mean_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Difference of means with Welch's 95% interval."""
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan, math.nan
    diff = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = float(stats.t.ppf(0.975, dof))
    return diff, diff - t * se, diff + t * se


@dataclass(frozen=True)
class Effect:
    playbook: str
    follow_up_days: int
    treated: int
    held_out: int
    churn_treated: float
    churn_held_out: float
    churn_difference: tuple[float, float, float]  # estimate, low, high (treated − held out)
    surveyed_treated: int
    surveyed_held_out: int
    nps_treated: float
    nps_held_out: float
    nps_difference: tuple[float, float, float]
    note: str

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("churn_difference", "nps_difference"):
            est, low, high = out.pop(key)
            out[key] = {"estimate": est, "low": low, "high": high}
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


def first_alerts(alerts: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: their first alert of the playbook."""
    subject = alerts["account_id"].fillna(alerts["customer_id"])
    ordered = alerts.assign(subject=subject).sort_values("occurred_at", kind="stable")
    out: pd.DataFrame = ordered.drop_duplicates("subject", keep="first")
    return out


def outcomes(
    alerts: pd.DataFrame, churns: pd.DataFrame, surveys: pd.DataFrame, follow_up_days: int
) -> pd.DataFrame:
    """Per first alert: churned within the follow-up, and the next NPS answer in it.
    `churns`: subject, occurred_at; `surveys`: subject, occurred_at, score."""
    span = pd.Timedelta(days=follow_up_days)
    rows = first_alerts(alerts).reset_index(drop=True)
    start = pd.to_datetime(rows["occurred_at"])
    churned, next_score = [], []
    by_subject_churn = {k: pd.to_datetime(g["occurred_at"]) for k, g in churns.groupby("subject")}
    by_subject_nps = {
        k: g.assign(at=pd.to_datetime(g["occurred_at"])).sort_values("at")
        for k, g in surveys.groupby("subject")
    }
    for subject, at in zip(rows["subject"], start, strict=True):
        times = by_subject_churn.get(subject)
        churned.append(bool(times is not None and ((times > at) & (times <= at + span)).any()))
        answers = by_subject_nps.get(subject)
        later = None
        if answers is not None:
            within = answers[(answers["at"] > at) & (answers["at"] <= at + span)]
            later = float(within["score"].iloc[0]) if len(within) else None
        next_score.append(later)
    rows["churned"] = churned
    rows["next_nps"] = pd.array(next_score, dtype="Float64")
    return rows


def effect(playbook: str, rows: pd.DataFrame, follow_up_days: int) -> Effect:
    treated = rows[~rows["holdout"].astype(bool)]
    held = rows[rows["holdout"].astype(bool)]
    a, b = int(treated["churned"].sum()), int(held["churned"].sum())
    nps_a = treated["next_nps"].dropna().to_numpy(dtype=float)
    nps_b = held["next_nps"].dropna().to_numpy(dtype=float)
    note = ""
    if len(held) < 30 or len(treated) < 30:
        note = (
            f"{len(treated)} treated and {len(held)} held-out customers: too few for a firm "
            "answer; the interval shows how unsure the difference is"
        )
    return Effect(
        playbook=playbook,
        follow_up_days=follow_up_days,
        treated=len(treated),
        held_out=len(held),
        churn_treated=a / len(treated) if len(treated) else math.nan,
        churn_held_out=b / len(held) if len(held) else math.nan,
        churn_difference=rate_difference(a, len(treated), b, len(held)),
        surveyed_treated=len(nps_a),
        surveyed_held_out=len(nps_b),
        nps_treated=float(nps_a.mean()) if len(nps_a) else math.nan,
        nps_held_out=float(nps_b.mean()) if len(nps_b) else math.nan,
        nps_difference=mean_difference(nps_a, nps_b),
        note=note,
    )
