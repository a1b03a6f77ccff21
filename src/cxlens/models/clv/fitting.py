"""Maximum likelihood on positive parameters: optimise their logarithms, report the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from cxlens.errors import ModelError

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Fit:
    params: dict[str, float]
    log_likelihood: float
    iterations: int


def fit_positive(
    names: tuple[str, ...],
    negative_log_likelihood: Callable[[F64], float],
    start: F64,
    *,
    model: str,
) -> Fit:
    """Minimise `negative_log_likelihood(log_params)`; raise ModelError if it does not converge."""
    result = minimize(
        negative_log_likelihood,
        np.log(start),
        method="L-BFGS-B",
        options={"maxiter": 2_000, "ftol": 1e-12, "gtol": 1e-9},
    )
    if not result.success and "ABNORMAL" not in str(result.message):
        raise ModelError(f"{model} did not converge: {result.message}")
    values = np.exp(result.x)
    return Fit(
        params=dict(zip(names, (float(v) for v in values), strict=True)),
        log_likelihood=-float(result.fun),
        iterations=int(result.nit),
    )


def grouped(*columns: F64) -> tuple[list[F64], F64]:
    """Distinct rows of the given columns and how many times each occurs.

    Customers with identical summaries contribute identically to the likelihood: fitting on
    distinct rows with weights gives the same estimates, far faster."""
    stacked = np.column_stack(columns)
    rows, counts = np.unique(stacked, axis=0, return_counts=True)
    return [rows[:, i] for i in range(rows.shape[1])], counts.astype(np.float64)
