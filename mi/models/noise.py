"""Label noise measured from the data itself: the error floor under any model.

If the same quantity was measured twice, ``y_a = t + e_a`` and ``y_b = t + e_b`` with the errors
independent, identically distributed and of mean zero, then for the per-label error ``e``

- ``E[(y_a - y_b)^2] = 2 Var(e)``, so the RMSE of a perfect model against such labels is
  ``rmse_pair / sqrt(2)``;
- ``E|e| >= E|y_a - y_b| / 2`` (triangle inequality), with ``/ sqrt(2)`` for Gaussian errors and
  ``/ 2`` when a few large mistakes dominate; so the MAE of a perfect model is at least
  ``mae_pair / 2``.

:func:`replicate_noise` takes pairs from independent repeats of the same item (e.g. values of
one compound mined from different papers). :func:`near_duplicate_noise` takes pairs of rows whose
features almost coincide (e.g. compositions within 0.5 % in atomic fractions); part of their
difference can be real, so it is an upper estimate of the noise.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from mi.exceptions import ModelError

__all__ = ["NoiseEstimate", "replicate_noise", "near_duplicate_noise"]


@dataclass(frozen=True)
class NoiseEstimate:
    """Disagreement between labels that should be equal, and what it implies per label.

    Attributes
    ----------
    method : str
        ``"replicates"`` or ``"near-duplicates"``, with the settings.
    n_groups : int
        Items with at least two labels (replicates) or pairs of near-duplicate rows.
    n_pairs : int
        Label pairs compared.
    mae_pair, rmse_pair : float
        Mean absolute and root-mean-square difference between the two labels of a pair. Each
        item counts once (its pairs are averaged first), so much-studied items do not dominate.
    label_rmse : float
        ``rmse_pair / sqrt(2)``: the RMSE of a perfect model against one such label.
    label_mae_low, label_mae_gaussian : float
        ``mae_pair / 2`` (a lower bound of the MAE of a perfect model) and ``mae_pair /
        sqrt(2)`` (its value for Gaussian errors).
    """

    method: str
    n_groups: int
    n_pairs: int
    mae_pair: float
    rmse_pair: float
    label_rmse: float
    label_mae_low: float
    label_mae_gaussian: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON)."""
        return asdict(self)


def _estimate(method: str, group_abs: list[float], group_sq: list[float], n_pairs: int):
    if not group_abs:
        raise ModelError(f"{method}: no pair of labels to compare (every item has one label).")
    mae_pair = float(np.mean(group_abs))
    rmse_pair = float(math.sqrt(np.mean(group_sq)))
    return NoiseEstimate(
        method=method,
        n_groups=len(group_abs),
        n_pairs=n_pairs,
        mae_pair=mae_pair,
        rmse_pair=rmse_pair,
        label_rmse=rmse_pair / math.sqrt(2.0),
        label_mae_low=mae_pair / 2.0,
        label_mae_gaussian=mae_pair / math.sqrt(2.0),
    )


def replicate_noise(
    y: Sequence[float] | np.ndarray,
    groups: Sequence[Any] | np.ndarray,
    sources: Sequence[Any] | np.ndarray | None = None,
) -> NoiseEstimate:
    """Noise from repeated labels of the same item.

    Parameters
    ----------
    y : array-like of shape (n,)
        Labels (NaN rows are ignored).
    groups : array-like of shape (n,)
        Item of each label (e.g. a canonical composition key).
    sources : array-like of shape (n,), optional
        Origin of each label (e.g. a paper's DOI). Labels of one item from one source are first
        reduced to their median, so only independent sources are compared.

    Returns
    -------
    NoiseEstimate

    Raises
    ------
    ModelError
        Lengths differ, or no item has two labels (two sources).

    Examples
    --------
    >>> est = replicate_noise([1.0, 3.0, 10.0, 10.0, 5.0], ["a", "a", "b", "b", "c"])
    >>> est.n_groups, est.mae_pair, est.label_rmse
    (2, 1.0, 1.0)
    """
    labels = np.asarray(y, dtype=np.float64)
    if len(groups) != labels.size:
        raise ModelError(f"groups has {len(groups)} entries for {labels.size} labels.")
    frame = pd.DataFrame({"y": labels, "group": list(groups)})
    if sources is not None:
        if len(sources) != labels.size:
            raise ModelError(f"sources has {len(sources)} entries for {labels.size} labels.")
        frame["source"] = list(sources)
    frame = frame.dropna(subset=["y"])
    if sources is not None:
        frame = frame.groupby(["group", "source"], sort=False)["y"].median().reset_index()
    group_abs: list[float] = []
    group_sq: list[float] = []
    n_pairs = 0
    for _, values in frame.groupby("group", sort=False)["y"]:
        v = values.to_numpy()
        if v.size < 2:
            continue
        i, j = np.triu_indices(v.size, k=1)
        d = v[i] - v[j]
        group_abs.append(float(np.mean(np.abs(d))))
        group_sq.append(float(np.mean(d * d)))
        n_pairs += d.size
    method = "replicates" + (" (one median per source)" if sources is not None else "")
    return _estimate(method, group_abs, group_sq, n_pairs)


def near_duplicate_noise(
    X: Any, y: Sequence[float] | np.ndarray, max_distance: float, metric: str = "manhattan"
) -> NoiseEstimate:
    """Noise from pairs of rows whose features (almost) coincide.

    Each row is paired with its nearest other row; pairs closer than ``max_distance`` are kept,
    each pair once. Genuine differences between the near-duplicates count as noise here, so the
    result is an upper estimate of the label noise at that feature resolution.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Features, e.g. atomic fractions (then L1 distance 0.01 is a 0.5 % composition change).
    y : array-like of shape (n,)
        Labels.
    max_distance : float
        Largest distance at which two rows count as near-duplicates (> 0).
    metric : str, default "manhattan"
        Any metric :class:`sklearn.neighbors.NearestNeighbors` accepts.

    Returns
    -------
    NoiseEstimate

    Raises
    ------
    ModelError
        Shapes differ, a bad ``max_distance``, or no pair is close enough.

    Examples
    --------
    >>> X = [[0.0], [0.001], [1.0], [5.0]]
    >>> near_duplicate_noise(X, [1.0, 3.0, 7.0, 0.0], max_distance=0.01).mae_pair
    2.0
    """
    features = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] != labels.shape[0]:
        raise ModelError(f"X has shape {features.shape} for {labels.shape[0]} labels.")
    if not isinstance(max_distance, numbers.Real) or not max_distance > 0:
        raise ModelError(f"max_distance must be a positive number, got {max_distance!r}.")
    keep = np.isfinite(labels) & np.isfinite(features).all(axis=1)
    features, labels = features[keep], labels[keep]
    if labels.size < 2:
        raise ModelError("near_duplicate_noise needs at least two labelled rows.")
    nn = NearestNeighbors(n_neighbors=2, metric=metric).fit(features)
    dist, idx = nn.kneighbors(features)
    # the first neighbour is the row itself, unless an exact duplicate came first
    self_first = idx[:, 0] == np.arange(labels.size)
    partner = np.where(self_first, idx[:, 1], idx[:, 0])
    distance = np.where(self_first, dist[:, 1], dist[:, 0])
    close = distance <= max_distance
    pairs = {
        (min(a, b), max(a, b)) for a, b in zip(np.flatnonzero(close), partner[close], strict=True)
    }
    diffs = [labels[a] - labels[b] for a, b in sorted(pairs)]
    method = f"near-duplicates ({metric} distance <= {max_distance:g})"
    return _estimate(method, [abs(d) for d in diffs], [d * d for d in diffs], len(diffs))
