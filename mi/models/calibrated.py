"""``CalibratedRegressor``: a regressor whose std is recalibrated on grouped out-of-fold folds.

A wrapper of its own (the calibrators it fits live in :mod:`mi.models.calibration`), so the
regressors that calibrate themselves at ``fit`` can use those calibrators without an import
cycle.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from mi.exceptions import ModelError
from mi.models._validation import check_number
from mi.models.calibration import (
    calibration_report,
    get_calibrator,
)
from mi.models.splits import GroupedKFold

__all__ = ["CalibratedRegressor"]

_TINY = 1e-12  # the floor of a std, as in mi.models.calibration


class CalibratedRegressor(RegressorMixin, BaseEstimator):
    """A regressor whose standard deviation is recalibrated on its own out-of-fold predictions.

    ``fit`` runs a ``cv``-fold (grouped) cross-validation of ``estimator``, fits the calibrator
    on the out-of-fold (target, mean, std) triples, then refits ``estimator`` on all rows. The
    ``mi`` regressors already calibrate their std at ``fit`` (out-of-bag); this wrapper sets
    their ``calibration="none"`` and calibrates the raw spread once, on grouped folds (costlier,
    but it respects ``groups``, e.g. chemical families). :meth:`from_out_of_fold` wraps the
    model as given: pass one fitted with ``calibration="none"``.

    Parameters
    ----------
    estimator : regressor, optional
        Needs ``predict(X, return_std=True)``; default :class:`XGBEnsembleRegressor` ().
    method : {"scale", "linear", "isotonic"}, default "linear"
        Calibrator (see :func:`list_calibrators`). ``"linear"`` (``a * std + b``) is the default:
        on our benchmarks the pure scale factor was pulled up by points whose ensemble members
        agree almost exactly (std near 0), giving too-wide intervals elsewhere.
    cv : int, default 5
        Folds of the internal cross-validation.
    random_state : int or None, default 0
        Seed of the fold shuffle.

    Attributes
    ----------
    estimator_ : regressor
        Fitted on all rows.
    calibrator_ : StdCalibrator
        Fitted map.
    calibration_before_ : CalibrationReport
        Out-of-fold report of the raw std.

    Examples
    --------
    >>> import numpy as np
    >>> from mi.models import XGBEnsembleRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = X[:, 0] + 0.3 * rng.normal(size=200)
    >>> base = XGBEnsembleRegressor(n_members=3, n_estimators=30, n_jobs=1, random_state=0)
    >>> model = CalibratedRegressor(base, cv=3).fit(X, y)
    >>> sorted(model.calibrator_.to_dict())
    ['a', 'b', 'name']
    """

    def __init__(
        self,
        estimator: Any = None,
        method: str = "linear",
        cv: int = 5,
        random_state: int | None = 0,
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.cv = cv
        self.random_state = random_state

    def _base(self) -> Any:
        if self.estimator is not None:
            return self.estimator
        from mi.models.xgb import XGBEnsembleRegressor

        return XGBEnsembleRegressor()

    def _raw_base(self) -> Any:
        """Unfitted copy of the estimator returning its raw std (no calibration of its own).

        The ``mi`` regressors calibrate their std at ``fit`` by default; here the wrapper's
        cross-validated map replaces it, so it is not applied twice.
        """
        base = clone(self._base())
        if "calibration" in base.get_params(deep=False):
            base.set_params(calibration="none")
        return base

    def __sklearn_tags__(self):  # noqa: D401
        """Tags: NaN allowed when the wrapped estimator allows it."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._base().__sklearn_tags__().input_tags.allow_nan
        return tags

    def _finite(self) -> bool | str:
        return "allow-nan" if self.__sklearn_tags__().input_tags.allow_nan else True

    def fit(self, X: Any, y: Any, groups: Any = None, **fit_params: Any) -> CalibratedRegressor:
        """Cross-validate, fit the calibrator, refit on all rows.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Features.
        y : array-like of shape (n,)
            Target.
        groups : array-like of shape (n,), optional
            Group labels kept inside one fold (e.g. composition keys).
        **fit_params
            Passed to the estimator's ``fit`` (row-aligned arrays are subset per fold).

        Returns
        -------
        self
        """
        get_calibrator(self.method)
        check_number(self, "cv", self.cv, kind=numbers.Integral, low=2)
        X, y = validate_data(
            self, X, y, dtype=np.float64, y_numeric=True, ensure_all_finite=self._finite()
        )
        n = X.shape[0]
        n_splits = min(self.cv, len(np.unique(groups)) if groups is not None else n)
        if n_splits < 2:
            raise ModelError(
                "CalibratedRegressor needs at least 2 rows (and 2 groups) for its internal "
                f"cross-validation; got n_samples={n}."
            )
        mean = np.empty(n)
        std = np.empty(n)
        base = self._raw_base()
        splitter = GroupedKFold(n_splits, random_state=self.random_state)
        for train, test in splitter.split(X, y, groups):
            params = {
                k: (v[train] if hasattr(v, "__len__") and len(v) == n else v)
                for k, v in fit_params.items()
            }
            model = clone(base).fit(X[train], y[train], **params)
            mean[test], std[test] = model.predict(X[test], return_std=True)
        self.calibration_before_ = calibration_report(y, mean, std)
        self.calibrator_ = get_calibrator(self.method).fit(y, mean, std)
        self.estimator_ = clone(base).fit(X, y, **fit_params)
        return self

    @classmethod
    def from_out_of_fold(
        cls,
        fitted: Any,
        y_true: Any,
        mean: Any,
        std: Any,
        method: str = "linear",
        cv: int = 5,
    ) -> CalibratedRegressor:
        """Wrap an already fitted regressor with a calibrator fitted on given out-of-fold data.

        For when the cross-validation already ran (e.g. :func:`~mi.models.evaluate` in a
        workflow): nothing is refitted, the calibrator is fitted on the pooled out-of-fold
        ``(y_true, mean, std)`` triples of that cross-validation.

        Parameters
        ----------
        fitted : regressor
            Fitted on all rows; ``predict(X, return_std=True)`` must work.
        y_true, mean, std : array-like of shape (n,)
            Out-of-fold targets, predicted means and raw standard deviations.
        method : {"scale", "linear", "isotonic"}, default "linear"
            Calibrator.
        cv : int, default 5
            Number of folds of that cross-validation (recorded as the ``cv`` parameter).

        Returns
        -------
        CalibratedRegressor
            Fitted: ``estimator_`` is ``fitted`` itself.

        Examples
        --------
        >>> import numpy as np
        >>> from mi.models import XGBEnsembleRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(100, 2)); y = X[:, 0]
        >>> fitted = XGBEnsembleRegressor(n_members=3, n_estimators=20, n_jobs=1).fit(X, y)
        >>> oof_mean, oof_std = y + 0.2, np.full(100, 0.1)
        >>> model = CalibratedRegressor.from_out_of_fold(fitted, y, oof_mean, oof_std)
        >>> model.estimator_ is fitted
        True
        """
        check_is_fitted(fitted)
        model = cls(estimator=clone(fitted), method=method, cv=cv)
        y_true, mean, std = (np.asarray(a, dtype=np.float64) for a in (y_true, mean, std))
        model.calibration_before_ = calibration_report(y_true, mean, std)
        model.calibrator_ = get_calibrator(method).fit(y_true, mean, std)
        model.estimator_ = fitted
        model.n_features_in_ = fitted.n_features_in_
        if hasattr(fitted, "feature_names_in_"):
            model.feature_names_in_ = fitted.feature_names_in_
        return model

    def _inner_input(self, X: Any) -> Any:
        """Validate ``X``; hand the wrapped model a table when it was fitted on one."""
        checked = validate_data(
            self, X, reset=False, dtype=np.float64, ensure_all_finite=self._finite()
        )
        if hasattr(self.estimator_, "feature_names_in_") and hasattr(X, "columns"):
            return X  # from_out_of_fold wrapped a model fitted on a DataFrame
        return checked

    def _has_members(self) -> bool:
        inner = getattr(self, "estimator_", None)
        return hasattr(self._base() if inner is None else inner, "predict_members")

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Mean of the refitted estimator and, optionally, the recalibrated std.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Features.
        return_std : bool, default False
            Also return the recalibrated standard deviation.

        Returns
        -------
        mean : ndarray of shape (n,)
        std : ndarray of shape (n,), only when ``return_std``
        """
        check_is_fitted(self, "estimator_")
        X = self._inner_input(X)
        if not return_std:
            return self.estimator_.predict(X)
        return self._mean_std(X)

    def _mean_std(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Mean and recalibrated std; a stated prior part of the std is left as it is.

        A model with ``predict_std_parts`` (:class:`mi.models.PhysicsResidualRegressor` with a
        ``baseline_std``) splits its std into a learned part, which the map rescales, and a
        stated physics prior, which it does not: ``sqrt((1 - f) * cal(learned)^2 + f * fixed^2)``.
        """
        parts = getattr(self.estimator_, "predict_std_parts", None)
        if parts is None:
            mean, std = self.estimator_.predict(X, return_std=True)
            return mean, self.calibrator_.transform(std)
        mean, learned, fixed_weight, fixed = parts(X)
        learned = np.asarray(self.calibrator_.transform(learned), dtype=np.float64)
        return mean, np.sqrt((1.0 - fixed_weight) * learned**2 + fixed_weight * fixed**2)

    @available_if(_has_members)
    def predict_members(self, X: Any) -> np.ndarray:
        """Return the members, spread around the mean so their std is recalibrated.

        Only present when the wrapped estimator has ``predict_members``; points whose members
        agree exactly keep them as they are.
        """
        check_is_fitted(self, "estimator_")
        X = self._inner_input(X)
        members = self.estimator_.predict_members(X)
        mean = members.mean(axis=0)
        raw = members.std(axis=0, ddof=1) if members.shape[0] > 1 else np.zeros_like(mean)
        if hasattr(self.estimator_, "predict_std_parts"):  # keep a stated prior as it is
            new = self._mean_std(X)[1]
        else:
            new = self.calibrator_.transform(raw)
        ratio = np.divide(new, raw, out=np.ones_like(raw), where=raw > _TINY)
        return mean + (members - mean) * ratio
