"""xgboost surrogates: a bootstrap ensemble regressor with uncertainty, and a classifier.

Every model passes an explicit thread count to xgboost (:func:`mi.models._threads.xgb_threads`),
never more than the container's CPU quota.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from mi.models._threads import set_passive_omp_default, xgb_threads
from mi.models._validation import check_choice, check_number

set_passive_omp_default()
import xgboost as xgb  # noqa: E402  (after the OpenMP wait policy is set)

__all__ = ["XGBEnsembleRegressor", "XGBClassifierModel"]

_OBJECTIVES = ("reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror")


class _XGBParamsMixin:
    """Shared tree-booster parameters and their checks."""

    n_estimators: int
    learning_rate: float
    max_depth: int
    subsample: float
    colsample_bytree: float
    min_child_weight: float
    reg_lambda: float
    max_bin: int
    n_jobs: int | None

    def _check_booster_params(self) -> None:
        check_number(self, "n_estimators", self.n_estimators, kind=numbers.Integral, low=1)
        check_number(self, "learning_rate", self.learning_rate, low=0.0, high=1.0, low_open=True)
        check_number(self, "max_depth", self.max_depth, kind=numbers.Integral, low=0)
        check_number(self, "subsample", self.subsample, low=0.0, high=1.0, low_open=True)
        check_number(
            self, "colsample_bytree", self.colsample_bytree, low=0.0, high=1.0, low_open=True
        )
        check_number(self, "min_child_weight", self.min_child_weight, low=0.0)
        check_number(self, "reg_lambda", self.reg_lambda, low=0.0)
        check_number(self, "max_bin", self.max_bin, kind=numbers.Integral, low=2)
        check_number(self, "n_jobs", self.n_jobs, kind=numbers.Integral, allow_none=True)
        if self.n_jobs == 0:
            raise ValueError(
                f"The 'n_jobs' parameter of {type(self).__name__} must be a non-zero int or None. "
                "Got 0 instead."
            )

    def _booster_kwargs(self, seed: int) -> dict[str, Any]:
        return {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "max_depth": self.max_depth,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "reg_lambda": self.reg_lambda,
            "max_bin": self.max_bin,
            "tree_method": "hist",
            "n_jobs": xgb_threads(self.n_jobs),
            "random_state": seed,
            "verbosity": 0,
        }


def _seeds(random_state: int | np.random.RandomState | None, n: int) -> np.ndarray:
    rng = (
        np.random.RandomState(random_state)
        if not isinstance(random_state, np.random.RandomState)
        else random_state
    )
    return rng.randint(0, 2**31 - 1, size=n)


class XGBEnsembleRegressor(_XGBParamsMixin, RegressorMixin, BaseEstimator):
    """Ensemble of xgboost regressors on bootstrap resamples; spread of members = uncertainty.

    Each member is a gradient-boosted tree model fitted on a bootstrap resample of
    ``max_samples`` rows (or, with ``bootstrap=False``, on a random subset of ``max_samples``
    rows drawn without replacement, "subagging"; all rows when ``max_samples`` is None), with
    its own seed for the per-tree row/column subsampling. The
    prediction is the members' mean, the uncertainty their standard deviation (ddof=1). The
    spread is an epistemic estimate and is usually too narrow: recalibrate it on out-of-fold
    predictions with :class:`mi.models.CalibratedRegressor`.

    Parameters
    ----------
    n_members : int, default 8
        Number of ensemble members.
    n_estimators : int, default 400
        Boosting rounds per member.
    learning_rate : float, default 0.05
        Shrinkage.
    max_depth : int, default 6
        Tree depth.
    subsample : float, default 0.8
        Row subsample per tree.
    colsample_bytree : float, default 0.6
        Column subsample per tree.
    min_child_weight : float, default 1.0
        Minimum hessian weight per leaf.
    reg_lambda : float, default 1.0
        L2 regularisation.
    max_bin : int, default 256
        Histogram bins.
    bootstrap : bool, default True
        Fit every member on a bootstrap resample (counts used as sample weights).
    max_samples : float or None, default None
        Fraction of rows drawn per member (None: ``n`` draws with replacement when
        ``bootstrap``, else all rows).
    objective : {"reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror"}
        Loss of every member (default squared error). The absolute and pseudo-Huber losses are
        robust to wrong labels (e.g. text-mined values) and aim at the median / MAE.
    random_state : int, RandomState or None
        Seed of the bootstrap draws and member seeds.
    n_jobs : int or None
        Threads per member (``None``: the CPU quota, see :func:`mi.config.resolve_n_jobs`).

    Attributes
    ----------
    members_ : list of xgboost.XGBRegressor
        Fitted members.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = X[:, 0] + 0.1 * rng.normal(size=200)
    >>> model = XGBEnsembleRegressor(n_members=3, n_estimators=50, n_jobs=1, random_state=0)
    >>> mean, std = model.fit(X, y).predict(X[:5], return_std=True)
    >>> model.predict_members(X[:5]).shape
    (3, 5)
    """

    def __init__(
        self,
        n_members: int = 8,
        n_estimators: int = 400,
        learning_rate: float = 0.05,
        max_depth: int = 6,
        subsample: float = 0.8,
        colsample_bytree: float = 0.6,
        min_child_weight: float = 1.0,
        reg_lambda: float = 1.0,
        max_bin: int = 256,
        bootstrap: bool = True,
        max_samples: float | None = None,
        objective: str = "reg:squarederror",
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_members = n_members
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.max_bin = max_bin
        self.bootstrap = bootstrap
        self.max_samples = max_samples
        self.objective = objective
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):  # noqa: D401
        """Tags: NaN allowed in X (xgboost routes missing values)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> XGBEnsembleRegressor:
        """Fit the members.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Features (NaN allowed).
        y : array-like of shape (n,)
            Target.
        sample_weight : array-like of shape (n,), optional
            Row weights (multiplied with the bootstrap counts).

        Returns
        -------
        self
        """
        self._check_booster_params()
        check_number(self, "n_members", self.n_members, kind=numbers.Integral, low=1)
        check_choice(self, "objective", self.objective, _OBJECTIVES)
        check_number(
            self, "max_samples", self.max_samples, low=0.0, high=1.0, low_open=True, allow_none=True
        )
        X, y = validate_data(
            self, X, y, ensure_all_finite="allow-nan", dtype=np.float64, y_numeric=True
        )
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        n = X.shape[0]
        rng = (
            np.random.RandomState(self.random_state)
            if not isinstance(self.random_state, np.random.RandomState)
            else self.random_state
        )
        seeds = rng.randint(0, 2**31 - 1, size=self.n_members)
        self.members_ = []
        for seed in seeds:
            weights = sw * self._draw_counts(n, int(seed))
            if not np.any(weights > 0):  # all drawn rows had zero weight: use every row
                weights = sw
            keep = weights > 0
            member = xgb.XGBRegressor(objective=self.objective, **self._booster_kwargs(int(seed)))
            member.fit(X[keep], y[keep], sample_weight=weights[keep])
            self.members_.append(member)
        return self

    def _draw_counts(self, n: int, seed: int) -> np.ndarray:
        """How often each row enters one member's training set."""
        size = n if self.max_samples is None else max(1, int(round(self.max_samples * n)))
        rs = np.random.RandomState(seed)
        if self.bootstrap and n > 1:
            return np.bincount(rs.randint(0, n, size=size), minlength=n).astype(np.float64)
        if size >= n:
            return np.ones(n)
        counts = np.zeros(n)
        counts[rs.choice(n, size=size, replace=False)] = 1.0
        return counts

    def predict_members(self, X: Any) -> np.ndarray:
        """Predictions of every member, shape (n_members, n)."""
        check_is_fitted(self, "members_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        return np.vstack([m.predict(X) for m in self.members_]).astype(np.float64)

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Mean of the members, and optionally their standard deviation.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Features.
        return_std : bool, default False
            Also return the members' standard deviation (ddof=1; zeros for one member).

        Returns
        -------
        mean : ndarray of shape (n,)
        std : ndarray of shape (n,), only when ``return_std``
        """
        members = self.predict_members(X)
        mean = members.mean(axis=0)
        if not return_std:
            return mean
        std = members.std(axis=0, ddof=1) if members.shape[0] > 1 else np.zeros_like(mean)
        return mean, std


class XGBClassifierModel(_XGBParamsMixin, ClassifierMixin, BaseEstimator):
    """xgboost classifier with probabilities (binary or multiclass) and explicit threads.

    Parameters
    ----------
    n_estimators : int, default 400
        Boosting rounds.
    learning_rate : float, default 0.05
        Shrinkage.
    max_depth : int, default 6
        Tree depth.
    subsample : float, default 0.8
        Row subsample per tree.
    colsample_bytree : float, default 0.6
        Column subsample per tree.
    min_child_weight : float, default 1.0
        Minimum hessian weight per leaf.
    reg_lambda : float, default 1.0
        L2 regularisation.
    max_bin : int, default 256
        Histogram bins.
    random_state : int or None
        Seed.
    n_jobs : int or None
        Threads (``None``: the CPU quota).

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    booster_ : xgboost.XGBClassifier
        The fitted model (on integer-encoded labels).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = np.where(X[:, 0] > 0, "metal", "insulator")
    >>> clf = XGBClassifierModel(n_estimators=30, n_jobs=1, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self,
        n_estimators: int = 400,
        learning_rate: float = 0.05,
        max_depth: int = 6,
        subsample: float = 0.8,
        colsample_bytree: float = 0.6,
        min_child_weight: float = 1.0,
        reg_lambda: float = 1.0,
        max_bin: int = 256,
        random_state: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.max_bin = max_bin
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):  # noqa: D401
        """Tags: NaN allowed in X."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> XGBClassifierModel:
        """Fit the classifier.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Features (NaN allowed).
        y : array-like of shape (n,)
            Class labels (any hashable values; at least two classes).
        sample_weight : array-like of shape (n,), optional
            Row weights.

        Returns
        -------
        self
        """
        self._check_booster_params()
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if self.classes_.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data; got 1 "
                f"class ({self.classes_[0]!r})."
            )
        sw = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        seed = int(_seeds(self.random_state, 1)[0])
        self.booster_ = xgb.XGBClassifier(**self._booster_kwargs(seed))
        self.booster_.fit(X, encoder.transform(y), sample_weight=sw)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns in the order of ``classes_``."""
        check_is_fitted(self, "booster_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        return np.asarray(self.booster_.predict_proba(X), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class label per row."""
        check_is_fitted(self, "booster_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
