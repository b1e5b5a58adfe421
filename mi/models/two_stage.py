"""Two-stage model: a classifier says "positive or not", a regressor predicts the positives."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from mi.models._validation import check_choice, check_number
from mi.models.xgb import XGBClassifierModel, XGBEnsembleRegressor

__all__ = ["TwoStageRegressor", "TwoStageGapRegressor"]

_COMBINES = ("expected", "hard", "median")
_STD_KINDS = ("moment", "interval")
_Z95 = float(norm.ppf(0.975))


def mixture_interval_std(
    mean: np.ndarray, p: np.ndarray, mu: np.ndarray, s: np.ndarray, y0: float
) -> np.ndarray:
    """Half-width / 1.96 of the narrowest interval around ``mean`` holding 95 % of the mixture.

    The mixture is ``y0`` with probability ``1 - p`` and ``Normal(mu, s)`` with probability
    ``p``; the half-width ``h`` solves ``(1 - p) [|y0 - mean| <= h] + p P(|Y - mean| <= h)
    = 0.95`` (bisection, 60 steps), so ``mean -/+ 1.96 std`` is the mixture's 95 % interval
    centred on the prediction. ``p``, ``mu``, ``s``, ``mean``: arrays of shape (n,).
    """
    s = np.maximum(s, 0.0)
    to_y0 = np.abs(y0 - mean)

    def mass(h: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            upper = np.where(s > 0, norm.cdf((mean + h - mu) / s), (mu <= mean + h) * 1.0)
            lower = np.where(s > 0, norm.cdf((mean - h - mu) / s), (mu < mean - h) * 1.0)
        return (1.0 - p) * (to_y0 <= h) + p * (upper - lower)

    lo = np.zeros_like(mean)
    hi = np.maximum(to_y0, np.abs(mu - mean) + 8.0 * s) * (1.0 + 1e-12) + 1e-12
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        enough = mass(mid) >= 0.95
        hi = np.where(enough, mid, hi)
        lo = np.where(enough, lo, mid)
    return hi / _Z95


class TwoStageRegressor(RegressorMixin, BaseEstimator):
    """Classifier for ``y > threshold``, then a regressor fitted on the positive rows only.

    As Stanev et al. (npj Comput. Mater. 4, 29, 2018) did for superconducting Tc: rows at or
    below ``threshold`` (e.g. Tc = 0, "no Tc reported") are modelled by the classifier alone.
    With ``combine="expected"`` the prediction is the mixture mean
    ``p * mu + (1 - p) * y0`` and the mixture standard deviation
    ``sqrt(p (s^2 + mu^2) + (1 - p) y0^2 - mean^2)``; with ``combine="hard"`` rows with
    ``p >= 0.5`` get the regressor's mean and the others ``y0``, and the std is the mixture's
    root-mean-square deviation from that mean,
    ``sqrt(p (s^2 + (mu - mean)^2) + (1 - p) (y0 - mean)^2)`` (so a doubtful classification
    widens the interval towards the other stage). Here ``p`` is the classifier's probability of
    a positive, ``mu, s`` the regressor's prediction (its std calibrated out-of-bag by default),
    ``y0`` the median of the non-positive training targets. Intervals ``mean -/+ 1.96 std`` are
    Gaussian summaries of a two-part distribution: for a confidently negative row most of the
    mass sits at ``y0`` itself, and the interval of this moment std then holds more than 95 %
    of the mixture (every row with ``y = y0`` and ``p < 0.79`` is inside it). With
    ``std_kind="interval"`` the std is instead the half-width of the narrowest interval around
    the prediction that holds 95 % of the mixture, divided by 1.96
    (:func:`mixture_interval_std`): ``mean -/+ 1.96 std`` is then the mixture's own 95 %
    interval, and ``mean -/+ std`` is narrower than a 68 % one for a near-certain ``y0``.

    ``combine="median"`` predicts the *median* of that mixture (what minimises the absolute
    error): ``y0`` where ``p < 0.5``, else the ``(p - 0.5) / p`` quantile of the regressor's
    distribution, taken as Gaussian with the regressor's prediction as centre and
    ``median_spread`` as standard deviation (in the transformed target's units), floored at
    ``threshold``. A doubtful non-metal is thus pulled towards the metals' value; the std is
    that of ``"hard"`` around this point.

    ``target_transform="log1p"`` fits the regressor on ``log(1 + y)`` of the positive rows and
    maps its prediction back with ``exp(m) - 1`` (a median in the original units for a
    symmetric error in log units); its std becomes ``(1 + mu) * s`` (first order).

    Parameters
    ----------
    classifier : classifier, optional
        Default :class:`XGBClassifierModel` ().
    regressor : regressor, optional
        Default :class:`XGBEnsembleRegressor` (); needs ``predict(X, return_std=True)`` for
        ``return_std``.
    threshold : float, default 0.0
        Rows with ``y > threshold`` are positive.
    combine : {"expected", "hard", "median"}, default "expected"
        How the two stages are combined.
    target_transform : {"none", "log1p"}, default "none"
        Transform of the positive targets the regressor is fitted on (``"log1p"`` needs
        ``threshold >= -1``).
    median_spread : float, default 0.3
        Standard deviation of the regressor's error (transformed units) used by
        ``combine="median"``.
    std_kind : {"moment", "interval"}, default "moment"
        The mixture's root-mean-square deviation from the prediction, or the 95 %-interval
        std described above.
    calibrate_cv : int or None, default None
        When given, the combined std is multiplied by ``std_scale_``, fitted at ``fit`` so that
        ``mean -/+ 1.96 std`` holds 95 % of the training rows' out-of-sample errors
        (split-conformal): probabilities from a ``calibrate_cv``-fold cross-fit of the
        classifier (``calibrate_cv`` extra classifier fits), the regressor's out-of-bag
        predictions for the positive rows (needs ``oob_prediction_`` / ``oob_std_``, as
        :class:`XGBEnsembleRegressor` keeps them). The mixture's std alone over-covers
        (0.98 of held-out SuperCon rows).

    Attributes
    ----------
    classifier_ : classifier or None
        Fitted classifier (``None`` when the training data held one kind of row only).
    regressor_ : regressor or None
        Fitted regressor (``None`` when there was no positive row).
    negative_value_ : float
        ``y0``, the value predicted for negatives.
    positive_fraction_ : float
        Fraction of positive training rows.
    std_scale_ : float
        Factor on the combined std (1 without ``calibrate_cv``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3)); y = np.where(X[:, 0] > 0, 10 + X[:, 1], 0.0)
    >>> small = dict(n_estimators=30, n_jobs=1, random_state=0)
    >>> model = TwoStageRegressor(XGBClassifierModel(**small),
    ...                           XGBEnsembleRegressor(n_members=3, **small)).fit(X, y)
    >>> model.predict_proba_positive(X[:2]).shape
    (2,)
    """

    def __init__(
        self,
        classifier: Any = None,
        regressor: Any = None,
        threshold: float = 0.0,
        combine: str = "expected",
        target_transform: str = "none",
        median_spread: float = 0.3,
        std_kind: str = "moment",
        calibrate_cv: int | None = None,
    ) -> None:
        self.classifier = classifier
        self.regressor = regressor
        self.threshold = threshold
        self.combine = combine
        self.target_transform = target_transform
        self.median_spread = median_spread
        self.std_kind = std_kind
        self.calibrate_cv = calibrate_cv

    def __sklearn_tags__(self):  # noqa: D401
        """Tags: NaN allowed when both stages allow it."""
        tags = super().__sklearn_tags__()
        clf = self.classifier if self.classifier is not None else self._default_classifier()
        reg = self.regressor if self.regressor is not None else self._default_regressor()
        tags.input_tags.allow_nan = (
            clf.__sklearn_tags__().input_tags.allow_nan
            and reg.__sklearn_tags__().input_tags.allow_nan
        )
        return tags

    def _default_classifier(self) -> Any:
        return XGBClassifierModel()

    def _default_regressor(self) -> Any:
        return XGBEnsembleRegressor()

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> TwoStageRegressor:
        """Fit the classifier on all rows and the regressor on the positive rows.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Features.
        y : array-like of shape (n,)
            Target.
        sample_weight : array-like of shape (n,), optional
            Row weights passed to both stages.

        Returns
        -------
        self
        """
        check_number(self, "threshold", self.threshold)
        check_choice(self, "combine", self.combine, _COMBINES)
        check_choice(self, "target_transform", self.target_transform, ("none", "log1p"))
        check_number(self, "median_spread", self.median_spread, low=0.0)
        check_choice(self, "std_kind", self.std_kind, _STD_KINDS)
        check_number(
            self, "calibrate_cv", self.calibrate_cv, kind=numbers.Integral, low=2, allow_none=True
        )
        if self.target_transform == "log1p" and self.threshold < -1.0:
            raise ValueError(
                f"{type(self).__name__}: target_transform='log1p' needs threshold >= -1, got "
                f"{self.threshold!r}."
            )
        allow_nan = self.__sklearn_tags__().input_tags.allow_nan
        X, y = validate_data(
            self,
            X,
            y,
            dtype=np.float64,
            y_numeric=True,
            ensure_all_finite="allow-nan" if allow_nan else True,
        )
        y = np.asarray(y, dtype=np.float64)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        positive = y > self.threshold
        self.positive_fraction_ = float(positive.mean())
        self.negative_value_ = float(np.median(y[~positive])) if (~positive).any() else 0.0
        self.classifier_ = None
        if positive.any() and (~positive).any():
            clf = self.classifier if self.classifier is not None else self._default_classifier()
            clf = clone(clf)
            self.classifier_ = clf.fit(X, positive.astype(np.int64), sample_weight=sw)
        self.regressor_ = None
        if positive.any():
            reg = self.regressor if self.regressor is not None else self._default_regressor()
            reg = clone(reg)
            target = y[positive]
            if self.target_transform == "log1p":
                target = np.log1p(target)
            self.regressor_ = reg.fit(X[positive], target, sample_weight=sw[positive])
        self.std_scale_ = 1.0
        if self.calibrate_cv is not None:
            self.std_scale_ = self._conformal_scale(X, y, positive)
        return self

    def _conformal_scale(self, X: np.ndarray, y: np.ndarray, positive: np.ndarray) -> float:
        """Factor on the combined std so that 95 % of out-of-sample training errors fit.

        Each training row gets an out-of-sample prediction: the classifier's probability from
        a ``calibrate_cv``-fold cross-fit (stratified, seed 0), and the regressor's
        out-of-bag prediction and std for the positive rows (``oob_prediction_``,
        ``oob_std_``) or its ordinary prediction for the others (which it never saw). The
        factor is the split-conformal 95 % quantile of ``|y - mean| / std`` over 1.96.
        """
        reg = self.regressor_
        oob_mean = getattr(reg, "oob_prediction_", None)
        oob_std = getattr(reg, "oob_std_", None)
        if self.classifier_ is None or reg is None or oob_mean is None or oob_std is None:
            warnings.warn(
                f"{type(self).__name__}: calibrate_cv needs both stages and a regressor with "
                "out-of-bag predictions (oob_prediction_, oob_std_); the std is not rescaled.",
                UserWarning,
                stacklevel=3,
            )
            return 1.0
        folds = int(self.calibrate_cv) if self.calibrate_cv is not None else 3
        if min(int(positive.sum()), int((~positive).sum())) < folds:
            warnings.warn(
                f"{type(self).__name__}: calibrate_cv={folds} needs at least {folds} positive and "
                f"{folds} negative training rows; the std is not rescaled.",
                UserWarning,
                stacklevel=3,
            )
            return 1.0
        splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
        labels = positive.astype(np.int64)
        proba = cross_val_predict(
            clone(self.classifier_), X, labels, cv=splitter, method="predict_proba"
        )
        p = np.asarray(proba[:, 1], dtype=np.float64)
        mu_t, s_t, raw = self._regress(X)
        raw = raw.copy()
        s_raw = s_t / (1.0 + mu_t) if self.target_transform == "log1p" else s_t.copy()
        raw[positive] = oob_mean
        s_raw[positive] = oob_std
        mu = self._back(raw)
        s = (1.0 + mu) * s_raw if self.target_transform == "log1p" else s_raw
        ok = np.isfinite(raw) & np.isfinite(s_raw)
        if ok[positive].mean() < 0.5:
            warnings.warn(
                f"{type(self).__name__}: calibrate_cv needs out-of-bag predictions with a std "
                "(two or more out-of-bag members) for most positive rows; the std is not "
                "rescaled.",
                UserWarning,
                stacklevel=3,
            )
            return 1.0
        mean, std = self._combine(p[ok], mu[ok], s[ok], raw[ok])
        err = np.abs(y[ok] - mean)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(err > 0, err / std, 0.0)
        n = ratio.size
        if n < 20:
            return 1.0
        level = min(1.0, np.ceil(0.95 * (n + 1)) / n)
        scale = float(np.quantile(ratio, level, method="higher")) / _Z95
        return scale if np.isfinite(scale) and scale > 0 else 1.0

    def _validate_predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "positive_fraction_")
        allow_nan = self.__sklearn_tags__().input_tags.allow_nan
        return validate_data(
            self,
            X,
            reset=False,
            dtype=np.float64,
            ensure_all_finite="allow-nan" if allow_nan else True,
        )

    def predict_proba_positive(self, X: Any) -> np.ndarray:
        """Probability that ``y > threshold``, shape (n,)."""
        X = self._validate_predict(X)
        return self._proba(X)

    def _proba(self, X: np.ndarray) -> np.ndarray:
        if self.classifier_ is None:
            return np.full(X.shape[0], 1.0 if self.positive_fraction_ > 0 else 0.0)
        proba = self.classifier_.predict_proba(X)
        classes = list(self.classifier_.classes_)
        return np.asarray(proba[:, classes.index(1)], dtype=np.float64)

    def _regress(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Regressor's (mean, std) in the target's units and its raw mean (transformed units)."""
        if self.regressor_ is None:
            flat = np.full(X.shape[0], self.negative_value_)
            return flat, np.zeros(X.shape[0]), flat
        try:
            mu, s = self.regressor_.predict(X, return_std=True)
        except TypeError:
            mu, s = self.regressor_.predict(X), np.zeros(X.shape[0])
        raw = np.asarray(mu, dtype=np.float64)
        mu, s = raw, np.asarray(s, dtype=np.float64)
        if self.target_transform == "log1p":
            mu = np.expm1(raw)
            s = (1.0 + mu) * s
        return mu, s, raw

    def _back(self, values: np.ndarray) -> np.ndarray:
        if self.target_transform == "log1p":
            return np.expm1(values)
        return values

    def _median_point(self, p: np.ndarray, raw: np.ndarray) -> np.ndarray:
        """Median of the mixture: ``y0`` below p = 0.5, else a lower quantile of the gap."""
        q = np.clip((p - 0.5) / np.maximum(p, 1e-12), 1e-9, 0.5)
        point = self._back(raw + self.median_spread * norm.ppf(q))
        return np.where(p >= 0.5, np.maximum(point, self.threshold), self.negative_value_)

    def _combine(
        self, p: np.ndarray, mu: np.ndarray, s: np.ndarray, raw: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        y0 = self.negative_value_
        if self.combine == "hard":
            mean = np.where(p >= 0.5, mu, y0)
        elif self.combine == "median":
            mean = self._median_point(p, raw)
        else:
            mean = p * mu + (1.0 - p) * y0
        if self.std_kind == "interval":
            return mean, mixture_interval_std(mean, p, mu, s, y0)
        second = p * (s**2 + (mu - mean) ** 2) + (1.0 - p) * (y0 - mean) ** 2
        return mean, np.sqrt(np.maximum(second, 0.0))

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Predict the combined mean (see the class docstring).

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
        X = self._validate_predict(X)
        mean, std = self._combine(self._proba(X), *self._regress(X))
        return (mean, std * getattr(self, "std_scale_", 1.0)) if return_std else mean

    def predict_members(self, X: Any) -> np.ndarray:
        """Members of the regressor combined with the classifier, shape (n_members, n).

        Raises
        ------
        AttributeError
            When the regressor has no ``predict_members``.
        """
        X = self._validate_predict(X)
        p = self._proba(X)
        if self.regressor_ is None:
            return np.full((1, X.shape[0]), self.negative_value_)
        members = self._back(self.regressor_.predict_members(X))
        y0 = self.negative_value_
        if self.combine in ("hard", "median"):
            return np.where(p >= 0.5, members, y0)
        return p * members + (1.0 - p) * y0


class TwoStageGapRegressor(TwoStageRegressor):
    """Band gap from composition: a metal classifier gating a gap regressor.

    :class:`TwoStageRegressor` with the defaults for band gaps (model name ``two_stage_gap``
    in workflows and campaigns): rows with ``Eg > 0`` are non-metals; the classifier
    (:class:`XGBClassifierModel`) says metal or not, the regressor
    (:class:`XGBEnsembleRegressor`, calibrated std) predicts the gap of the non-metals, and
    ``combine="median"`` predicts exactly 0 for a row classified as a metal and the median of
    the gap mixture otherwise (a doubtful non-metal's gap is pulled towards 0; this minimises
    the absolute error). The regressor is fitted on ``log(1 + Eg)``. The gated design is what
    leads Matbench's ``matbench_expt_gap``; ``benchmarks/accuracy.py`` scores it on the official
    folds (with the ``band_gap`` feature preset). Defaults (log target, median gate, spread
    0.3) were chosen by 3- and 5-fold cross-validation inside the training rows of the first
    official fold, never on a reported test fold.

    Parameters
    ----------
    classifier : classifier, optional
        Default :class:`XGBClassifierModel` (300 trees, lr 0.1, depth 6, column subsample 0.5).
    regressor : regressor, optional
        Default :class:`XGBEnsembleRegressor` ().
    threshold : float, default 0.0
        Gaps above this are non-metals.
    combine : {"median", "hard", "expected"}, default "median"
        ``"hard"``: the regressor's gap where ``p >= 0.5``; ``"expected"``: the
        probability-weighted mean (a soft gate).
    target_transform : {"log1p", "none"}, default "log1p"
        Target the regressor is fitted on.
    median_spread : float, default 0.3
        Error std of the regressor in log units, for ``combine="median"``.
    std_kind : {"moment", "interval"}, default "moment"
        See :class:`TwoStageRegressor`.
    calibrate_cv : int or None, default 3
        Folds of the classifier cross-fit that scales the combined std at ``fit`` (see
        :class:`TwoStageRegressor`); None: the mixture's std unscaled.
    calibration : {"linear", "scale", "isotonic", "none"}, default "linear"
        Out-of-bag std calibration of the default regressor (a given regressor keeps its own);
        ``"none"`` when the std is calibrated outside (e.g. on a workflow's cross-validation).
    random_state : int or None
        Seed of the default classifier and regressor (given ones keep their own).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3)); y = np.where(X[:, 0] > 0, 1.5 + X[:, 1] ** 2, 0.0)
    >>> small = dict(n_estimators=30, n_jobs=1, random_state=0)
    >>> model = TwoStageGapRegressor(XGBClassifierModel(**small),
    ...                              XGBEnsembleRegressor(**small)).fit(X, y)
    >>> float(model.predict(X[:1])[0]) >= 0.0
    True
    """

    def __init__(
        self,
        classifier: Any = None,
        regressor: Any = None,
        threshold: float = 0.0,
        combine: str = "median",
        target_transform: str = "log1p",
        median_spread: float = 0.3,
        std_kind: str = "moment",
        calibrate_cv: int | None = 3,
        calibration: str = "linear",
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            classifier=classifier,
            regressor=regressor,
            threshold=threshold,
            combine=combine,
            target_transform=target_transform,
            median_spread=median_spread,
            std_kind=std_kind,
            calibrate_cv=calibrate_cv,
        )
        self.calibration = calibration
        self.random_state = random_state

    def _default_classifier(self) -> XGBClassifierModel:
        return XGBClassifierModel(
            n_estimators=300,
            learning_rate=0.1,
            max_depth=6,
            colsample_bytree=0.5,
            random_state=self.random_state,
        )

    def _default_regressor(self) -> XGBEnsembleRegressor:
        return XGBEnsembleRegressor(calibration=self.calibration, random_state=self.random_state)
