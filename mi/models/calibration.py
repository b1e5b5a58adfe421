"""Uncertainty calibration: report and recalibration on out-of-fold predictions.

The report gives coverage of 68 % / 95 % intervals, miscalibration area, NLL and the Spearman
correlation of |error| and std; recalibration maps a regressor's std on out-of-fold
predictions.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm, spearmanr
from sklearn.isotonic import IsotonicRegression

from mi.exceptions import ModelError, RegistryKeyError

__all__ = [
    "CalibrationReport",
    "calibration_report",
    "StdCalibrator",
    "ScaleCalibrator",
    "LinearCalibrator",
    "IsotonicCalibrator",
    "get_calibrator",
    "list_calibrators",
    "cross_fit_calibration",
]

_TINY = 1e-12


@dataclass(frozen=True)
class CalibrationReport:
    """How well predicted standard deviations match the errors (Gaussian intervals).

    Attributes
    ----------
    n : int
        Number of points.
    coverage_68, coverage_95 : float
        Fraction of targets inside ``mean -/+ 1.0 std`` and ``mean -/+ 1.96 std``.
    miscalibration_area : float
        Mean absolute gap between expected and observed coverage of central intervals over
        levels 0.01 ... 0.99 (0 is perfect, 0.5 the worst; uncertainty-toolbox's definition).
    nll : float
        Mean Gaussian negative log-likelihood.
    spearman : float
        Spearman rank correlation between ``|error|`` and ``std`` (ranking quality).
    mean_std : float
        Mean predicted standard deviation (sharpness).
    rmse : float
        Root mean squared error of the mean.
    """

    n: int
    coverage_68: float
    coverage_95: float
    miscalibration_area: float
    nll: float
    spearman: float
    mean_std: float
    rmse: float

    def to_dict(self) -> dict[str, float]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def calibration_report(y_true: Any, mean: Any, std: Any) -> CalibrationReport:
    """Compute a :class:`CalibrationReport`.

    Parameters
    ----------
    y_true, mean, std : array-like of shape (n,)
        Targets, predictive means and standard deviations.

    Returns
    -------
    CalibrationReport

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=20000)
    >>> r = calibration_report(y, np.zeros_like(y), np.ones_like(y))
    >>> round(r.coverage_95, 2)
    0.95
    """
    y = np.asarray(y_true, dtype=np.float64).reshape(-1)
    mu = np.asarray(mean, dtype=np.float64).reshape(-1)
    s = np.asarray(std, dtype=np.float64).reshape(-1)
    if not (y.shape == mu.shape == s.shape):
        raise ModelError(
            f"y_true, mean and std must have the same length; got {y.size}, {mu.size}, {s.size}."
        )
    if y.size == 0:
        raise ModelError("calibration_report needs at least one point; got none.")
    err = y - mu
    s_safe = np.maximum(s, _TINY)
    z = np.abs(err) / s_safe
    levels = np.linspace(0.01, 0.99, 99)
    observed = np.array([(z <= norm.ppf(0.5 + p / 2)).mean() for p in levels])
    nll = float(np.mean(0.5 * np.log(2 * np.pi * s_safe**2) + 0.5 * (err / s_safe) ** 2))
    rho = spearmanr(np.abs(err), s).statistic if np.ptp(s) > 0 and np.ptp(err) > 0 else math.nan
    return CalibrationReport(
        n=int(y.size),
        coverage_68=float((z <= 1.0).mean()),
        coverage_95=float((z <= norm.ppf(0.975)).mean()),
        miscalibration_area=float(np.mean(np.abs(observed - levels))),
        nll=nll,
        spearman=float(rho),
        mean_std=float(s.mean()),
        rmse=float(np.sqrt(np.mean(err**2))),
    )


class StdCalibrator:
    """Base of the recalibration maps ``std -> std'`` fitted on out-of-fold predictions."""

    name: ClassVar[str] = ""

    def fit(self, y_true: Any, mean: Any, std: Any) -> StdCalibrator:
        """Fit the map on out-of-fold targets, means and standard deviations."""
        raise NotImplementedError

    def transform(self, std: Any) -> np.ndarray:
        """Recalibrated standard deviations."""
        raise NotImplementedError

    def rescale(self, factor: float) -> StdCalibrator:
        """Multiply every output std by ``factor`` (in place; returns self)."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (with the calibrator's ``name``)."""
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StdCalibrator:
        """Rebuild from :meth:`to_dict` output."""
        raise NotImplementedError

    @staticmethod
    def _arrays(y_true: Any, mean: Any, std: Any) -> tuple[np.ndarray, np.ndarray]:
        y = np.asarray(y_true, dtype=np.float64).reshape(-1)
        err = y - np.asarray(mean, dtype=np.float64).reshape(-1)
        s = np.asarray(std, dtype=np.float64).reshape(-1)
        if err.shape != s.shape or err.size == 0:
            raise ModelError("Calibration needs equally long, non-empty y_true, mean and std.")
        return err, s


