"""Metrics: revenue (MRR, waterfall, retention, cohorts); satisfaction and service KPIs follow.

Functions take DataFrames and return DataFrames, so they run the same on any store."""

from cxlens.metrics.revenue import cohorts, monthly_mrr, retention, waterfall

__all__ = ["cohorts", "monthly_mrr", "retention", "waterfall"]
