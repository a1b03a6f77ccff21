"""`Workspace.risk`: health scorecards with daily history, churn models trained point-in-time
and back-tested, scores with reasons and time to churn, and revenue at risk."""

from __future__ import annotations

import base64
import datetime as dt
import json
import pickle  # noqa: S403 - models the workspace itself trained and stored
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from cxlens.config import RiskSettings
from cxlens.errors import MetricError, ModelError
from cxlens.metrics.service import Value
from cxlens.models.churn import ChurnModel, SurvivalModel, reasons
from cxlens.models.health import Scorecard, default_scorecard, load_scorecard, score, trend
from cxlens.risk import features as F
from cxlens.risk import frames
from cxlens.risk.backtest import backtest
from cxlens.schema.risk import HEALTH_SCORES, RISK_MODELS, RISK_SCORES
from cxlens.store import Store
from cxlens.store.base import arrow_schema

Progress = Callable[[str], None]
DAY = pd.Timedelta(days=1)
Breakdown = Literal["owner", "segment", "region", "month", "risk_band"]
MODEL_FEATURES = [f for f in F.FEATURES if f not in ("mrr",)]


class NoRiskModel(MetricError):
    """Scores were asked for before any churn model was trained."""


@dataclass(frozen=True)
class TrainReport:
    model_id: str
    rows: int
    churn_rate: float
    horizon_days: int
    cutoffs: int
    backtest: dict[str, Any]
    seconds: float


def health_inputs(x: pd.DataFrame) -> pd.DataFrame:
    """The scorecard's measures from the point-in-time features (same cutoff)."""
    return pd.DataFrame(
        {
            "usage_trend": x["usage_trend"],
            "active_users_ratio": x["active_users_ratio"],
            "support_burden": x["tickets_90d"] / 3.0,
            "unresolved_p1": x["unresolved_urgent"],
            "nps_last": x["nps_last"],
            "csat_avg": x["csat_avg_180d"],
            "sentiment": x["sentiment_90d"],
            "payment_failures": x["payment_failures_90d"],
            "csm_touches": x["csm_touches_90d"],
            "champion_left": np.where(x["champion_left_180d"] > 0, "yes", "no"),
            "days_to_renewal": x["days_to_renewal"],
            "segment": x["segment"].astype(str),
        },
        index=x.index,
    )


