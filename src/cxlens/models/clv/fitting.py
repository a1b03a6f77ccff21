"""Maximum likelihood on positive parameters: optimise their logarithms, report the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from cxlens.errors import ModelError

#: Parameters are fitted on the log scale. A step past e^±30 is the optimiser overshooting, not
#: an estimate; clipping keeps the objective finite there so it can step back.
MAX_LOG = 30.0

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Fit:
    params: dict[str, float]
    log_likelihood: float
    iterations: int
    #: Covariance of the log parameters (inverse observed information), when the likelihood
    #: gives its gradient; None otherwise.
    covariance: F64 | None = None

    def draws(self, n: int, seed: int = 0) -> list[dict[str, float]]:
        """`n` parameter sets from the estimate's asymptotic distribution (normal in logs)."""
        if self.covariance is None:
            raise ModelError("this fit has no covariance to draw parameters from")
        names = list(self.params)
        centre = np.log([self.params[k] for k in names])
        rng = np.random.default_rng(seed)
        sample = np.exp(rng.multivariate_normal(centre, self.covariance, size=n))
        return [dict(zip(names, (float(v) for v in row), strict=True)) for row in sample]


def fit_positive(
    names: tuple[str, ...],
    negative_log_likelihood: Callable[[F64], float] | Callable[[F64], tuple[float, F64]],
    start: F64,
    *,
    model: str,
    gradient: bool = False,
) -> Fit:
    """Minimise `negative_log_likelihood(log_params)` (which also returns its gradient when
    `gradient`); raise ModelError if it does not converge."""
    # scipy-stubs types `fun` per `jac`; one call serves both shapes here.
    result = minimize(  # type: ignore[call-overload]
        negative_log_likelihood,
        np.log(start),
        jac=gradient,
        method="L-BFGS-B",
        options={"maxiter": 2_000, "ftol": 1e-12, "gtol": 1e-9},
    )
    if not result.success and "ABNORMAL" not in str(result.message):
        raise ModelError(f"{model} did not converge: {result.message}")
    values = np.exp(result.x)
    covariance = None
    if gradient:
        covariance = _covariance(negative_log_likelihood, result.x)  # type: ignore[arg-type]
    return Fit(
        params=dict(zip(names, (float(v) for v in values), strict=True)),
        log_likelihood=-float(result.fun),
        iterations=int(result.nit),
        covariance=covariance,
    )


def _covariance(objective: Callable[[F64], tuple[float, F64]], at: F64) -> F64 | None:
    """Inverse of the Hessian of the negative log-likelihood at the optimum, by central
    differences of its analytic gradient; None when it is not positive definite."""
    step = 1e-5
    hessian = np.empty((len(at), len(at)))
    for j in range(len(at)):
        shift = np.zeros(len(at))
        shift[j] = step
        hessian[:, j] = (objective(at + shift)[1] - objective(at - shift)[1]) / (2 * step)
    hessian = (hessian + hessian.T) / 2
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return None
    return np.asarray(np.linalg.inv(hessian), dtype=np.float64)


def distinct(*columns: F64) -> tuple[list[F64], npt.NDArray[np.intp]]:
    """Distinct rows of the given columns, and for each input row the index of its distinct row.

    A lexicographic sort and a scan for changes: several times faster than
    `np.unique(axis=0)` on a million rows."""
    cols = [np.asarray(c, dtype=np.float64) for c in columns]
    n = len(cols[0])
    if n == 0:
        return [c[:0] for c in cols], np.zeros(0, dtype=np.intp)
    order = np.lexsort(cols[::-1])
    changed = np.zeros(n, dtype=bool)
    changed[0] = True
    for c in cols:
        ordered = c[order]
        changed[1:] |= ordered[1:] != ordered[:-1]
    group_of_sorted = np.cumsum(changed) - 1
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = group_of_sorted
    firsts = order[changed]
    return [c[firsts] for c in cols], inverse


def grouped(*columns: F64) -> tuple[list[F64], F64]:
    """Distinct rows of the given columns and how many times each occurs.

    Customers with identical summaries contribute identically to the likelihood: fitting on
    distinct rows with weights gives the same estimates, far faster."""
    rows, inverse = distinct(*columns)
    counts = np.bincount(inverse, minlength=len(rows[0])).astype(np.float64)
    return rows, counts
