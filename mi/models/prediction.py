"""The :class:`Prediction` value type handed from surrogates to acquisition functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from mi.exceptions import ModelError

__all__ = ["Prediction", "predict_distribution"]


@dataclass(frozen=True)
class Prediction:
    """Predictive mean and standard deviation for ``n`` points (a Gaussian summary).

    Parameters
    ----------
    mean : ndarray of shape (n,)
        Predictive mean.
    std : ndarray of shape (n,)
        Predictive standard deviation (>= 0).
    members : ndarray of shape (n_members, n), optional
        Predictions of the ensemble members (for Thompson sampling), when the model has them.

    Examples
    --------
    >>> p = Prediction(mean=[1.0, 2.0], std=[0.1, 0.2])
    >>> p.interval(0.95)[0].round(3)
    array([0.804, 1.608])
    """

    mean: np.ndarray
    std: np.ndarray
    members: np.ndarray | None = None

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float64).reshape(-1)
        std = np.asarray(self.std, dtype=np.float64).reshape(-1)
        if mean.shape != std.shape:
            raise ModelError(
                f"Prediction mean and std must have the same length; got {mean.shape[0]} and "
                f"{std.shape[0]}."
            )
        if np.any(std < 0):
            raise ModelError(f"Prediction std must be >= 0; got min {np.nanmin(std)!r}.")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)
        if self.members is not None:
            members = np.asarray(self.members, dtype=np.float64)
            if members.ndim != 2 or members.shape[1] != mean.shape[0]:
                raise ModelError(
                    f"Prediction members must have shape (n_members, {mean.shape[0]}); got "
                    f"{members.shape}."
                )
            object.__setattr__(self, "members", members)

    def __len__(self) -> int:
        return int(self.mean.shape[0])

    def interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Central Gaussian interval ``mean -/+ z * std`` holding ``level`` of the mass.

        Parameters
        ----------
        level : float, default 0.95
            Probability mass inside the interval, in (0, 1).

        Returns
        -------
        (lower, upper) : tuple of ndarray
        """
        if not 0.0 < level < 1.0:
            raise ModelError(f"The 'level' of an interval must be in (0, 1). Got {level!r}.")
        z = float(norm.ppf(0.5 + level / 2.0))
        return self.mean - z * self.std, self.mean + z * self.std

    def take(self, index: Any) -> Prediction:
        """Subset of the points (any numpy index)."""
        members = None if self.members is None else self.members[:, index]
        return Prediction(self.mean[index], self.std[index], members)


def predict_distribution(model: Any, X: Any, members: bool = True) -> Prediction:
    """Ask a fitted regressor for a :class:`Prediction`.

    Uses ``model.predict(X, return_std=True)`` and, when the model has it and ``members`` is
    True, ``model.predict_members(X)``.

    Parameters
    ----------
    model : estimator
        Fitted regressor whose ``predict`` accepts ``return_std``.
    X : array-like of shape (n, n_features)
        Features.
    members : bool, default True
        Also ask for the members' predictions (Thompson sampling needs them; they cost about
        as much again as the mean and std).

    Returns
    -------
    Prediction

    Raises
    ------
    ModelError
        When the model cannot return a standard deviation.
    """
    try:
        mean, std = model.predict(X, return_std=True)
    except TypeError as exc:
        raise ModelError(
            f"{type(model).__name__}.predict does not accept return_std=True, so it gives no "
            "uncertainty. Use XGBEnsembleRegressor, RandomForestUncertaintyRegressor or "
            "GPRegressor from mi.models."
        ) from exc
    member_values = (
        model.predict_members(X) if members and hasattr(model, "predict_members") else None
    )
    return Prediction(mean, std, member_values)
