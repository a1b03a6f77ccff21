"""The value namespace of a workspace: revenue figures over the store, in the reporting currency."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from cxlens.config import ValueSettings
from cxlens.errors import MetricError
from cxlens.metrics.currency import rate_to
from cxlens.metrics.frames import (
    account_attributes,
    orders,
    stated_wallets,
    subscription_movements,
)
from cxlens.metrics.revenue import by_group, cohorts, monthly_mrr, retention, waterfall
from cxlens.metrics.wallet import share_of_wallet
from cxlens.models.clv import (
    BetaGeo,
    GammaGamma,
    ShiftedBetaGeometric,
    clv_interval,
    expected_clv,
)
from cxlens.models.clv.summary import summarise
from cxlens.models.clv.validation import Validation, validate
from cxlens.models.rfm import rfm
from cxlens.schema.value import CUSTOMER_VALUES, VALUE_RUNS
from cxlens.store import Store
from cxlens.store.base import arrow_schema

Breakdown = Literal["segment", "region", "country", "owner", "industry", "plan"]


@dataclass
class ClvReport:
    run_id: str | None
    currency: str
    as_of: pd.Timestamp
    #: Fitted parameters of the purchase (BG/NBD) and spend (Gamma-Gamma) models.
    params: dict[str, float]
    #: Per customer: summary, probability alive, expected purchases and spend, CLV, RFM.
    customers: pd.DataFrame


@dataclass
class SubscriptionReport:
    currency: str
    #: sBG parameters fitted on every signup-month cohort together.
    params: dict[str, float]
    #: Share of a new cohort still paying after 0, 1, 2 … months, as projected.
    survival: pd.Series
    #: Per paying customer: MRR, months paid in their current streak, expected further
    #: payments (discounted) and the residual value they stand for.
    customers: pd.DataFrame


@dataclass
class RevenueReport:
    currency: str
    #: Per month (and group): starting MRR, movements, ending MRR, ARR, customers, logo churn.
    waterfall: pd.DataFrame
    #: Per month (and group): NRR and GRR, monthly and trailing 12 months.
    retention: pd.DataFrame
    #: Logo and revenue retention by first paying month and months since.
    cohorts: dict[str, pd.DataFrame]
    #: The same cohort tables per group, when broken down.
    cohorts_by_group: dict[str, dict[str, pd.DataFrame]] | None = None


class Value:
    def __init__(self, store: Store, settings: ValueSettings, root: Path) -> None:
        self.store = store
        self.settings = settings
        self.root = root

    def rates(self) -> pd.DataFrame | None:
        if self.settings.rates_file is not None:
            path = self.root / self.settings.rates_file
            if not path.exists():
                raise MetricError(f"value.rates_file {path} does not exist")
            return pd.read_csv(path)
        if self.settings.rates:
            return pd.DataFrame(
                {"currency": list(self.settings.rates), "rate": list(self.settings.rates.values())}
            )
        return None

    def monthly_mrr(self, movements: pd.DataFrame | None = None) -> pd.DataFrame:
        if movements is None:
            movements = subscription_movements(self.store)
        return monthly_mrr(
            movements,
            rates=self.rates(),
            currency=self.settings.currency,
        )

    def revenue(self, *, by: Breakdown | None = None) -> RevenueReport:
        movements = subscription_movements(self.store)
        monthly = self.monthly_mrr(movements)
        if by is None:
            flow, kept = waterfall(monthly), retention(monthly)
            return RevenueReport(self.settings.currency, flow, kept, cohorts(monthly))
        groups = self._groups(by, movements)
        flow = by_group(monthly, groups, waterfall)
        kept = by_group(monthly, groups, retention)
        labels = monthly["customer"].map(groups).fillna("(none)")
        per_group = {
            str(label): cohorts(monthly[labels == label]) for label in sorted(labels.unique())
        }
        return RevenueReport(self.settings.currency, flow, kept, cohorts(monthly), per_group)

    def clv(
        self,
        *,
        as_of: pd.Timestamp | None = None,
        months: int = 12,
        discount_rate: float = 0.01,
        save: bool = True,
    ) -> ClvReport:
        """Lifetime value of every customer with orders: BG/NBD for how often they will buy,
        Gamma-Gamma for how much, discounted monthly over `months`; plus RFM segments."""
        history = orders(self.store)
        if history.empty:
            raise MetricError("no placed orders in the store: CLV needs order events")
        history["amount"] = history["amount"].astype(float) * rate_to(
            history, self.rates(), self.settings.currency
        )
        end = (
            pd.Timestamp(as_of)
            if as_of is not None
            else pd.to_datetime(history["occurred_at"]).max().ceil("D")
        )
        summary = summarise(history, as_of=end)
        x, t_x, t, m = (
            summary[c].to_numpy(dtype=float)
            for c in ("frequency", "recency", "T", "monetary_value")
        )
        purchases = BetaGeo().fit(x, t_x, t)
        spend = GammaGamma().fit(x, m)
        out = summary.copy()
        out["p_alive"] = purchases.probability_alive(x, t_x, t)
        out["expected_purchases"] = purchases.expected_purchases(months * 4.345, x, t_x, t)
        out["expected_spend"] = spend.expected_spend(x, m)
        out["clv"] = expected_clv(
            purchases, spend, x, t_x, t, m, periods=months, discount_rate=discount_rate
        )
        out["clv_low"], out["clv_high"] = clv_interval(
            purchases, spend, x, t_x, t, m, periods=months, discount_rate=discount_rate
        )
        totals = history.groupby("customer").agg(
            orders=("amount", "size"),
            revenue=("amount", "sum"),
            last_purchase_at=("occurred_at", "max"),
        )
        scored = rfm(totals.reset_index().rename(columns={"customer": "customer_id"}), as_of=end)
        out = out.merge(
            scored[["customer_id", "rfm", "segment"]].rename(
                columns={"customer_id": "customer", "segment": "rfm_segment"}
            ),
            on="customer",
            how="left",
        )
        # Buyers without a contract churn silently: the chance they have lapsed (1 - P(alive))
        # times what they are still expected to bring. It peaks on customers who carry value
        # but whose buying has slipped, the ones a save call can still win back; customers
        # long gone carry no value left to lose.
        out["revenue_at_risk"] = (1.0 - out["p_alive"]) * out["clv"]
        params = {**purchases.params, **spend.params}
        out = out.sort_values("clv", ascending=False)
        run_id = self._save(out, params, end, months, discount_rate) if save else None
        return ClvReport(run_id, self.settings.currency, end, params, out)

    def _save(
        self,
        customers: pd.DataFrame,
        params: dict[str, float],
        as_of: pd.Timestamp,
        months: int,
        discount_rate: float,
    ) -> str:
        """Keep the run and every customer's value: values have a history."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        run_id = "val_" + now.strftime("%Y%m%dT%H%M%S") + "_" + uuid.uuid4().hex[:6]
        run = {
            "run_id": run_id,
            "fitted_at": now,
            "as_of": as_of.to_pydatetime(),
            "model": "bgnbd+gamma_gamma",
            "model_version": version("cxlens"),
            "currency": self.settings.currency,
            "horizon_months": months,
            "discount_rate": discount_rate,
            "params": json.dumps(params),
            "customers": len(customers),
        }
        values = customers.rename(columns={"customer": "customer_id", "T": "age"})
        values = values.assign(run_id=run_id, frequency=values["frequency"].astype("int64"))
        table = pa.Table.from_pandas(
            values[list(CUSTOMER_VALUES.column_names)], preserve_index=False
        )
        with self.store.transaction():
            self.store.append(VALUE_RUNS, pa.Table.from_pylist([run], arrow_schema(VALUE_RUNS)))
            self.store.append(CUSTOMER_VALUES, table)
        return run_id

    def value_history(self, customer_id: str) -> pd.DataFrame:
        """A customer's value in every run, oldest first."""
        frame: pd.DataFrame = self.store.query(
            "SELECT r.fitted_at, r.as_of, r.model, v.* FROM customer_values AS v "
            "JOIN value_runs AS r USING (run_id) WHERE v.customer_id = ? ORDER BY r.fitted_at",
            [customer_id],
        ).to_pandas()
        return frame

    def subscriptions(
        self, *, discount_rate: float = 0.01, projection_months: int = 36
    ) -> SubscriptionReport:
        """Contractual value: a shifted-beta-geometric model of monthly renewals, fitted on all
        signup cohorts; each paying customer's residual value = MRR × discounted expected
        further payments given how long they have paid (Fader & Hardie 2007, 2010)."""
        monthly = self.monthly_mrr()
        wide = monthly.pivot_table(index="customer", columns="month", values="mrr", fill_value=0.0)
        if wide.empty:
            raise MetricError("no subscription movements in the store")
        paying = wide.to_numpy() > 0
        months = list(wide.columns)
        # A life runs from the first paying month to the first month without pay.
        started = paying.argmax(axis=1)
        ever = paying.any(axis=1)
        after = np.where(np.arange(paying.shape[1])[None, :] >= started[:, None], ~paying, False)
        ended = np.where(after.any(axis=1), after.argmax(axis=1), len(months))
        cohorts = []
        for start in sorted(set(started[ever].tolist())):
            members = ever & (started == start)
            lifetimes = ended[members] - start
            observed = len(months) - start
            cohorts.append(
                np.array([(lifetimes > t).sum() for t in range(observed)], dtype=np.float64)
            )
        model = ShiftedBetaGeometric().fit_cohorts(cohorts)
        # The current streak of each paying customer: months since they last started paying.
        now = paying[:, -1]
        reversed_gap = (~paying[:, ::-1]).argmax(axis=1)
        streak = np.where(paying.all(axis=1), paying.shape[1], reversed_gap)
        renewals = np.maximum(streak[now] - 1, 0)
        mrr = wide.to_numpy()[now, -1]
        further = model.discounted_expected_residual_lifetime(renewals, discount_rate)
        customers = pd.DataFrame(
            {
                "customer": wide.index[now],
                "mrr": mrr,
                "months_paid": streak[now],
                "expected_further_payments": further,
                "residual_value": mrr * further,
            }
        ).sort_values("residual_value", ascending=False)
        survival = pd.Series(model.survival(projection_months), name="survival")
        return SubscriptionReport(self.settings.currency, model.params, survival, customers)

    def share_of_wallet(self, *, quantile: float = 0.9, min_peers: int = 5) -> pd.DataFrame:
        """Per master account: annual spend (ARR now + orders of the last 12 months), wallet
        (stated by a source, else estimated from peers of the same segment and size) and share.
        """
        monthly = self.monthly_mrr()
        spend = pd.Series(dtype=float)
        if not monthly.empty:
            last = monthly[monthly["month"] == monthly["month"].max()]
            spend = last.groupby("customer")["mrr"].sum() * 12
        history = orders(self.store)
        if not history.empty:
            history["amount"] = history["amount"].astype(float) * rate_to(
                history, self.rates(), self.settings.currency
            )
            at = pd.to_datetime(history["occurred_at"])
            recent = history[at > at.max() - pd.Timedelta(days=365)]
            account_of = self._account_of_customers()
            by_account = (
                recent.assign(
                    customer=recent["customer"].map(account_of).fillna(recent["customer"])
                )
                .groupby("customer")["amount"]
                .sum()
            )
            spend = spend.add(by_account, fill_value=0.0)
        accounts = account_attributes(self.store).set_index("customer")
        data = accounts.join(spend.rename("spend"), how="inner").reset_index()
        data = data.join(stated_wallets(self.store), on="customer")
        return share_of_wallet(data, quantile=quantile, min_peers=min_peers)

    def _account_of_customers(self) -> pd.Series:
        table = self.store.query("SELECT customer_id, account_id FROM customers")
        return pd.Series(
            table["account_id"].to_pylist(), index=table["customer_id"].to_pylist(), dtype=object
        )

    def validate_clv(
        self, *, calibration_end: pd.Timestamp, holdout_end: pd.Timestamp | None = None
    ) -> Validation:
        """Fit on orders up to `calibration_end`, compare with what happened after it."""
        history = orders(self.store)
        if history.empty:
            raise MetricError("no placed orders in the store: CLV needs order events")
        end = holdout_end or pd.to_datetime(history["occurred_at"]).max().ceil("D")
        if calibration_end >= end:
            raise MetricError(f"the calibration must end before the data does ({end.date()})")
        return validate(history, calibration_end=calibration_end, holdout_end=end)

    def _groups(self, by: Breakdown, movements: pd.DataFrame) -> pd.Series:
        if by == "plan":
            moves = movements.dropna(subset=["plan"])
            latest: pd.Series = moves.groupby("customer")["plan"].last()
            return latest
        attributes = account_attributes(self.store).set_index("customer")
        return attributes[by]