class ScaleCalibrator(StdCalibrator):
    """``std' = factor * std`` with the maximum-likelihood factor ``sqrt(mean((err/std)^2))``.

    Examples
    --------
    >>> ScaleCalibrator().fit([0.0, 0.0], [2.0, -2.0], [1.0, 1.0]).factor_
    2.0
    """

    name = "scale"

    def fit(self, y_true: Any, mean: Any, std: Any) -> ScaleCalibrator:  # noqa: D102
        err, s = self._arrays(y_true, mean, std)
        ok = s > _TINY
        self.factor_ = float(np.sqrt(np.mean((err[ok] / s[ok]) ** 2))) if ok.any() else 1.0
        self.floor_ = float(np.sqrt(np.mean(err[~ok] ** 2))) if (~ok).any() else 0.0
        return self

    def transform(self, std: Any) -> np.ndarray:  # noqa: D102
        s = np.asarray(std, dtype=np.float64) * self.factor_
        return np.maximum(s, self.floor_) if self.floor_ > 0 else s

    def rescale(self, factor: float) -> ScaleCalibrator:  # noqa: D102
        self.factor_ *= factor
        self.floor_ *= factor
        return self

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        return {"name": self.name, "factor": self.factor_, "floor": self.floor_}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScaleCalibrator:  # noqa: D102
        obj = cls()
        obj.factor_, obj.floor_ = float(data["factor"]), float(data["floor"])
        return obj


class LinearCalibrator(StdCalibrator):
    """``std' = a * std + b`` (a, b >= 0) fitted by Gaussian NLL.

    As in Palmer et al., npj Comput. Mater. 8, 115 (2022), "calibration after bootstrap".
    """

    name = "linear"

    def fit(self, y_true: Any, mean: Any, std: Any) -> LinearCalibrator:  # noqa: D102
        err, s = self._arrays(y_true, mean, std)
        scale = float(np.sqrt(np.mean(err**2))) or 1.0

        def nll(params: np.ndarray) -> float:
            a, b = np.exp(params)
            sig = a * s + b * scale
            return float(np.mean(np.log(sig) + 0.5 * (err / sig) ** 2))

        ok = s > _TINY
        a0 = float(np.sqrt(np.mean((err[ok] / s[ok]) ** 2))) if ok.any() else 1.0
        res = minimize(nll, x0=np.log([max(a0, 1e-6), 1e-3]), method="Nelder-Mead")
        a, b = np.exp(res.x)
        self.a_, self.b_ = float(a), float(b * scale)
        return self

    def transform(self, std: Any) -> np.ndarray:  # noqa: D102
        return self.a_ * np.asarray(std, dtype=np.float64) + self.b_

    def rescale(self, factor: float) -> LinearCalibrator:  # noqa: D102
        self.a_ *= factor
        self.b_ *= factor
        return self

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        return {"name": self.name, "a": self.a_, "b": self.b_}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearCalibrator:  # noqa: D102
        obj = cls()
        obj.a_, obj.b_ = float(data["a"]), float(data["b"])
        return obj


