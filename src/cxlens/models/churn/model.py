"""`ChurnModel`: who is likely to leave, as a calibrated probability, and which features say so.

Gradient-boosted trees (LightGBM) with small, heavily regularised trees and many slow rounds:
churn tables are small and noisy, so shallow trees that add up many weak effects generalise
better than deep ones. By default their log-odds are blended with a penalised logistic
regression (`linear_weight`), which ranks better than either alone; explanations
(`contributions`, tree SHAP) come from the trees only, so they stay exact and additive.
Probabilities are calibrated on out-of-fold scores; with `groups` (customer ids) all rows of
one customer fall in the same fold, so a customer's other snapshots never vouch for it.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from cxlens.errors import ModelError
from cxlens.models.churn.calibration import Calibrator, Method, fit_calibrator
from cxlens.models.churn.features import F64, Schema
from cxlens.models.churn.linear import LinearPart, fit_linear
from cxlens.models.churn.shap import TreeShap

FORMAT = "cxlens-churn/1"

#: Tuned on the public Telco data (5-fold CV over 3 seeds) and sane for large tables too.
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.02,
    "num_leaves": 4,
    "min_child_samples": 50,
    "lambda_l2": 10.0,
    "feature_fraction": 0.7,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "cat_smooth": 20.0,
    "min_data_per_group": 50,
    "verbose": -1,
    "deterministic": True,
    # One thread: these tables are small, and OpenMP threads spinning against other work on a
    # shared machine made a 1 s fit take 90 s (measured on 2 busy cores).
    "num_threads": 1,
}
DEFAULT_ROUNDS = 600
_THREAD_ALIASES = ("num_threads", "num_thread", "nthread", "nthreads", "n_jobs")
#: Below this many rows one thread is faster than several: OpenMP's synchronisation costs more
#: than the work, and on a busy machine its spinning threads slow LightGBM down 10-30x.
SINGLE_THREAD_ROWS = 50_000
#: From this many rows on, scoring builds exact pattern tables of the trees (shap.py, ~0.3 s
#: once per model) and uses them instead of LightGBM's walk: same numbers, ~10x faster.
FAST_TREES_ROWS = 10_000
_ROUND_ALIASES = ("num_boost_round", "num_iterations", "n_estimators", "num_rounds", "num_trees")


def _plain(value: object) -> object:
    """numpy scalars in params (e.g. from a tuning loop) as the Python numbers they are."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _labels(y: np.ndarray, n: int) -> F64:
    labels = np.asarray(y, dtype=np.float64).ravel()
    if len(labels) != n:
        raise ModelError(f"{n} rows of features but {len(labels)} labels")
    if np.isnan(labels).any() or not np.isin(labels, (0.0, 1.0)).all():
        raise ModelError("churn labels must be 0 (stayed) or 1 (left), without missing values")
    return labels


