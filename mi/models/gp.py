"""Gaussian-process regressor for small data sets (ARD Matern + white noise, scaled features)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from mi.exceptions import ModelError
from mi.models._oob import CALIBRATIONS, fit_calibrator
from mi.models._validation import check_choice, check_number

__all__ = ["GPRegressor"]


class GPRegressor(RegressorMixin, BaseEstimator):
    """Gaussian process with an ARD Matern kernel plus white noise, on standardised features.

    Kernel: ``C * Matern(length_scale=ones(n_features), nu) + White``; the target is normalised
    and the hyperparameters are fitted by maximum marginal likelihood (scikit-learn's
    :class:`~sklearn.gaussian_process.GaussianProcessRegressor`). The returned standard deviation
    includes the fitted noise level, so it describes new measurements, not just the mean.
    Cost grows as ``n**3``: for more than ``max_samples`` rows use :class:`XGBEnsembleRegressor`.

    **What the returned std means.** With ``calibration="linear"`` (default) the posterior std is
    mapped by ``std' = a * std + b`` fitted at ``fit`` on the exact leave-one-out predictions of
    the training rows (closed form for a GP: Rasmussen & Williams 2006, eq. 5.12), so
    ``mean -/+ 1.96 std'`` covers about 95 % of new points like the training rows and
    ``-/+ std'`` about 68 %. The hyperparameters are not refitted per left-out row, so the
    leave-one-out errors are slightly optimistic. ``calibration="none"``: the posterior std.

    Parameters
    ----------
    nu : {0.5, 1.5, 2.5}, default 2.5
        Matern smoothness.
    ard : bool, default True
        One length scale per feature (else one shared length scale).
    n_restarts_optimizer : int, default 2
        Extra random restarts of the hyperparameter search.
    max_samples : int, default 3000
        Refuse to fit on more rows than this (memory and time grow as n^2 and n^3).
    calibration : {"linear", "scale", "isotonic", "none"}, default "linear"
        Calibrator fitted on the leave-one-out predictions; ``"none"``: posterior std.
    random_state : int or None
        Seed of the optimizer restarts.

    Attributes
    ----------
    scaler_ : StandardScaler
        Feature scaling fitted in ``fit``.
    gp_ : GaussianProcessRegressor
        The fitted process.
    calibrator_ : StdCalibrator or None
        Map from the posterior std to the returned std.
    oob_calibration_ : CalibrationReport or None
        Calibration of the raw leave-one-out std on the training rows.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 30)[:, None]; y = np.sin(6 * X[:, 0])
    >>> mean, std = GPRegressor(random_state=0).fit(X, y).predict(X[:3], return_std=True)
    """

    def __init__(
        self,
        nu: float = 2.5,
        ard: bool = True,
        n_restarts_optimizer: int = 2,
        max_samples: int = 3000,
        calibration: str = "linear",
        random_state: int | None = None,
    ) -> None:
        self.nu = nu
        self.ard = ard
        self.n_restarts_optimizer = n_restarts_optimizer
        self.max_samples = max_samples
        self.calibration = calibration
        self.random_state = random_state

    def _kernel(self, n_features: int):
        length = np.ones(n_features) if self.ard else 1.0
        return ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
            length_scale=length, length_scale_bounds=(1e-2, 1e3), nu=self.nu
        ) + WhiteKernel(0.1, (1e-6, 1e1))

    def fit(self, X: Any, y: Any) -> GPRegressor:
        """Scale the features and fit the process.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Features.
        y : array-like of shape (n,)
            Target.

        Returns
        -------
        self
        """
        check_choice(self, "nu", self.nu, (0.5, 1.5, 2.5))
        check_number(
            self, "n_restarts_optimizer", self.n_restarts_optimizer, kind=numbers.Integral, low=0
        )
        check_number(self, "max_samples", self.max_samples, kind=numbers.Integral, low=2)
        check_choice(self, "calibration", self.calibration, CALIBRATIONS)
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        if X.shape[0] > self.max_samples:
            raise ModelError(
                f"GPRegressor refuses {X.shape[0]} rows (max_samples={self.max_samples}): a GP "
                "costs n^3. Use XGBEnsembleRegressor, or raise max_samples if you have the time."
            )
        self.scaler_ = StandardScaler().fit(X)
        self.gp_ = GaussianProcessRegressor(
            kernel=self._kernel(X.shape[1]),
            normalize_y=True,
            n_restarts_optimizer=self.n_restarts_optimizer,
            random_state=self.random_state,
        )
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp_.fit(self.scaler_.transform(X), y)
        self._fit_calibration(np.asarray(y, dtype=np.float64))
        return self

    def _fit_calibration(self, y: np.ndarray) -> None:
        """Fit the std map on the closed-form leave-one-out predictions."""
        self.calibrator_, self.oob_calibration_ = None, None
        if self.calibration == "none" or y.size < 3:
            return
        from scipy.linalg import cho_solve

        gp = self.gp_
        k_inv = cho_solve((gp.L_, True), np.eye(y.size))
        diag = np.maximum(np.diag(k_inv), 1e-300)
        y_std = float(np.atleast_1d(gp._y_train_std)[0])
        loo_mean = y - np.asarray(gp.alpha_).reshape(-1) / diag * y_std
        loo_std = np.sqrt(1.0 / diag) * y_std
        self.calibrator_, self.oob_calibration_ = fit_calibrator(
            self.calibration, y, loo_mean, loo_std
        )

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Posterior predictive mean (and standard deviation, noise included).

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
        check_is_fitted(self, "gp_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        Xs = self.scaler_.transform(X)
        if not return_std:
            return np.asarray(self.gp_.predict(Xs), dtype=np.float64).reshape(-1)
        mean, std = self.gp_.predict(Xs, return_std=True)
        std = np.asarray(std, dtype=np.float64).reshape(-1)
        calibrator = getattr(self, "calibrator_", None)
        if calibrator is not None:
            std = calibrator.transform(std)
        return np.asarray(mean, dtype=np.float64).reshape(-1), std
