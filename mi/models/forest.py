"""Random forest (or extra-trees) regressor with uncertainty (tree spread or jackknife)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from mi.models._monotone import column_names, monotone_constraints
from mi.models._oob import CALIBRATIONS, fit_oob_calibration, stretch_members
from mi.models._threads import xgb_threads
from mi.models._validation import check_choice, check_number

__all__ = ["RandomForestUncertaintyRegressor"]


def _fit_tree(params: dict[str, Any], X: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int):
    return DecisionTreeRegressor(random_state=seed, **params).fit(X, y, sample_weight=w)


class RandomForestUncertaintyRegressor(RegressorMixin, BaseEstimator):
    """Bagged regression trees with a per-point uncertainty.

    ``uncertainty="trees"`` returns the standard deviation of the trees' predictions.
    ``uncertainty="jackknife"`` returns the bias-corrected infinitesimal-jackknife estimate of
    the variance of the forest's mean (Wager, Hastie & Efron, JMLR 15, 2014, eq. 7; the estimator
    Citrine's lolo uses), floored at the Monte-Carlo variance ``var(trees) / n_estimators``:

    ``V(x) = sum_i Cov_b(N_bi, t_b(x))^2 - n / B^2 * sum_b (t_b(x) - mean_b t_b(x))^2``

    with ``N_bi`` the number of times row ``i`` is in tree ``b``'s bootstrap sample.

    **What the returned std means.** With the default ``calibration="linear"`` the spread is
    mapped by ``std' = a * std + b``, fitted at ``fit`` on the out-of-bag predictions of the
    training rows (each row predicted by the trees whose bootstrap sample left it out), so
    ``mean -/+ 1.96 std'`` covers about 95 % of new points drawn like the training rows (a 68 %
    interval for ``-/+ std'``). The out-of-bag spread is the trees' spread for
    ``uncertainty="trees"``; for ``"jackknife"`` the map is fitted on the trees' spread scaled to
    the forest's mean jackknife-to-spread ratio. Without bootstrap (extra trees on all rows)
    there is no out-of-bag row and the std stays raw (a warning says so). ``calibration="none"``
    returns the raw spread.

    ``splitter="random", bootstrap=False`` gives extremely randomized trees (Geurts, Ernst &
    Wehenkel, Mach. Learn. 63, 2006): random split thresholds, every tree on all rows. On
    SuperCon Tc > 0 (magpie + element fractions, 5-fold grouped) ``benchmarks/accuracy.py``
    measured RMSE 7.22 K with them against 7.39 K for the depth-10 xgboost ensemble.

    Parameters
    ----------
    n_estimators : int, default 200
        Number of trees.
    max_features : float, int, "sqrt" or None, default 0.33
        Features considered per split (as in scikit-learn's trees).
    min_samples_leaf : int, default 1
        Minimum rows per leaf.
    max_depth : int or None, default None
        Maximum tree depth.
    splitter : {"best", "random"}, default "best"
        ``"random"``: one random threshold per candidate feature (extra trees).
    bootstrap : bool, default True
        Fit each tree on a bootstrap resample; ``False``: on all rows (needs
        ``uncertainty="trees"``).
    uncertainty : {"trees", "jackknife"}, default "trees"
        Which spread ``predict(..., return_std=True)`` returns.
    calibration : {"linear", "scale", "isotonic", "none"}, default "linear"
        Calibrator fitted on the out-of-bag predictions at ``fit``; ``"none"``: raw spread.
    point : {"mean", "median"}, default "mean"
        Point prediction from the trees: their mean (least squares), or their median, which
        aims at the absolute error on skewed or zero-inflated targets (e.g. SuperCon Tc with
        its many Tc = 0 rows); the std is calibrated around the chosen point.
    random_state : int or None
        Seed of the bootstrap draws and trees.
    n_jobs : int or None
        Threads for fitting and predicting (``None``: the CPU quota).
    monotone_increasing : str or None, default None
        Features every tree's prediction may only rise with (scikit-learn's ``monotonic_cst``),
        as the starts of column names separated by ``";"``; each must match exactly one column
        of the DataFrame given to ``fit``. The mean and the median of such trees keep the trend.
    offset : str or None, default None
        A feature column (the start of its name, matching exactly one column of the DataFrame
        given to ``fit``) holding a physics term in the target's unit: the trees learn
        ``y - offset`` and every prediction (and tree) adds it back, so a trend the term carries
        survives where the trees are flat (e.g. the Co-for-Fe increment of
        :class:`mi.features.substitution.CoShareSplit`).

    Attributes
    ----------
    estimators_ : list of DecisionTreeRegressor
        Fitted trees.
    inbag_ : ndarray of shape (n_estimators, n_samples)
        Bootstrap counts (needed by the jackknife; all ones when ``bootstrap=False``).
    calibrator_ : StdCalibrator or None
        Map from the raw spread to the returned std (None: raw).
    oob_calibration_ : CalibrationReport or None
        Calibration of the raw out-of-bag spread on the training rows.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3)); y = X[:, 0]
    >>> rf = RandomForestUncertaintyRegressor(n_estimators=20, random_state=0, n_jobs=1).fit(X, y)
    >>> mean, std = rf.predict(X[:3], return_std=True)
    """

    def __init__(
        self,
        n_estimators: int = 200,
        max_features: float | int | str | None = 0.33,
        min_samples_leaf: int = 1,
        max_depth: int | None = None,
        splitter: str = "best",
        bootstrap: bool = True,
        uncertainty: str = "trees",
        calibration: str = "linear",
        point: str = "mean",
        random_state: int | None = None,
        n_jobs: int | None = None,
        monotone_increasing: str | None = None,
        offset: str | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.splitter = splitter
        self.bootstrap = bootstrap
        self.uncertainty = uncertainty
        self.calibration = calibration
        self.point = point
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.monotone_increasing = monotone_increasing
        self.offset = offset

    def _tree_params(self) -> dict[str, Any]:
        return {
            "max_features": self.max_features,
            "min_samples_leaf": self.min_samples_leaf,
            "max_depth": self.max_depth,
            "splitter": self.splitter,
        }

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RandomForestUncertaintyRegressor:
        """Fit the trees (on bootstrap resamples unless ``bootstrap=False``).

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Features.
        y : array-like of shape (n,)
            Target.
        sample_weight : array-like of shape (n,), optional
            Row weights (multiplied with the bootstrap counts).

        Returns
        -------
        self
        """
        check_number(self, "n_estimators", self.n_estimators, kind=numbers.Integral, low=2)
        check_number(self, "min_samples_leaf", self.min_samples_leaf, kind=numbers.Integral, low=1)
        check_number(
            self, "max_depth", self.max_depth, kind=numbers.Integral, low=1, allow_none=True
        )
        check_choice(self, "uncertainty", self.uncertainty, ("trees", "jackknife"))
        check_choice(self, "splitter", self.splitter, ("best", "random"))
        check_choice(self, "bootstrap", self.bootstrap, (True, False))
        check_choice(self, "calibration", self.calibration, CALIBRATIONS)
        check_choice(self, "point", self.point, ("mean", "median"))
        if self.uncertainty == "jackknife" and not self.bootstrap:
            raise ValueError(
                "RandomForestUncertaintyRegressor: uncertainty='jackknife' needs bootstrap=True "
                "(the jackknife is built from the bootstrap counts); use uncertainty='trees'."
            )
        if not (
            self.max_features in (None, "sqrt", "log2")
            or (isinstance(self.max_features, numbers.Real) and self.max_features > 0)
        ):
            raise ValueError(
                "The 'max_features' parameter of RandomForestUncertaintyRegressor must be a "
                f"positive int or float, 'sqrt', 'log2' or None. Got {self.max_features!r} instead."
            )
        names = column_names(X)
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        if self.offset:
            y = y - self._offset(X, names)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        n = X.shape[0]
        rng = np.random.RandomState(self.random_state)
        seeds = rng.randint(0, 2**31 - 1, size=self.n_estimators)
        inbag = np.empty((self.n_estimators, n), dtype=np.uint16)
        for b, seed in enumerate(seeds):
            if self.bootstrap:
                draw = np.random.RandomState(seed).randint(0, n, size=n)
                inbag[b] = np.bincount(draw, minlength=n)
            else:
                inbag[b] = 1
        params = self._tree_params()
        if self.monotone_increasing:
            params["monotonic_cst"] = list(
                monotone_constraints(self.monotone_increasing, names, X.shape[1])
            )
        self.estimators_ = Parallel(n_jobs=xgb_threads(self.n_jobs), prefer="threads")(
            delayed(_fit_tree)(params, X, y, sw * inbag[b], int(seeds[b]))
            for b in range(self.n_estimators)
        )
        self.inbag_ = inbag
        self._fit_calibration(X, y)
        return self

    def _fit_calibration(self, X: np.ndarray, y: np.ndarray) -> None:
        """Fit the std map on the out-of-bag predictions of the training rows."""
        self.calibrator_, self.oob_calibration_ = None, None
        if self.calibration == "none":
            return
        trees = self._trees(X)
        scale = 1.0
        if self.uncertainty == "jackknife":  # put the tree spread on the jackknife's scale
            some = trees[:, np.random.RandomState(0).permutation(trees.shape[1])[:500]]
            spread = some.std(axis=0, ddof=1)
            jack = np.sqrt(self._jackknife_var(some))
            ok = spread > 0
            scale = float(np.median(jack[ok] / spread[ok])) if ok.any() else 1.0
        self.calibrator_, self.oob_calibration_ = fit_oob_calibration(
            self.calibration,
            y,
            trees,
            self.inbag_ > 0,
            type(self).__name__,
            spread_scale=scale,
            center=self.point,
        )

    def _offset(self, X: np.ndarray, names: list[str]) -> np.ndarray:
        """Return the ``offset`` column of ``X`` (float64)."""
        assert self.offset is not None
        if len(names) != X.shape[1]:
            raise ValueError("offset names a feature column: fit needs a DataFrame with names.")
        hits = [i for i, c in enumerate(names) if c.startswith(self.offset)]
        if len(hits) != 1:
            raise ValueError(
                f"offset: {self.offset!r} must match exactly one feature column by its start; "
                f"matched {len(hits)} of {X.shape[1]}."
            )
        return np.nan_to_num(np.asarray(X[:, hits[0]], dtype=np.float64))

    def _raw_members(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimators_")
        X = validate_data(self, X, reset=False, dtype=np.float32)
        trees = self._trees(X)
        if self.offset:
            names = [str(c) for c in getattr(self, "feature_names_in_", [])]
            trees = trees + self._offset(X, names)[None, :]
        return trees

    def _trees(self, X: np.ndarray) -> np.ndarray:
        preds = Parallel(n_jobs=xgb_threads(self.n_jobs), prefer="threads")(
            delayed(est.tree_.predict)(X) for est in self.estimators_
        )
        return np.vstack([np.asarray(p).reshape(X.shape[0], -1)[:, 0] for p in preds])

    def predict_members(self, X: Any) -> np.ndarray:
        """Predictions of every tree, shape (n_estimators, n).

        With a calibrated std (and ``uncertainty="trees"``) the trees are spread around their
        mean so that their standard deviation is the calibrated std.
        """
        trees = self._raw_members(X)
        if getattr(self, "calibrator_", None) is None or self.uncertainty != "trees":
            return trees
        return stretch_members(trees, self._std(trees))

    def _jackknife_var(self, trees: np.ndarray) -> np.ndarray:
        n_trees, n = self.inbag_.shape
        centered_n = self.inbag_.astype(np.float64)
        centered_n -= centered_n.mean(axis=0)
        centered_t = trees - trees.mean(axis=0)
        var = np.empty(trees.shape[1])
        step = max(1, int(2e7 // max(n, 1)))
        for start in range(0, trees.shape[1], step):
            block = centered_t[:, start : start + step]
            cov = centered_n.T @ block / n_trees
            var[start : start + step] = (cov**2).sum(axis=0)
        var -= n / n_trees**2 * (centered_t**2).sum(axis=0)
        floor = centered_t.var(axis=0) / n_trees
        return np.maximum(var, floor)

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Mean (or median) of the trees, and optionally the uncertainty (``uncertainty``).

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Features.
        return_std : bool, default False
            Also return the standard deviation.

        Returns
        -------
        mean : ndarray of shape (n,)
        std : ndarray of shape (n,), only when ``return_std``
        """
        trees = self._raw_members(X)
        mean = np.median(trees, axis=0) if self.point == "median" else trees.mean(axis=0)
        if not return_std:
            return mean
        return mean, self._std(trees)

    def _std(self, trees: np.ndarray) -> np.ndarray:
        if self.uncertainty == "jackknife":
            raw = np.sqrt(self._jackknife_var(trees))
        else:
            raw = trees.std(axis=0, ddof=1)
        calibrator = getattr(self, "calibrator_", None)
        return raw if calibrator is None else calibrator.transform(raw)