class Risk:
    def __init__(self, store: Store, settings: RiskSettings, value: Value, root: Path) -> None:
        self.store = store
        self.settings = settings
        self.value = value
        self.root = root

    # ---- inputs ---------------------------------------------------------------------------
    def _activity(self) -> pd.DataFrame:
        parts = [frames.activity(self.store), frames.sentiments(self.store)]
        data = pd.concat([p for p in parts if len(p)], ignore_index=True)
        if data.empty:
            raise MetricError("no subscription, usage or ticket events in the store to score")
        return data.sort_values("occurred_at", kind="stable", ignore_index=True)

    def scorecard(self) -> Scorecard:
        if self.settings.scorecard is None:
            return default_scorecard()
        return load_scorecard(self.root / self.settings.scorecard)

    def _as_of(self, activity: pd.DataFrame, as_of: dt.date | str | None) -> pd.Timestamp:
        if as_of is not None:
            return pd.Timestamp(as_of)
        # The day after the last event: every event so far is "before" the score date.
        return pd.Timestamp(activity["occurred_at"].max()).normalize() + DAY

    # ---- health ---------------------------------------------------------------------------
    def health(
        self, *, day: dt.date | str | None = None, days: int = 1, save: bool = True
    ) -> pd.DataFrame:
        """The scorecard of every active account on `day` (the day after the latest event by
        default) and the `days - 1` days before; stored one row per account and day."""
        activity = self._activity()
        accounts = frames.accounts(self.store)
        card = self.scorecard()
        last = self._as_of(activity, day)
        out = []
        for offset in range(days - 1, -1, -1):
            cutoff = last - offset * DAY
            x = F.features_at(activity, accounts, cutoff)
            if x.empty:
                continue
            scored = score(health_inputs(x), card).to_frame()
            scored.index = x.index
            scored = scored.reset_index().rename(columns={"account": "account_id"})
            scored.insert(0, "day", (cutoff - DAY).date())
            scored["scorecard"] = card.name
            out.append(scored)
        if not out:
            raise MetricError("no active account to score")
        table = pd.concat(out, ignore_index=True)
        if save:
            self._save_health(table)
        return table

    def _save_health(self, table: pd.DataFrame) -> None:
        rows = pd.DataFrame(
            {
                "day": table["day"],
                "account_id": table["account_id"],
                "scorecard": table["scorecard"],
                "score": table["score"],
                "status": table["status"],
                "coverage": table["coverage"],
                "contributions": table["contributions"].map(json.dumps),
                "missing": table["missing"].map(json.dumps),
            }
        )
        with self.store.transaction():
            for day in sorted(set(rows["day"])):
                self.store.execute("DELETE FROM health_scores WHERE day = ?", [day])
            self.store.append(
                HEALTH_SCORES,
                pa.Table.from_pandas(
                    rows, schema=arrow_schema(HEALTH_SCORES), preserve_index=False
                ),
            )

    def health_history(self, account: str) -> pd.DataFrame:
        frame: pd.DataFrame = self.store.query(
            "SELECT day, score, status, coverage, contributions, missing FROM health_scores "
            "WHERE account_id = ? ORDER BY day",
            [account],
        ).to_pandas()
        return frame

    def health_trend(self, *, days: int = 30, tolerance: float = 5.0) -> pd.DataFrame:
        """Per account: latest stored score against the one `days` before it (or the oldest
        kept), the change in points and improving / stable / declining."""
        history: pd.DataFrame = self.store.query(
            "SELECT account_id, day, score FROM health_scores"
        ).to_pandas()
        if history.empty:
            raise MetricError("no health scores kept yet: run `cxlens risk health` first")
        out = trend(
            history, days=days, tolerance=tolerance, customer_column="account_id",
            date_column="day",
        )  # fmt: skip
        return out.rename(columns={"customer": "account_id", "date": "day"})

    # ---- churn model ----------------------------------------------------------------------
    def _training_set(self, activity: pd.DataFrame) -> pd.DataFrame:
        horizon = self.settings.horizon_days
        cutoffs = F.monthly_cutoffs(
            activity["occurred_at"].min(), activity["occurred_at"].max(), horizon_days=horizon
        )
        if len(cutoffs) < 3:
            raise ModelError(
                f"{len(cutoffs)} monthly cutoffs fit between the first event and one horizon "
                f"({horizon} days) before the last: load at least a year of history"
            )
        return F.training_set(activity, frames.accounts(self.store), cutoffs, horizon)

    def train(self, *, progress: Progress | None = None, save: bool = True) -> TrainReport:
        """Back-test on rolling windows, then fit on every cutoff and store the model."""
        say = progress or (lambda _: None)
        started = dt.datetime.now(dt.UTC)
        activity = self._activity()
        say("building point-in-time features at monthly cutoffs")
        data = self._training_set(activity)
        if data["churned"].nunique() < 2:
            raise ModelError("no account churned in the history: nothing to learn from")
        card = self.scorecard()

        def scorecard_risk(rows: pd.DataFrame) -> np.ndarray:
            health = score(health_inputs(rows.set_index("account")), card)
            return np.asarray(100.0 - health.score, dtype=float)

        say("back-testing on rolling windows")
        report = backtest(
            data,
            MODEL_FEATURES,
            scorecard_risk,
            folds=self.settings.backtest_folds,
            fold_months=self.settings.fold_months,
            horizon_days=self.settings.horizon_days,
            seed=self.settings.seed,
        )
        say("fitting the churn and survival models on every cutoff")
        model = ChurnModel(random_state=self.settings.seed).fit(
            data[MODEL_FEATURES], data["churned"].to_numpy(), groups=data["account"].to_numpy()
        )
        survival = self._survival(activity)
        seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
        model_id = "risk_" + started.strftime("%Y%m%dT%H%M%S") + "_" + uuid.uuid4().hex[:6]
        if save:
            self._save_model(model_id, started, model, survival, data, report)
        return TrainReport(
            model_id=model_id,
            rows=len(data),
            churn_rate=float(data["churned"].mean()),
            horizon_days=self.settings.horizon_days,
            cutoffs=int(data["cutoff"].nunique()),
            backtest=report,
            seconds=seconds,
        )

    def _survival(self, activity: pd.DataFrame) -> SurvivalModel | None:
        """Months from each account's start to churn (or to now, censored), on the features
        as of the latest date: a time-to-churn curve per account."""
        as_of = self._as_of(activity, None)
        x = F.features_at(activity, frames.accounts(self.store), as_of)
        subs = activity[activity["kind"] == "subscription"]
        start = subs[subs["action"] == "new"].groupby("account")["occurred_at"].min()
        churn = subs[subs["action"] == "churn"].groupby("account")["occurred_at"].min()
        ended = pd.DataFrame({"start": start, "churn": churn.reindex(start.index)})
        event = ended["churn"].notna()
        duration = ((ended["churn"].fillna(as_of) - ended["start"]).dt.days / 30.44).clip(lower=0.5)
        # Features of churned accounts at their churn are not observable now; the survival
        # model uses what is known at the start plus the current snapshot for the living.
        numeric = [c for c in MODEL_FEATURES if c not in F.CATEGORICAL]
        rows = x.reindex(ended.index)[numeric].fillna(x[numeric].median())
        rows = rows.fillna(0.0)
        try:
            return SurvivalModel().fit(rows, duration.to_numpy(), event.to_numpy().astype(bool))
        except ModelError:
            return None

    def _save_model(
        self,
        model_id: str,
        started: dt.datetime,
        model: ChurnModel,
        survival: SurvivalModel | None,
        data: pd.DataFrame,
        report: dict[str, Any],
    ) -> None:
        payload = pickle.dumps(
            {
                "churn": model.to_bytes(),
                "survival": survival.to_bytes() if survival is not None else None,
            }
        )
        row = {
            "model_id": model_id,
            "trained_at": started.replace(tzinfo=None),
            "model_version": model.version,
            "cxlens_version": version("cxlens"),
            "horizon_days": self.settings.horizon_days,
            "first_cutoff": pd.Timestamp(data["cutoff"].min()).to_pydatetime(),
            "last_cutoff": pd.Timestamp(data["cutoff"].max()).to_pydatetime(),
            "rows": len(data),
            "churn_rate": float(data["churned"].mean()),
            "features": json.dumps(MODEL_FEATURES),
            "backtest": json.dumps(report, default=_plain),
            "payload": base64.b64encode(payload).decode("ascii"),
        }
        with self.store.transaction():
            self.store.append(RISK_MODELS, pa.Table.from_pylist([row], arrow_schema(RISK_MODELS)))

    def _load(self, model_id: str | None) -> tuple[str, ChurnModel, SurvivalModel | None]:
        where = "WHERE model_id = ?" if model_id else ""
        rows = self.store.rows(
            f"SELECT model_id, payload FROM risk_models {where} ORDER BY trained_at DESC LIMIT 1",
            [model_id] if model_id else [],
        )
        if not rows:
            raise NoRiskModel(
                f"no churn model {model_id}" if model_id else
                "no churn model yet: run `cxlens risk train` first"
            )  # fmt: skip
        parts = pickle.loads(base64.b64decode(str(rows[0]["payload"])))  # noqa: S301
        survival = parts["survival"]
        return (
            str(rows[0]["model_id"]),
            ChurnModel.from_bytes(parts["churn"]),
            SurvivalModel.from_bytes(survival) if survival is not None else None,
        )

    def backtest_report(self, model_id: str | None = None) -> dict[str, Any]:
        where = "WHERE model_id = ?" if model_id else ""
        rows = self.store.rows(
            f"SELECT model_id, backtest FROM risk_models {where} ORDER BY trained_at DESC LIMIT 1",
            [model_id] if model_id else [],
        )
        if not rows:
            raise NoRiskModel("no churn model yet: run `cxlens risk train` first")
        report: dict[str, Any] = json.loads(str(rows[0]["backtest"]))
        report["model_id"] = rows[0]["model_id"]
        return report

    # ---- scores ---------------------------------------------------------------------------
    def score(
        self, *, as_of: dt.date | str | None = None, model_id: str | None = None, save: bool = True
    ) -> pd.DataFrame:
        """Churn probability, band, reasons, time to churn, ARR and revenue at risk of every
        active account as of a date, using only events before it."""
        model_id, model, survival = self._load(model_id)
        activity = self._activity()
        cutoff = self._as_of(activity, as_of)
        x = F.features_at(activity, frames.accounts(self.store), cutoff)
        if x.empty:
            raise MetricError(f"no active account on {cutoff.date()}")
        p = model.predict_proba(x[MODEL_FEATURES])
        contributions = model.contributions(x[MODEL_FEATURES])
        why = reasons(x[MODEL_FEATURES], contributions, F.TEMPLATES, top=3)
        health = score(health_inputs(x), self.scorecard())
        out = pd.DataFrame(
            {
                "model_id": model_id,
                "as_of": cutoff.to_pydatetime(),
                "account_id": x.index.astype(str),
                "probability": p,
                "risk_band": np.where(
                    p >= self.settings.high_risk,
                    "high",
                    np.where(p >= self.settings.medium_risk, "medium", "low"),
                ),
                "reasons": [
                    [
                        {
                            "feature": r.feature,
                            "contribution": float(r.contribution),
                            "value": _plain(r.value),
                            "text": r.text,
                        }
                        for r in rs
                    ]
                    for rs in why
                ],  # fmt: skip
                "health_score": health.score,
            }
        )
        if survival is not None:
            numeric = [c for c in MODEL_FEATURES if c not in F.CATEGORICAL]
            rows = x[numeric].fillna(x[numeric].median()).fillna(0.0)
            out["expected_months"] = survival.expected_months(rows)
            curve = survival.survival_curve(rows, months=(1, 3, 6, 12))
            out["survival"] = pd.Series(
                [{str(k): float(v) for k, v in r.items()} for r in curve.to_dict(orient="records")],
                index=out.index,
                dtype=object,
            )
        else:
            out["expected_months"] = np.nan
            out["survival"] = None
        arr = self._arr(cutoff).reindex(x.index)
        out["arr"] = arr.to_numpy()
        out["revenue_at_risk"] = out["probability"] * out["arr"]
        out = out.sort_values("revenue_at_risk", ascending=False, ignore_index=True)
        if save:
            self._save_scores(out)
        return out

    def _arr(self, cutoff: pd.Timestamp) -> pd.Series:
        try:
            monthly = self.value.monthly_mrr()
        except MetricError:
            # Without exchange rates ARR cannot be summed across currencies: probabilities and
            # reasons still stand, ARR and revenue at risk stay empty (see `cxlens value`).
            return pd.Series(dtype=float)
        month = (cutoff - DAY).to_period("M")
        latest = monthly[monthly["month"] <= month].sort_values("month")
        mrr: pd.Series = latest.groupby("customer")["mrr"].last() * 12.0
        return mrr

    def _save_scores(self, out: pd.DataFrame) -> None:
        rows = out.assign(
            reasons=out["reasons"].map(lambda r: json.dumps(r, default=_plain)),
            survival=out["survival"].map(lambda s: json.dumps(s) if s is not None else None),
        )
        with self.store.transaction():
            self.store.execute(
                "DELETE FROM risk_scores WHERE model_id = ? AND as_of = ?",
                [str(out["model_id"].iloc[0]), out["as_of"].iloc[0]],
            )
            self.store.append(
                RISK_SCORES,
                pa.Table.from_pandas(
                    rows[RISK_SCORES.column_names],
                    schema=arrow_schema(RISK_SCORES),
                    preserve_index=False,
                ),
            )

    def latest_scores(self) -> pd.DataFrame:
        frame: pd.DataFrame = self.store.query(
            "SELECT s.*, a.name, a.owner, a.segment, a.region FROM risk_scores AS s "
            "LEFT JOIN accounts AS a ON a.account_id = s.account_id "
            "WHERE s.as_of = (SELECT max(as_of) FROM risk_scores) "
            "AND s.model_id = (SELECT model_id FROM risk_models ORDER BY trained_at DESC LIMIT 1) "
            "ORDER BY s.revenue_at_risk DESC NULLS LAST"
        ).to_pandas()
        if frame.empty:
            raise NoRiskModel("no scores yet: run `cxlens risk score` first")
        frame["reasons"] = frame["reasons"].map(json.loads)
        return frame

    def explain(self, account: str) -> dict[str, Any]:
        """The account's latest score with its reasons, time to churn and health."""
        scores = self.latest_scores()
        row = scores[scores["account_id"] == account]
        if row.empty:
            raise MetricError(
                f"account {account} has no current risk score (unknown, or not an active "
                "subscriber); see `cxlens risk score`"
            )
        record: dict[str, Any] = {str(k): v for k, v in row.iloc[0].to_dict().items()}
        record["survival"] = json.loads(record["survival"]) if record.get("survival") else None
        history = self.health_history(account)
        record["health_history"] = history[["day", "score", "status"]].to_dict(orient="records")
        return record

    def revenue_at_risk(self, by: Breakdown = "owner") -> pd.DataFrame:
        """Revenue at risk of the latest scores by owner, segment, region or risk band; by
        month, over every score date. Subscriptions count churn probability × ARR; customers
        who buy without a contract count (1 − P(alive)) × CLV from the latest value run
        (`cxlens value clv`), added to their account's owner, segment and region."""
        if by == "month":
            return self._revenue_at_risk_by_month()
        scores = self.latest_scores()
        grouped = scores.groupby(scores[by].fillna("(none)"))
        out = pd.DataFrame(
            {
                "accounts": grouped.size(),
                "high_risk": grouped["risk_band"].apply(lambda b: int((b == "high").sum())),
                "arr": grouped["arr"].sum(),
                "subscription_at_risk": grouped["revenue_at_risk"].sum(),
            }
        )
        out["share_at_risk"] = out["subscription_at_risk"] / out["arr"]
        buyers = self._buyers_at_risk()
        if by != "risk_band" and len(buyers):
            orders = buyers.groupby(buyers[by].fillna("(none)")).agg(
                buyers=("customer_id", "size"),
                clv=("clv", "sum"),
                orders_at_risk=("revenue_at_risk", "sum"),
            )
            out = out.join(orders, how="outer")
            out[["accounts", "high_risk", "buyers"]] = (
                out[["accounts", "high_risk", "buyers"]].fillna(0).astype(int)
            )
            out[["orders_at_risk"]] = out[["orders_at_risk"]].fillna(0.0)
        else:
            out["orders_at_risk"] = 0.0
        out["revenue_at_risk"] = out["subscription_at_risk"].fillna(0.0) + out["orders_at_risk"]
        out.index.name = by
        return out.sort_values("revenue_at_risk", ascending=False).reset_index()

    def _buyers_at_risk(self) -> pd.DataFrame:
        """Customers of the latest value run with their account's owner, segment and region."""
        frame: pd.DataFrame = self.store.query(
            "SELECT v.customer_id, v.clv, v.p_alive, v.revenue_at_risk, a.owner, a.segment, "
            "a.region FROM customer_values AS v "
            "LEFT JOIN customers AS c ON c.customer_id = v.customer_id "
            "LEFT JOIN accounts AS a ON a.account_id = coalesce(c.account_id, v.customer_id) "
            "WHERE v.run_id = (SELECT run_id FROM value_runs ORDER BY fitted_at DESC LIMIT 1) "
            "AND v.revenue_at_risk IS NOT NULL"
        ).to_pandas()
        return frame

    def _revenue_at_risk_by_month(self) -> pd.DataFrame:
        """Per month: the month's last subscription scores and its last value run."""
        subs: pd.DataFrame = self.store.query(
            "SELECT as_of, sum(revenue_at_risk) AS subscription_at_risk, sum(arr) AS arr, "
            "count(*) AS accounts FROM risk_scores GROUP BY as_of"
        ).to_pandas()
        orders: pd.DataFrame = self.store.query(
            "SELECT r.as_of, r.fitted_at, sum(v.revenue_at_risk) AS orders_at_risk "
            "FROM value_runs AS r JOIN customer_values AS v ON v.run_id = r.run_id "
            "GROUP BY r.as_of, r.fitted_at"
        ).to_pandas()
        if subs.empty and orders.empty:
            raise NoRiskModel("no scores yet: run `cxlens risk score` or `cxlens value clv`")

        def last_of_month(frame: pd.DataFrame, order: list[str]) -> pd.DataFrame:
            frame = frame.assign(month=pd.to_datetime(frame["as_of"]).dt.to_period("M"))
            last: pd.DataFrame = frame.sort_values(order).groupby("month").last()
            return last.drop(columns=order)

        out = last_of_month(subs, ["as_of"]).join(
            last_of_month(orders, ["as_of", "fitted_at"]), how="outer"
        )
        out["revenue_at_risk"] = out["subscription_at_risk"].fillna(0.0) + out[
            "orders_at_risk"
        ].fillna(0.0)
        out.index = out.index.astype(str)
        return out.reset_index()


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
