"""The value namespace of a workspace: revenue figures over the store, in the reporting currency."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from cxlens.config import ValueSettings
from cxlens.errors import MetricError
from cxlens.metrics.frames import account_attributes, subscription_movements
from cxlens.metrics.revenue import by_group, cohorts, monthly_mrr, retention, waterfall
from cxlens.store import Store

Breakdown = Literal["segment", "region", "country", "owner", "industry", "plan"]


@dataclass
class RevenueReport:
    currency: str
    #: Per month (and group): starting MRR, movements, ending MRR, ARR, customers, logo churn.
    waterfall: pd.DataFrame
    #: Per month (and group): NRR and GRR, monthly and trailing 12 months.
    retention: pd.DataFrame
    #: Logo and revenue retention by first paying month and months since.
    cohorts: dict[str, pd.DataFrame]


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

    def monthly_mrr(self) -> pd.DataFrame:
        return monthly_mrr(
            subscription_movements(self.store),
            rates=self.rates(),
            currency=self.settings.currency,
        )

    def revenue(self, *, by: Breakdown | None = None) -> RevenueReport:
        monthly = self.monthly_mrr()
        if by is None:
            flow, kept = waterfall(monthly), retention(monthly)
        else:
            groups = self._groups(by)
            flow = by_group(monthly, groups, waterfall)
            kept = by_group(monthly, groups, retention)
        return RevenueReport(self.settings.currency, flow, kept, cohorts(monthly))

    def _groups(self, by: Breakdown) -> pd.Series:
        if by == "plan":
            moves = subscription_movements(self.store).dropna(subset=["plan"])
            latest: pd.Series = moves.groupby("customer")["plan"].last()
            return latest
        attributes = account_attributes(self.store).set_index("customer")
        return attributes[by]