class ChurnModel:
    """Gradient-boosted trees (LightGBM) with calibrated probabilities."""

    def __init__(
        self,
        *,
        random_state: int = 0,
        params: dict[str, Any] | None = None,
        linear_weight: float = 0.4,
        linear_strength: float = 0.1,
        calibration: Method = "sigmoid",
        calibration_folds: int = 3,
    ) -> None:
        if not 0.0 <= linear_weight <= 1.0:
            raise ModelError(f"linear_weight must lie in [0, 1]; got {linear_weight}")
        if calibration not in ("sigmoid", "isotonic"):
            raise ModelError(f"unknown calibration '{calibration}'; use 'sigmoid' or 'isotonic'")
        if calibration_folds < 2:
            raise ModelError("calibration_folds must be at least 2 (out-of-fold calibration)")
        merged = {**DEFAULT_PARAMS, **(params or {})}
        rounds = DEFAULT_ROUNDS
        for alias in _ROUND_ALIASES:
            if alias in merged:
                rounds = int(merged.pop(alias))
        merged["seed"] = random_state
        self.random_state = random_state
        self.params = merged
        self.rounds = rounds
        self.linear_weight = linear_weight
        self.linear_strength = linear_strength
        self.calibration: Method = calibration
        self.calibration_folds = calibration_folds
        self.features: list[str] = []
        self._schema: Schema | None = None
        self._booster: lgb.Booster | None = None
        self._linear: LinearPart | None = None
        self._calibrator: Calibrator | None = None
        self._shap: TreeShap | None = None
        self._shap_built = False

    @property
    def version(self) -> str:
        """ "lgbm-<hash>" of everything that shapes the model except the data."""
        settings = {
            "params": self.params,
            "rounds": self.rounds,
            "linear_weight": self.linear_weight,
            "linear_strength": self.linear_strength,
            "calibration": self.calibration,
            "calibration_folds": self.calibration_folds,
        }
        text = json.dumps(settings, sort_keys=True, default=_plain)
        digest = hashlib.sha256(text.encode()).hexdigest()
        return f"lgbm-{digest[:12]}"

    # -- fitting ---------------------------------------------------------------------------

    def _fit_parts(
        self, schema: Schema, matrix: F64, frame: pd.DataFrame, y: F64
    ) -> tuple[lgb.Booster, LinearPart | None]:
        data = lgb.Dataset(
            matrix,
            y,
            feature_name=[f"f{j}" for j in range(matrix.shape[1])],  # names may hold any text
            categorical_feature=schema.categorical_indices(),
            params={"verbose": -1},
        )
        params = dict(self.params)
        if len(y) < SINGLE_THREAD_ROWS and not any(a in params for a in _THREAD_ALIASES):
            params["num_threads"] = 1
        booster = lgb.train(params, data, num_boost_round=self.rounds)
        linear = None
        if self.linear_weight > 0:
            linear = fit_linear(schema, frame, y, strength=self.linear_strength)
        return booster, linear

    def _blend(
        self, tree: F64, linear: LinearPart | None, schema: Schema, frame: pd.DataFrame
    ) -> F64:
        if linear is None:
            return tree
        return (1 - self.linear_weight) * tree + self.linear_weight * linear.score(schema, frame)

    def _folds(self, y: F64, groups: np.ndarray | None) -> list[tuple[np.ndarray, np.ndarray]]:
        k = self.calibration_folds
        smaller = int(min(y.sum(), len(y) - y.sum()))
        if smaller < k:
            raise ModelError(
                f"calibration needs at least {k} customers who left and {k} who stayed; "
                f"the smaller class has {smaller}"
            )
        splitter: StratifiedKFold | StratifiedGroupKFold
        if groups is None:
            splitter = StratifiedKFold(k, shuffle=True, random_state=self.random_state)
            return list(splitter.split(np.zeros(len(y)), y))
        ids = np.asarray(groups).ravel()
        if len(ids) != len(y):
            raise ModelError(f"{len(y)} labels but {len(ids)} group ids")
        if len(pd.unique(ids)) < k:
            raise ModelError(f"calibration needs at least {k} distinct customers (groups)")
        splitter = StratifiedGroupKFold(k, shuffle=True, random_state=self.random_state)
        return list(splitter.split(np.zeros(len(y)), y, ids))

    def fit(
        self, X: pd.DataFrame, y: np.ndarray, *, groups: np.ndarray | None = None
    ) -> ChurnModel:
        """Train on rows of features `X` and labels `y` (1 = left); `groups` are customer ids
        when a customer contributes several rows (snapshots)."""
        labels = _labels(y, len(X))
        if labels.min() == labels.max():
            raise ModelError(
                "churn labels hold one class only (every customer "
                f"{'left' if labels[0] else 'stayed'}); a model needs both to learn from"
            )
        schema = Schema.learn(X)
        matrix = schema.matrix(X)
        out_of_fold = np.empty(len(labels))
        for train, held in self._folds(labels, groups):
            if labels[train].min() == labels[train].max():
                raise ModelError("a calibration fold holds one class only; give more rows")
            booster, linear = self._fit_parts(schema, matrix[train], X.iloc[train], labels[train])
            tree = booster.predict(matrix[held], raw_score=True)
            out_of_fold[held] = self._blend(np.asarray(tree), linear, schema, X.iloc[held])
        self._calibrator = fit_calibrator(out_of_fold, labels, self.calibration)
        self._booster, self._linear = self._fit_parts(schema, matrix, X, labels)
        self._schema = schema
        self.features = list(schema.features)
        self._shap, self._shap_built = None, False
        return self

    # -- scoring ---------------------------------------------------------------------------

    def _fitted(self) -> tuple[Schema, lgb.Booster, Calibrator]:
        if self._schema is None or self._booster is None or self._calibrator is None:
            raise ModelError("the churn model is not fitted; call fit() or from_bytes() first")
        return self._schema, self._booster, self._calibrator

    def _tree_shap(self, booster: lgb.Booster, rows: int) -> TreeShap | None:
        if not self._shap_built and rows >= FAST_TREES_ROWS:
            self._shap, self._shap_built = TreeShap.build(booster.dump_model()), True
        return self._shap

    def tree_score(self, X: pd.DataFrame) -> F64:
        """Raw log-odds of the trees alone (what `contributions` add up to)."""
        schema, booster, _ = self._fitted()
        matrix = schema.matrix(X)
        fast = self._tree_shap(booster, len(matrix))
        if fast is not None:
            return fast.raw_score(matrix)  # LightGBM's numbers, several times faster
        return np.asarray(booster.predict(matrix, raw_score=True), dtype=np.float64)

    def predict_proba(self, X: pd.DataFrame) -> F64:
        """Calibrated probability of churn per row, shape (n,)."""
        schema, _, calibrator = self._fitted()
        return calibrator.apply(self._blend(self.tree_score(X), self._linear, schema, X))

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Tree SHAP values: one column per feature plus "bias"; each row sums to
        `tree_score` (raw log-odds), positive values push the risk up."""
        return self.explain(X)[1]

    def explain(self, X: pd.DataFrame) -> tuple[F64, pd.DataFrame]:
        """`predict_proba` and `contributions` in one pass over the trees (the tree score is
        the sum of the contributions), for scoring large tables."""
        schema, booster, calibrator = self._fitted()
        matrix = schema.matrix(X)
        fast = self._tree_shap(booster, len(matrix))
        if fast is not None:
            values = fast.contributions(matrix)  # LightGBM's numbers, ~10x faster
        else:
            values = np.asarray(booster.predict(matrix, pred_contrib=True))
        tree = values.sum(axis=1)
        proba = calibrator.apply(self._blend(tree, self._linear, schema, X))
        table = pd.DataFrame(values, columns=[*self.features, "bias"], index=X.index)
        return proba, table

    # -- persistence -----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Compressed JSON (no pickle): safe to store and to load from anywhere."""
        schema, booster, calibrator = self._fitted()
        state = {
            "format": FORMAT,
            "random_state": self.random_state,
            "params": self.params,
            "rounds": self.rounds,
            "linear_weight": self.linear_weight,
            "linear_strength": self.linear_strength,
            "calibration": self.calibration,
            "calibration_folds": self.calibration_folds,
            "schema": schema.to_dict(),
            "booster": booster.model_to_string(),
            "linear": None if self._linear is None else self._linear.to_dict(),
            "calibrator": calibrator.to_dict(),
        }
        return zlib.compress(json.dumps(state, default=_plain).encode("utf-8"))

    @classmethod
    def from_bytes(cls, data: bytes) -> ChurnModel:
        try:
            state = json.loads(zlib.decompress(data).decode("utf-8"))
        except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"not a saved churn model: {exc}") from exc
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ModelError(f"not a saved churn model (expected format {FORMAT})")
        params = dict(state["params"])
        params["num_boost_round"] = state["rounds"]
        model = cls(
            random_state=int(state["random_state"]),
            params=params,
            linear_weight=float(state["linear_weight"]),
            linear_strength=float(state["linear_strength"]),
            calibration=state["calibration"],
            calibration_folds=int(state["calibration_folds"]),
        )
        model._schema = Schema.from_dict(state["schema"])
        model._booster = lgb.Booster(model_str=state["booster"])
        model._linear = None if state["linear"] is None else LinearPart.from_dict(state["linear"])
        model._calibrator = Calibrator.from_dict(state["calibrator"])
        model.features = list(model._schema.features)
        return model
