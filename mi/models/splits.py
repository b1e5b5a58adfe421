"""Leakage-safe cross-validation splitters: grouped k-fold and leave-one-cluster-out."""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
from sklearn.preprocessing import StandardScaler

from mi.models._validation import check_number

__all__ = ["GroupedKFold", "LeaveOneClusterOut"]


class GroupedKFold:
    """Shuffled k-fold that keeps each group (e.g. one composition) inside one fold.

    Without groups every row is its own group. With ``stratify=True`` (classification) the
    folds also keep the class balance (:class:`~sklearn.model_selection.StratifiedGroupKFold`).

    Parameters
    ----------
    n_splits : int, default 5
        Number of folds.
    stratify : bool, default False
        Balance the classes of ``y`` across folds.
    random_state : int or None, default 0
        Seed of the shuffle.

    Examples
    --------
    >>> import numpy as np
    >>> groups = ["Fe2O3", "Fe2O3", "NaCl", "KCl", "MgO", "CaO"]
    >>> cv = GroupedKFold(n_splits=3)
    >>> all(len({groups[i] for i in te} & {groups[i] for i in tr}) == 0
    ...     for tr, te in cv.split(np.zeros((6, 1)), groups=groups))
    True
    """

    def __init__(self, n_splits: int = 5, stratify: bool = False, random_state: int | None = 0):
        self.n_splits = n_splits
        self.stratify = stratify
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Return the number of folds."""
        return self.n_splits

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_index, test_index)`` pairs."""
        check_number(self, "n_splits", self.n_splits, kind=numbers.Integral, low=2)
        n = len(X)
        groups_arr = np.arange(n) if groups is None else np.asarray(groups)
        if groups_arr.shape[0] != n:
            raise ValueError(f"groups has {groups_arr.shape[0]} entries but X has {n} rows.")
        if self.stratify and y is not None:
            splitter: Any = StratifiedGroupKFold(
                self.n_splits, shuffle=True, random_state=self.random_state
            )
        else:
            splitter = GroupKFold(self.n_splits, shuffle=True, random_state=self.random_state)
        yield from splitter.split(np.zeros((n, 1)), y, groups_arr)


class LeaveOneClusterOut:
    """Leave-one-cluster-out CV (Meredig et al., Mol. Syst. Des. Eng. 3, 819, 2018).

    The rows are clustered with k-means on the standardised features; each cluster is held out
    once, so the test set is chemically unlike the training set. With ``groups``, all rows of a
    group go to the cluster of the group's first row (identical compositions stay together).

    Parameters
    ----------
    n_clusters : int, default 5
        Number of k-means clusters (= folds).
    random_state : int or None, default 0
        Seed of k-means.

    Attributes
    ----------
    labels_ : ndarray
        Cluster label per row from the last ``split``.
    """

    def __init__(self, n_clusters: int = 5, random_state: int | None = 0):
        self.n_clusters = n_clusters
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Return the number of folds (= clusters)."""
        return self.n_clusters

    def cluster(self, X: Any, groups: Any = None) -> np.ndarray:
        """Cluster label per row (k-means on standardised features, NaN set to the column mean)."""
        check_number(self, "n_clusters", self.n_clusters, kind=numbers.Integral, low=2)
        Xa = np.asarray(X, dtype=np.float64)
        if Xa.shape[0] < self.n_clusters:
            raise ValueError(
                f"LeaveOneClusterOut needs at least n_clusters={self.n_clusters} rows; got "
                f"{Xa.shape[0]}."
            )
        Xa = np.where(np.isnan(Xa), np.nanmean(Xa, axis=0), Xa)
        Xa = np.nan_to_num(StandardScaler().fit_transform(Xa))
        labels = KMeans(self.n_clusters, n_init=10, random_state=self.random_state).fit_predict(Xa)
        if groups is not None:
            g = np.asarray(groups)
            _, first, inverse = np.unique(g, return_index=True, return_inverse=True)
            labels = labels[first][inverse]
        self.labels_ = labels
        return labels

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_index, test_index)``, one pair per non-empty cluster."""
        labels = self.cluster(X, groups)
        for k in range(self.n_clusters):
            test = np.flatnonzero(labels == k)
            if test.size == 0 or test.size == labels.size:
                continue
            yield np.flatnonzero(labels != k), test
