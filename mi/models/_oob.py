"""Out-of-bag calibration of an ensemble's spread, learned at ``fit`` (shared by the ensembles).

An ensemble whose members each leave some training rows out can predict every such row with
the members that never saw it. Those out-of-bag (OOB) predictions behave like predictions for
new points: their error against the target and their spread across the OOB members give the
pairs a :class:`~mi.models.calibration.StdCalibrator` is fitted on. The fitted map is then applied
to the spread of *all* members at prediction time.

The OOB mean of ``m`` members varies more than the mean of all ``M`` members (by
``var_member * (1/m - 1/M)``, estimated from the OOB spread and removed from the squared errors
before fitting); the spread of a few OOB members is a noisy estimate of the spread of all
members (and smaller on average: the ``c4`` bias of a sample std, corrected), which the
``a * std + b`` map absorbs in its offset ``b``. Finally the map is scaled so
the 95 % interval holds on the OOB rows (split-conformal quantile, see :func:`fit_calibrator`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.special import gammaln

from mi.models.calibration import (
    CalibrationReport,
    StdCalibrator,
    calibration_report,
    get_calibrator,
)

__all__ = [
    "CALIBRATIONS",
    "MIN_OOB_ROWS",
    "fit_calibrator",
    "fit_oob_calibration",
    "stretch_members",
]

#: Values of the ``calibration`` parameter of the self-calibrating regressors.
CALIBRATIONS = ("linear", "scale", "isotonic", "none")

#: Fewest rows with at least two out-of-bag members needed to fit a calibration map.
MIN_OOB_ROWS = 10

_TINY = 1e-12
_Z95 = 1.959963984540054


def oob_summary(
    members: np.ndarray, inbag: np.ndarray, center: str = "mean"
) -> tuple[np.ndarray, ...]:
    """Mean, spread (ddof=1) and count of the out-of-bag members of every row.

    Parameters
    ----------
    members : ndarray of shape (n_members, n)
        Every member's prediction for every training row.
    inbag : ndarray of bool, shape (n_members, n)
        True where the member was fitted on the row.
    center : {"mean", "median"}, default "mean"
        How the out-of-bag members are combined into the prediction.

    Returns
    -------
    mean, std, count : ndarray of shape (n,)
        NaN mean/std where a row has fewer than 1/2 out-of-bag members.
    """
    out = ~inbag
    count = out.sum(axis=0)
    masked = np.where(out, members, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmedian(masked, axis=0) if center == "median" else np.nanmean(masked, axis=0)
        std = np.nanstd(masked, axis=0, ddof=1)
    std[count < 2] = np.nan
    return mean, std, count


def fit_oob_calibration(
    method: str,
    y: np.ndarray,
    members: np.ndarray,
    inbag: np.ndarray,
    owner: str,
    spread_scale: float = 1.0,
    center: str = "mean",
) -> tuple[StdCalibrator | None, CalibrationReport | None]:
    """Fit a std calibrator on the out-of-bag predictions of the training rows.

    Parameters
    ----------
    method : {"linear", "scale", "isotonic", "none"}
        Calibrator name; ``"none"`` fits nothing.
    y : ndarray of shape (n,)
        Training targets.
    members : ndarray of shape (n_members, n)
        Member predictions for the training rows.
    inbag : ndarray of bool, shape (n_members, n)
        Which member saw which row.
    owner : str
        Estimator name for the warning.
    spread_scale : float, default 1.0
        Factor on the out-of-bag spread (to put it on the scale of the std being mapped).
    center : {"mean", "median"}, default "mean"
        The model's point prediction from its members.

    Returns
    -------
    calibrator : StdCalibrator or None
        ``None`` for ``"none"`` or when fewer than :data:`MIN_OOB_ROWS` rows have two or more
        out-of-bag members (a ``UserWarning`` says so; the raw spread is then returned).
    report : CalibrationReport or None
        Calibration of the raw out-of-bag spread (before the map).
    """
    if method == "none":
        return None, None
    mean, std, count = oob_summary(members, inbag, center)
    ok = (count >= 2) & np.isfinite(mean) & np.isfinite(std)
    if ok.sum() < MIN_OOB_ROWS:
        warnings.warn(
            f"{owner}: only {int(ok.sum())} training rows have two or more out-of-bag members "
            f"(need {MIN_OOB_ROWS}), so the std is the raw member spread, not calibrated. Use "
            "more members, or leave more rows out of each (max_samples / bootstrap).",
            UserWarning,
            stacklevel=3,
        )
        return None, None
    n_members = members.shape[0]
    # the mean of m out-of-bag members varies more than the mean of all M members
    extra_var = std[ok] ** 2 * (1.0 / count[ok] - 1.0 / n_members)
    # the sample std of m values is smaller on average than that of M values (c4 bias):
    # put the out-of-bag spread on the scale of the spread of all members
    spread = std[ok] * _c4(n_members) / _c4(count[ok])
    return fit_calibrator(method, y[ok], mean[ok], spread * spread_scale, extra_var)


def _c4(n: Any) -> Any:
    """Mean of the sample std (ddof=1) of ``n`` Gaussian values, in units of sigma."""
    n = np.asarray(n, dtype=np.float64)
    return np.sqrt(2.0 / (n - 1.0)) * np.exp(gammaln(n / 2.0) - gammaln((n - 1.0) / 2.0))


def fit_calibrator(
    method: str,
    y: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    extra_var: np.ndarray | None = None,
) -> tuple[StdCalibrator, CalibrationReport]:
    """Fit a std map on held-out predictions, then set its 95 % interval by conformal quantile.

    The map (e.g. ``a * std + b``) is fitted by Gaussian likelihood; then all its outputs are
    scaled by one factor so that ``|error| <= 1.96 std'`` holds for the finite-sample
    conformal share (``ceil(0.95 (n + 1)) / n``) of the held-out rows. Errors of real data are
    heavier-tailed than a Gaussian, so a likelihood fit alone makes the 95 % interval too wide
    (and the 68 % one too); after the scaling the 95 % interval is right on the held-out rows
    and the 68 % one may still cover more than 68 %.

    Parameters
    ----------
    method : str
        Calibrator name.
    y, mean, std : ndarray of shape (n,)
        Held-out targets, predictions and raw standard deviations.
    extra_var : ndarray of shape (n,), optional
        Variance the held-out predictions have in excess of the final model's (removed from
        the squared errors before fitting).

    Returns
    -------
    calibrator : StdCalibrator
    report : CalibrationReport
        Calibration of the raw ``std`` on these rows (before the map).
    """
    report = calibration_report(y, mean, std)
    resid = y - mean
    if extra_var is not None:
        resid = np.sign(resid) * np.sqrt(np.maximum(resid**2 - extra_var, 0.0))
    calibrator = get_calibrator(method).fit(mean + resid, mean, std)
    z = np.abs(resid) / np.maximum(calibrator.transform(std), _TINY)
    level = min(1.0, np.ceil(0.95 * (z.size + 1)) / z.size)
    factor = float(np.quantile(z, level, method="higher")) / _Z95
    if np.isfinite(factor) and factor > 0:
        calibrator.rescale(factor)
    return calibrator, report


def stretch_members(members: np.ndarray, new_std: np.ndarray) -> np.ndarray:
    """Spread members around their mean so their std (ddof=1) becomes ``new_std``.

    Points whose members agree exactly are returned unchanged.
    """
    mean = members.mean(axis=0)
    raw = members.std(axis=0, ddof=1) if members.shape[0] > 1 else np.zeros_like(mean)
    ratio = np.divide(new_std, raw, out=np.ones_like(raw), where=raw > _TINY)
    return mean + (members - mean) * ratio
