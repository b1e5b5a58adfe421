"""xgboost surrogates: an ensemble regressor with calibrated uncertainty, and a classifier.

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

from mi.models._monotone import column_names, monotone_constraints
from mi.models._oob import (
    CALIBRATIONS,
    _c4,
    fit_oob_calibration,
    oob_summary,
    stretch_members,
)
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
    """Ensemble of xgboost regressors on subsamples, with a calibrated uncertainty out of the box.

    Each member is a gradient-boosted tree model fitted on a part of the rows, with its own seed
    for the per-tree row/column subsampling; the prediction is the members' mean.

    **What the returned std means.** ``predict(X, return_std=True)`` returns the members'
    standard deviation (ddof=1) mapped by a calibrator (``std' = a * std + b`` by default) that
    ``fit`` learns from the *out-of-bag* predictions of the training rows: every row is
    predicted by the members that never saw it, and the map is fitted (Gaussian likelihood) so
    those errors are matched. ``mean -/+ 1.96 std'`` is then a 95 % prediction interval for a
    new measurement of a point *like the training rows* (same distribution: it covers about
    95 % of such points, not 95 % of each point), and ``mean -/+ std'`` a 68 % one. It is not a
    guarantee for compositions far from the training data (check the applicability domain), and
    it includes the label noise of the training set. The raw member spread alone (an epistemic
    estimate) covers only 40-70 % of held-out errors on our benchmarks; ask for it with
    ``calibration="none"``.

    Rows are drawn per member so that out-of-bag predictions exist: with ``bootstrap=False``
    and ``max_samples`` < 1 (default) the rows are dealt into ``n_members`` random folds and
    member ``j`` leaves out ``h = round((1 - max_samples) * n_members)`` consecutive folds
    (cyclically), so every row is left out by exactly ``h`` members (balanced subagging); with
    ``bootstrap=True`` every member fits a bootstrap resample. The calibration needs rows with
    at least two out-of-bag members; without them (e.g. ``max_samples=None``: every member on
    all rows) a warning says the std is raw.

    Defaults (8 members of 250 trees on 75 % of the rows, depth 6, lr 0.1, column subsample
    0.7, 32 histogram bins) were chosen against one ``xgboost.XGBRegressor(500 trees, depth 6,
    lr 0.05)`` on selection folds (3-fold grouped, seed 1, not the benchmark's seed-0 folds) of
    every regression task of ``benchmarks/accuracy.py`` (band gaps, SuperCon Tc > 0 and all
    rows, Curie temperatures, NovaMag and Materials Project Ms, OBELiX training rows). Among
    the variants tried (16 / 32 / 64 / 128 / 256 bins, column subsample 0.5-0.8, lr 0.07 x
    300 trees, 200 trees at lr 0.12), this one had the largest worst-task error margin
    (error 2.2-7.3 % below the plain model's on every task, against 1.2 % for the previous
    0.5 / 64-bin default on the band gaps) among those whose fit time stayed under 1.75 times
    the plain model's on every task (1.3-1.7 here; 0.8 columns and 32 bins: 1.8 on NovaMag).
    Fewer bins are faster and did not cost accuracy on these tables (256 bins: worse on the
    band gaps at 2.5 times the time). ``benchmarks/default_surrogate.py`` reruns the choice;
    ``benchmarks/accuracy.py`` reports both models on the reported folds.

    Parameters
    ----------
    n_members : int, default 8
        Number of ensemble members.
    n_estimators : int, default 250
        Boosting rounds per member.
    learning_rate : float, default 0.1
        Shrinkage.
    max_depth : int, default 6
        Tree depth.
    subsample : float, default 0.8
        Row subsample per tree.
    colsample_bytree : float, default 0.7
        Column subsample per tree.
    min_child_weight : float, default 1.0
        Minimum hessian weight per leaf.
    reg_lambda : float, default 1.0
        L2 regularisation.
    max_bin : int, default 32
        Histogram bins (32: faster than xgboost's 256, as accurate on our benchmarks).
    bootstrap : bool, default False
        Fit every member on a bootstrap resample (counts used as sample weights).
    max_samples : float or None, default 0.75
        Fraction of rows per member (see above; None: ``n`` draws with replacement when
        ``bootstrap``, else all rows).
    objective : {"reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror"}
        Loss of every member (default squared error). The absolute and pseudo-Huber losses are
        robust to wrong labels (e.g. text-mined values) and aim at the median / MAE.
    monotone_increasing : str or None, default None
        Features the prediction may only rise with (xgboost monotone constraints), as the
        starts of column names separated by ``";"``; each must match exactly one column of the
        DataFrame given to ``fit``. Used for a known physical trend, e.g. Co for Fe raising the
        Curie temperature (:mod:`mi.features.substitution`).
    calibration : {"linear", "scale", "isotonic", "none"}, default "linear"
        Calibrator fitted on the out-of-bag predictions at ``fit`` (see
        :func:`mi.models.list_calibrators`); ``"none"`` returns the raw member spread.
    random_state : int, RandomState or None
        Seed of the row draws and member seeds.
    n_jobs : int or None
        Threads per member (``None``: the CPU quota, see :func:`mi.config.resolve_n_jobs`).

    Attributes
    ----------
    members_ : list of xgboost.XGBRegressor
        Fitted members.
    calibrator_ : StdCalibrator or None
        Map from the raw spread to the returned std (None: raw spread returned).
    oob_calibration_ : CalibrationReport or None
        Coverage etc. of the *raw* out-of-bag spread on the training rows (before the map).
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = X[:, 0] + 0.1 * rng.normal(size=200)
    >>> model = XGBEnsembleRegressor(n_estimators=50, n_jobs=1, random_state=0)
    >>> mean, std = model.fit(X, y).predict(X[:5], return_std=True)
    >>> model.predict_members(X[:5]).shape
    (8, 5)
    >>> sorted(model.calibrator_.to_dict())
    ['a', 'b', 'name']
    """

    def __init__(
        self,
        n_members: int = 8,
        n_estimators: int = 250,
        learning_rate: float = 0.1,
        max_depth: int = 6,
        subsample: float = 0.8,
        colsample_bytree: float = 0.7,
        min_child_weight: float = 1.0,
        reg_lambda: float = 1.0,
        max_bin: int = 32,
        bootstrap: bool = False,
        max_samples: float | None = 0.75,
        objective: str = "reg:squarederror",
        calibration: str = "linear",
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
        monotone_increasing: str | None = None,
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
        self.monotone_increasing = monotone_increasing
        self.calibration = calibration
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
        check_choice(self, "calibration", self.calibration, CALIBRATIONS)
        check_number(
            self, "max_samples", self.max_samples, low=0.0, high=1.0, low_open=True, allow_none=True
        )
        names = column_names(X)
        X, y = validate_data(
            self, X, y, ensure_all_finite="allow-nan", dtype=np.float64, y_numeric=True
        )
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        extra: dict[str, Any] = {}
        if self.monotone_increasing:
            extra["monotone_constraints"] = monotone_constraints(
                self.monotone_increasing, names, X.shape[1]
            )
        n = X.shape[0]
        rng = (
            np.random.RandomState(self.random_state)
            if not isinstance(self.random_state, np.random.RandomState)
            else self.random_state
        )
        seeds = rng.randint(0, 2**31 - 1, size=self.n_members)
        counts = self._draw_counts(n, rng, seeds)
        self.members_ = []
        for seed, count in zip(seeds, counts, strict=True):
            weights = sw * count
            if not np.any(weights > 0):  # all drawn rows had zero weight: use every row
                weights = sw
            keep = weights > 0
            member = xgb.XGBRegressor(
                objective=self.objective, **self._booster_kwargs(int(seed)), **extra
            )
            member.fit(X[keep], y[keep], sample_weight=weights[keep])
            self.members_.append(member)
        self._fit_calibration(X, y, counts > 0)
        return self

    def _fit_calibration(self, X: np.ndarray, y: np.ndarray, inbag: np.ndarray) -> None:
        """Fit the std map on the out-of-bag predictions (members predict only their OOB rows).

        Also keeps, per training row, the out-of-bag prediction (``oob_prediction_``; NaN
        without an out-of-bag member) and its std (``oob_std_``: the members' spread put on the
        scale of all members and mapped by the calibrator; NaN below two out-of-bag members),
        for models built on this one (:class:`~mi.models.TwoStageRegressor` calibrates its
        combined std with them).
        """
        self.calibrator_, self.oob_calibration_ = None, None
        members = np.full(inbag.shape, np.nan)
        for j, member in enumerate(self.members_):
            out = ~inbag[j]
            if out.any():
                members[j, out] = member.predict(X[out])
        if self.calibration != "none":
            self.calibrator_, self.oob_calibration_ = fit_oob_calibration(
                self.calibration, y, members, inbag, type(self).__name__
            )
        mean, spread, count = oob_summary(members, inbag)
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = spread * _c4(len(self.members_)) / _c4(np.maximum(count, 2))
        spread[count < 2] = np.nan
        if self.calibrator_ is not None:
            ok = np.isfinite(spread)
            spread[ok] = self.calibrator_.transform(spread[ok])
        self.oob_prediction_, self.oob_std_ = mean, spread

    def _draw_counts(self, n: int, rng: np.random.RandomState, seeds: np.ndarray) -> np.ndarray:
        """How often each row enters each member's training set, shape (n_members, n)."""
        m = len(seeds)
        if not self.bootstrap and self.max_samples is not None and m > 1 and n > 1:
            held = int(min(max(round((1.0 - self.max_samples) * m), 1), m - 1))
            folds = rng.permutation(n) % m
            counts = np.ones((m, n))
            for j in range(m):
                counts[j, np.isin(folds, [(j + t) % m for t in range(held)])] = 0.0
            return counts
        return np.vstack([self._draw_member(n, int(seed)) for seed in seeds])

    def _draw_member(self, n: int, seed: int) -> np.ndarray:
        size = n if self.max_samples is None else max(1, int(round(self.max_samples * n)))
        rs = np.random.RandomState(seed)
        if self.bootstrap and n > 1:
            return np.bincount(rs.randint(0, n, size=size), minlength=n).astype(np.float64)
        if size >= n:
            return np.ones(n)
        counts = np.zeros(n)
        counts[rs.choice(n, size=size, replace=False)] = 1.0
        return counts

    def _raw_members(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "members_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        return np.vstack([m.predict(X) for m in self.members_]).astype(np.float64)

    def _std(self, members: np.ndarray) -> np.ndarray:
        raw = members.std(axis=0, ddof=1) if members.shape[0] > 1 else np.zeros(members.shape[1])
        calibrator = getattr(self, "calibrator_", None)
        return raw if calibrator is None else calibrator.transform(raw)

    def predict_members(self, X: Any) -> np.ndarray:
        """Predictions of every member, shape (n_members, n).

        When the std is calibrated, the members are spread around their mean so that their
        standard deviation is the calibrated std (for Thompson sampling); points whose members
        agree exactly are unchanged.
        """
        members = self._raw_members(X)
        if getattr(self, "calibrator_", None) is None:
            return members
        return stretch_members(members, self._std(members))

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Mean of the members, and optionally the calibrated standard deviation.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Features.
        return_std : bool, default False
            Also return the standard deviation: the members' spread mapped by the out-of-bag
            calibrator (the raw spread with ``calibration="none"``; zeros for one member).

        Returns
        -------
        mean : ndarray of shape (n,)
        std : ndarray of shape (n,), only when ``return_std``
        """
        members = self._raw_members(X)
        mean = members.mean(axis=0)
        if not return_std:
            return mean
        return mean, self._std(members)


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