class IsotonicCalibrator(StdCalibrator):
    """``std'^2 = iso(std)``: isotonic (non-decreasing) regression of squared errors on std.

    Any monotone miscalibration is corrected; the ranking of the points is kept. The result is
    floored at 1 % of the RMSE so no interval collapses to zero width.
    """

    name = "isotonic"

    def fit(self, y_true: Any, mean: Any, std: Any) -> IsotonicCalibrator:  # noqa: D102
        err, s = self._arrays(y_true, mean, std)
        iso = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(s, err**2)
        self.x_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
        self.y_ = np.asarray(iso.y_thresholds_, dtype=np.float64)
        self.floor_ = 0.01 * float(np.sqrt(np.mean(err**2)))
        return self

    def transform(self, std: Any) -> np.ndarray:  # noqa: D102
        var = np.interp(np.asarray(std, dtype=np.float64), self.x_, self.y_)
        return np.maximum(np.sqrt(np.maximum(var, 0.0)), self.floor_)

    def rescale(self, factor: float) -> IsotonicCalibrator:  # noqa: D102
        self.y_ = self.y_ * factor**2
        self.floor_ *= factor
        return self

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        return {
            "name": self.name,
            "x": self.x_.tolist(),
            "y": self.y_.tolist(),
            "floor": self.floor_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IsotonicCalibrator:  # noqa: D102
        obj = cls()
        obj.x_, obj.y_ = np.asarray(data["x"], float), np.asarray(data["y"], float)
        obj.floor_ = float(data["floor"])
        return obj


_CALIBRATORS: dict[str, type[StdCalibrator]] = {
    c.name: c for c in (ScaleCalibrator, LinearCalibrator, IsotonicCalibrator)
}


def list_calibrators() -> list[str]:
    """Names of the recalibration methods."""
    return sorted(_CALIBRATORS)


def get_calibrator(name: str) -> StdCalibrator:
    """Return a new, unfitted calibrator by name (``"scale"``, ``"linear"``, ``"isotonic"``).

    Raises
    ------
    RegistryKeyError
        For an unknown name (the message lists the names and the closest one).
    """
    try:
        return _CALIBRATORS[name]()
    except (KeyError, TypeError):
        raise RegistryKeyError("calibrator", str(name), list_calibrators()) from None


def calibrator_from_dict(data: dict[str, Any]) -> StdCalibrator:
    """Rebuild a fitted calibrator from its :meth:`StdCalibrator.to_dict` output."""
    name = data.get("name")
    if name not in _CALIBRATORS:
        raise RegistryKeyError("calibrator", str(name), list_calibrators())
    return _CALIBRATORS[name].from_dict(data)


def cross_fit_calibration(
    y_true: Any, mean: Any, std: Any, folds: Any, method: str = "linear"
) -> np.ndarray:
    """Recalibrated std for every point, each fold's map fitted on the other folds only.

    This gives an honest out-of-fold estimate of the calibrated coverage without nested model
    fitting: ``folds`` is the fold id of every out-of-fold prediction.

    Parameters
    ----------
    y_true, mean, std : array-like of shape (n,)
        Out-of-fold targets, means and raw standard deviations.
    folds : array-like of shape (n,)
        Fold id of each point.
    method : str, default "linear"
        Calibrator name.

    Returns
    -------
    ndarray of shape (n,)
        Recalibrated standard deviations.
    """
    y = np.asarray(y_true, dtype=np.float64)
    mu = np.asarray(mean, dtype=np.float64)
    s = np.asarray(std, dtype=np.float64)
    f = np.asarray(folds)
    out = np.empty_like(s)
    for fold in np.unique(f):
        test = f == fold
        if test.all():
            out[test] = get_calibrator(method).fit(y, mu, s).transform(s[test])
        else:
            cal = get_calibrator(method).fit(y[~test], mu[~test], s[~test])
            out[test] = cal.transform(s[test])
    return out
