"""Physics baseline plus a learned correction: a model that keeps a known trend where data is thin.

A tree ensemble trained on data without (say) Dy cannot know that Dy lowers the magnetisation:
it predicts a plateau. :class:`PhysicsResidualRegressor` takes the physics from one feature
column (a baseline computed from the composition, e.g. the moment-bookkeeping ``Js`` of
:mod:`mi.features.rare_earth`) and learns only the difference between the data and that
baseline. Where the training data says nothing, the correction is the ensemble's plateau and the
trend of the baseline survives; where it has data, the correction fixes the baseline's errors.

With ``shrink_outside=True`` the correction is also faded out for candidates far from every
training row (distance to the nearest training row in standardised features, compared with the
training rows' own nearest-neighbour distances): there the prediction falls back to the physics
and the std to the spread of the training corrections.
:meth:`PhysicsResidualRegressor.domain_weight` returns that weight (1 inside the data, 0 far
outside), usable as an applicability flag.

A correction without skill is worse than none: it adds noise to the physics and an std that
looks informed. ``correction=False`` drops it (predictions are the baseline, the std is the
prior: the spread of the training residuals), and ``min_skill`` states the rule a workflow
applies with its own cross-validation (:func:`mi.runner.magnets.gate_correction`): the
correction is dropped when its out-of-fold R^2 is at or below ``min_skill``.

Where the correction is faded out, the std falls back to a prior. By default that prior is the
spread of the training residuals (``prior_std_``): for training data that spans compounds unlike
the candidates it says little about how good the physics is *there*. ``baseline_std`` states the
physics' own error instead (e.g. the RMS error of a moment bookkeeping against measured values
of the family it is used on), optionally only inside ``baseline_scope`` (ranges of feature
columns that delimit where that error was measured). That part of the std is a stated prior,
not a model spread: :class:`mi.models.CalibratedRegressor` leaves it as it is and recalibrates
only the learned part (:meth:`PhysicsResidualRegressor.predict_std_parts`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from mi.models._validation import check_number
from mi.models.xgb import XGBEnsembleRegressor

__all__ = ["PhysicsResidualRegressor", "stated_prior_rows"]


class PhysicsResidualRegressor(RegressorMixin, BaseEstimator):
    """``y = scale * baseline + correction(X)``, the correction learned from the data.

    Parameters
    ----------
    baseline : str or int, default 0
        The feature holding the physics baseline: a column index, or the start of a column name
        (it must match exactly one column of the training frame; the match is resolved at fit
        and kept as ``baseline_index_``).
    estimator : regressor, optional
        Learns the correction; default :class:`XGBEnsembleRegressor` built from the keyword
        arguments below. Its ``predict(X, return_std=True)`` gives the std.
    scale : float, default 1.0
        Factor on the baseline (units conversion).
    lower : float or None, default None
        Predictions are clipped at this value (e.g. 0 for a magnetisation).
    labels_include_baseline : bool, default True
        Whether the training labels contain what the baseline describes. True: the correction
        learns ``y - scale * baseline``. False: the labels measure only the rest (e.g. DFT
        anisotropy constants computed with the 4f shell in the core, while the baseline is the
        4f single-ion part), so the correction learns ``y`` and the baseline is added on top.
    shrink_outside : bool, default True
        Fade the correction out far from the training data (see the module docstring).
    domain_quantile : float, default 0.95
        Quantile of the training rows' nearest-neighbour distances that counts as "inside";
        the weight falls linearly from 1 at that distance to 0 at twice it.
    n_members, n_estimators, max_depth, learning_rate, n_jobs, random_state
        Settings of the default :class:`XGBEnsembleRegressor`.
    calibration : str, default "linear"
        The default correction's own std calibration at ``fit`` (out-of-bag); ``"none"`` for
        the raw spread (a workflow sets it and calibrates once on its cross-validation).
    correction : bool, default True
        Use the learned correction. False: the physics baseline alone, with the prior std
        (the std of the training residuals) everywhere; the correction is still fitted (the
        model keeps one shape), and :meth:`domain_weight` is 0 everywhere.
    min_skill : float or None, default None
        Out-of-fold R^2 at or below which a cross-validating caller drops the correction
        (sets ``correction=False``); None: never. The model itself does not cross-validate.
    baseline_std : float or None, default None
        Stated standard deviation of the physics baseline (in the target's units), used instead
        of ``prior_std_`` where the correction is faded out (weight 0: the std is exactly
        ``baseline_std``; partly faded: ``sqrt(w sd^2 + (1 - w) baseline_std^2)``). Say in the
        workflow how it was measured. A calibrating wrapper does not rescale it. None: the
        spread of the training residuals (``prior_std_``), as without this parameter.
    baseline_scope : dict or None, default None
        Where ``baseline_std`` holds: ``{column: [low, high]}``, each column named like
        ``baseline`` (the start of exactly one feature name); a row is in scope when every named
        feature lies in its closed range. Rows out of scope keep ``prior_std_``. None: every
        row (only meaningful with ``baseline_std``).

    Attributes
    ----------
    baseline_index_ : int
        Column of the baseline.
    estimator_ : regressor
        The fitted correction.
    prior_std_ : float
        Std of the training residuals (the prior where the correction is faded out and no
        ``baseline_std`` applies).
    scope_index_ : list of int
        Columns of ``baseline_scope`` (empty without one).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(200, 3)); y = 2.0 * X[:, 0] + 0.1 * X[:, 1]
    >>> m = PhysicsResidualRegressor(baseline=0, scale=2.0, n_members=2, n_estimators=20,
    ...                              n_jobs=1, random_state=0).fit(X, y)
    >>> bool(m.predict([[5.0, 0.5, 0.5]])[0] > 9.0)  # far outside the data: the physics holds
    True
    """

    def __init__(
        self,
        baseline: str | int = 0,
        estimator: Any = None,
        scale: float = 1.0,
        lower: float | None = None,
        labels_include_baseline: bool = True,
        shrink_outside: bool = True,
        domain_quantile: float = 0.95,
        n_members: int = 6,
        n_estimators: int = 300,
        max_depth: int = 6,
        learning_rate: float = 0.05,
        n_jobs: int | None = None,
        random_state: int | None = 0,
        calibration: str = "linear",
        correction: bool = True,
        min_skill: float | None = None,
        baseline_std: float | None = None,
        baseline_scope: dict[str, list[float]] | None = None,
    ) -> None:
        self.baseline = baseline
        self.estimator = estimator
        self.scale = scale
        self.lower = lower
        self.labels_include_baseline = labels_include_baseline
        self.shrink_outside = shrink_outside
        self.domain_quantile = domain_quantile
        self.n_members = n_members
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.calibration = calibration
        self.correction = correction
        self.min_skill = min_skill
        self.baseline_std = baseline_std
        self.baseline_scope = baseline_scope

    def __sklearn_tags__(self):  # noqa: D401
        """Tags: NaN allowed (xgboost handles it)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _resolve(self, X: Any, name: Any = None, what: str = "baseline") -> int:
        name = self.baseline if name is None else name
        if isinstance(name, int | np.integer) and not isinstance(name, bool):
            return int(name)
        columns = [str(c) for c in getattr(X, "columns", [])]
        hits = [i for i, c in enumerate(columns) if c.startswith(str(name))]
        if len(hits) != 1:
            raise ValueError(
                f"PhysicsResidualRegressor: {what} {name!r} must match exactly one "
                f"feature column by its start; matched {len(hits)} of {len(columns)} "
                "(pass a DataFrame with the baseline feature, e.g. preset 'magnet_rare_earth')."
            )
        return hits[0]

    def _check_prior(self) -> list[tuple[float, float]]:
        """Check ``baseline_std`` / ``baseline_scope``; return the scope's ranges."""
        check_number(self, "baseline_std", self.baseline_std, low=0.0, allow_none=True)
        if self.baseline_std is not None and not math.isfinite(self.baseline_std):
            raise ValueError(
                "The 'baseline_std' parameter of PhysicsResidualRegressor must be finite. "
                f"Got {self.baseline_std!r} instead."
            )
        scope = self.baseline_scope
        if scope is None:
            return []
        shape = (
            "The 'baseline_scope' parameter of PhysicsResidualRegressor must be None or a "
            "non-empty mapping {feature column: [low, high]} with low <= high"
        )
        if not isinstance(scope, Mapping) or not scope or self.baseline_std is None:
            need = " (and needs baseline_std)" if isinstance(scope, Mapping) and scope else ""
            raise ValueError(f"{shape}{need}. Got {scope!r} instead.")
        ranges = []
        for column, bounds in scope.items():
            ok = isinstance(bounds, list | tuple) and len(bounds) == 2
            ok = ok and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
            if not ok or not float(bounds[0]) <= float(bounds[1]):
                raise ValueError(f"{shape}; {column!r}: {bounds!r}.")
            ranges.append((float(bounds[0]), float(bounds[1])))
        return ranges

    def _correction(self) -> Any:
        if self.estimator is not None:
            return clone(self.estimator)
        return XGBEnsembleRegressor(
            n_members=self.n_members,
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            calibration=self.calibration,
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PhysicsResidualRegressor:
        """Fit the correction on ``y - scale * baseline``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n, n_features)
        y : array-like of shape (n,)
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        self
        """
        check_number(self, "scale", self.scale)
        ranges = self._check_prior()
        index = self._resolve(X)
        scope = [self._resolve(X, c, "baseline_scope column") for c in self.baseline_scope or {}]
        X, y = validate_data(
            self, X, y, dtype=np.float64, y_numeric=True, ensure_all_finite="allow-nan"
        )
        if not 0 <= index < X.shape[1]:
            raise ValueError(
                f"PhysicsResidualRegressor: baseline column {index} outside the "
                f"{X.shape[1]} features."
            )
        bad = [i for i in scope if not 0 <= i < X.shape[1]]
        if bad:
            raise ValueError(
                f"PhysicsResidualRegressor: baseline_scope column {bad[0]} outside the "
                f"{X.shape[1]} features."
            )
        self.baseline_index_ = index
        self.scope_index_ = scope
        self.scope_ranges_ = ranges
        y = np.asarray(y, dtype=np.float64)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        residual = y - self._base(X) if self.labels_include_baseline else y
        self.estimator_ = self._correction().fit(X, residual, sample_weight=sw)
        self.prior_std_ = float(np.std(residual)) if len(residual) > 1 else 0.0
        if self.shrink_outside:
            self.scaler_mean_ = np.nan_to_num(np.nanmean(X, axis=0)) if len(X) else np.zeros(0)
            scale = np.nan_to_num(np.nanstd(X, axis=0))
            self.scaler_scale_ = np.where(scale > 0, scale, 1.0)
            self.train_ = self._scaled(X)
            nearest = self._nearest(self.train_, exclude_self=True)
            finite = nearest[np.isfinite(nearest)]
            radius = np.quantile(finite, self.domain_quantile) if finite.size else 0.0
            self.domain_radius_ = float(radius)
        return self

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        Z = (X - self.scaler_mean_) / self.scaler_scale_
        return np.nan_to_num(Z, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)

    def _nearest(self, Z: np.ndarray, exclude_self: bool = False, block: int = 4096) -> np.ndarray:
        """Euclidean distance of each row of ``Z`` to its nearest training row."""
        T = np.asarray(self.train_, dtype=np.float64)
        t2 = (T**2).sum(axis=1)
        out = np.full(len(Z), np.inf)
        for a in range(0, len(Z), block):
            z = np.asarray(Z[a : a + block], dtype=np.float64)
            d2 = (z**2).sum(axis=1)[:, None] + t2[None, :] - 2.0 * (z @ T.T)
            if exclude_self:
                rows = np.arange(a, a + len(z))
                d2[np.arange(len(z)), rows] = np.inf
            out[a : a + block] = np.sqrt(np.maximum(d2.min(axis=1), 0.0)) if T.shape[0] else np.inf
        return out

    def domain_weight(self, X: Any) -> np.ndarray:
        """How much the learned correction is trusted per row: 1 inside the data, 0 far out.

        Parameters
        ----------
        X : array-like of shape (n, n_features)

        Returns
        -------
        ndarray of shape (n,)
        """
        X = self._validate_predict(X)
        return self._weight(X)

    def _weight(self, X: np.ndarray) -> np.ndarray:
        if not self.correction:
            return np.zeros(X.shape[0])
        if not self.shrink_outside:
            return np.ones(X.shape[0])
        d = self._nearest(self._scaled(X))
        r = max(self.domain_radius_, 1e-6)
        return np.clip(2.0 - d / r, 0.0, 1.0)

    def _base(self, X: np.ndarray) -> np.ndarray:
        base = np.asarray(X[:, self.baseline_index_], dtype=np.float64) * float(self.scale)
        return np.nan_to_num(base, nan=0.0)

    def _validate_predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan")

    def _clip(self, values: np.ndarray) -> np.ndarray:
        return values if self.lower is None else np.maximum(values, float(self.lower))

    def predict_baseline(self, X: Any) -> np.ndarray:
        """Return the physics baseline alone, shape (n,)."""
        return self._base(self._validate_predict(X))

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Baseline plus the learned correction.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
        return_std : bool, default False
            Also return the correction's standard deviation.

        Returns
        -------
        mean : ndarray of shape (n,)
        std : ndarray of shape (n,), only when ``return_std``
        """
        mean, learned, fixed_weight, fixed = self.predict_std_parts(X)
        if not return_std:
            return mean
        return mean, np.sqrt((1.0 - fixed_weight) * learned**2 + fixed_weight * fixed**2)

    def predict_std_parts(self, X: Any) -> tuple[np.ndarray, ...]:
        """Return the mean and the std split into a learned part and a stated-prior part.

        ``std = sqrt((1 - fixed_weight) * learned^2 + fixed_weight * fixed^2)``. ``fixed`` is
        ``baseline_std`` on the rows it applies to (in ``baseline_scope``), weighted by how far
        the correction is faded out there (``1 - w``); everything else (the correction's std,
        and ``prior_std_`` on rows without a stated prior) is ``learned``. A calibrating wrapper
        rescales ``learned`` only (:class:`mi.models.CalibratedRegressor`).

        Parameters
        ----------
        X : array-like of shape (n, n_features)

        Returns
        -------
        mean, learned, fixed_weight, fixed : ndarray of shape (n,) each
        """
        X = self._validate_predict(X)
        base = self._base(X)
        w = self._weight(X)
        mu, sd = self.estimator_.predict(X, return_std=True)
        mean = self._clip(base + w * np.asarray(mu, dtype=np.float64))
        sd = np.asarray(sd, dtype=np.float64)
        stated = self._stated(X)
        fixed_weight = np.where(stated, 1.0 - w, 0.0)
        fixed = np.where(stated, float(self.baseline_std or 0.0), 0.0)
        generic = np.sqrt(w * sd**2 + (1.0 - w) * self.prior_std_**2)
        learned = np.where(stated, sd, generic)
        return mean, learned, fixed_weight, fixed

    def _stated(self, X: np.ndarray) -> np.ndarray:
        """Rows whose faded-out part takes ``baseline_std`` (in ``baseline_scope``)."""
        if self.baseline_std is None:
            return np.zeros(X.shape[0], dtype=bool)
        inside = np.ones(X.shape[0], dtype=bool)
        for col, (low, high) in zip(
            getattr(self, "scope_index_", []), getattr(self, "scope_ranges_", []), strict=True
        ):
            values = X[:, col]
            inside &= (values >= low) & (values <= high)  # NaN: out of scope
        return inside

    def stated_prior(self, X: Any) -> np.ndarray:
        """Rows where the prediction is the physics alone with the stated ``baseline_std``.

        True where the correction is fully faded out (weight 0, or ``correction=False``) and
        ``baseline_std`` applies (in ``baseline_scope``): the std there is ``baseline_std``.

        Parameters
        ----------
        X : array-like of shape (n, n_features)

        Returns
        -------
        ndarray of bool, shape (n,)
        """
        X = self._validate_predict(X)
        return self._stated(X) & (self._weight(X) <= 0.0)

    def predict_members(self, X: Any) -> np.ndarray:
        """Baseline plus each member's (faded) correction, shape (n_members, n).

        Where the correction is faded out (weight 0, or ``correction=False``) the members
        spread around the baseline with the prior std (``baseline_std`` where it applies, else
        ``prior_std_``; fixed normal quantiles, the same for every row: a systematic error of
        the physics), so that sampling them agrees with :meth:`predict`'s std.
        """
        X = self._validate_predict(X)
        w = self._weight(X)
        members = self.estimator_.predict_members(X)
        row_prior = np.where(self._stated(X), float(self.baseline_std or 0.0), self.prior_std_)
        prior = row_prior[None, :] * _unit_quantiles(members.shape[0])[:, None]
        faded = w[None, :] * members + (1.0 - w[None, :]) * prior
        return self._clip(self._base(X)[None, :] + faded)


def _unit_quantiles(n: int) -> np.ndarray:
    """``n`` normal quantiles at (i + 0.5) / n scaled to mean 0 and std 1 (zeros for n < 2)."""
    from scipy.stats import norm

    if n < 2:
        return np.zeros(n)
    z = norm.ppf((np.arange(n) + 0.5) / n)
    return (z - z.mean()) / z.std()


def stated_prior_rows(model: Any, X: Any) -> np.ndarray | None:
    """Rows a (possibly wrapped) physics model predicts by its physics with a stated prior std.

    Unwraps calibrating wrappers (``estimator_``) down to a :class:`PhysicsResidualRegressor`
    and returns its :meth:`~PhysicsResidualRegressor.stated_prior`; None for any other model,
    or one without ``baseline_std``.

    Parameters
    ----------
    model : estimator
        Fitted model.
    X : array-like of shape (n, n_features)

    Returns
    -------
    ndarray of bool or None
    """
    inner = model
    for _ in range(4):
        if isinstance(inner, PhysicsResidualRegressor):
            break
        inner = getattr(inner, "estimator_", None)
    if not isinstance(inner, PhysicsResidualRegressor) or inner.baseline_std is None:
        return None
    return inner.stated_prior(X)
