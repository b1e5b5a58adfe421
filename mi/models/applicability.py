"""Applicability domain and novelty of candidates relative to a model's training compositions.

A surrogate's prediction for a candidate is only as good as the training data near it. For
every candidate and every target model, :class:`ApplicabilityDomain` says

- **unseen elements**: elements of the candidate that no training composition of the target
  contains (the model has never seen their effect);
- **nearest training composition**: the training compound closest in atomic fractions (L1
  distance of the fraction vectors: 0 for the same compound, 2 for compounds sharing no
  element; half of it is the share of atoms that must change) and that distance. A candidate
  within ``known_distance`` (default 0.02: at most 1 % of the atoms differ) of a training
  composition, or of another compound known to exist (``known=``, e.g. compounds whose labels
  the label audit dropped), nearly duplicates a known compound and is marked **known**
  (``known_as`` names it);
- **feature-space distance**: the mean Euclidean distance to the ``k`` nearest training rows in
  standardised feature space, divided by the ``quantile`` (default 95 %) of the same distance
  of every training row to the others (leave one out). A score above 1 is farther from the
  training data than 95 % of the training rows are from each other: **outside the domain**.

A candidate is in the domain when it has no unseen element and a score of at most 1.

Examples
--------
>>> import numpy as np
>>> domain = ApplicabilityDomain(k=1).fit(
...     ["Fe", "Co", "Ni", "FeCo", "FeNi"], np.array([[1.0], [2.0], [3.0], [1.5], [2.0]])
... )
>>> out = domain.assess(["Fe0.99Co0.01", "Nd2Fe14B"], np.array([[1.0], [9.0]]))
>>> out[["nearest", "known", "unseen_elements", "in_domain"]].values.tolist()
[['Fe', True, '', True], ['Fe', False, 'B, Nd', False]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mi.exceptions import ModelError

__all__ = ["ApplicabilityDomain", "DOMAIN_COLUMNS"]

#: Columns of :meth:`ApplicabilityDomain.assess`.
DOMAIN_COLUMNS = (
    "unseen_elements",
    "nearest",
    "nearest_l1",
    "known",
    "known_as",
    "domain_score",
    "in_domain",
)


def _matrix(compositions: Any) -> Any:
    from mi.chem import CompositionMatrix, parse_formulas

    if isinstance(compositions, CompositionMatrix):
        return compositions
    return parse_formulas(list(compositions))


def parse_formulas_valid(formulas: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Formulas that parse and their atomic fractions (the others are skipped)."""
    from mi.chem import parse_formulas

    result = parse_formulas(formulas, on_error="report")
    valid = np.asarray(result.valid, dtype=bool)
    fractions = np.asarray(result.matrix.fractions(), dtype=np.float64)[valid]
    return np.asarray(formulas, dtype=object)[valid], fractions


class ApplicabilityDomain:
    """Where a model trained on some compositions can be trusted.

    Parameters
    ----------
    quantile : float, default 0.95
        Quantile of the training rows' leave-one-out feature distance that bounds the domain.
    k : int, default 5
        Nearest training rows averaged for the feature distance.
    known_distance : float, default 0.02
        L1 distance of atomic fractions up to which a candidate counts as a known compound.
    """

    def __init__(self, quantile: float = 0.95, k: int = 5, known_distance: float = 0.02) -> None:
        if not 0.0 < quantile < 1.0:
            raise ModelError(f"ApplicabilityDomain: quantile must be in (0, 1), got {quantile!r}.")
        if k < 1:
            raise ModelError(f"ApplicabilityDomain: k must be >= 1, got {k!r}.")
        self.quantile = float(quantile)
        self.k = int(k)
        self.known_distance = float(known_distance)

    def fit(
        self,
        compositions: Sequence[str] | Any,
        X: Any = None,
        known: Sequence[str] | None = None,
    ) -> ApplicabilityDomain:
        """Learn the training compositions (and features) of one target.

        Parameters
        ----------
        compositions : sequence of str or CompositionMatrix
            Training compositions.
        X : array-like of shape (n, n_features), optional
            Their features (the model's input); without them only the composition checks run.
        known : sequence of str, optional
            Other compounds known to exist (not training rows), for the ``known`` mark only.

        Returns
        -------
        ApplicabilityDomain
            self, fitted.
        """
        from sklearn.neighbors import NearestNeighbors

        from mi.chem import ELEMENTS

        matrix = _matrix(compositions)
        if matrix.n < 2:
            raise ModelError("ApplicabilityDomain needs at least two training compositions.")
        fractions = np.asarray(matrix.fractions(), dtype=np.float64)
        given = compositions if not hasattr(compositions, "formulas") else matrix.formulas()
        self.formulas_ = np.asarray([str(c) for c in given], dtype=object)
        self.seen_ = fractions.max(axis=0) > 0
        self.elements_ = np.asarray(ELEMENTS, dtype=object)
        self.composition_nn_ = NearestNeighbors(n_neighbors=1, metric="manhattan").fit(fractions)
        self.known_formulas_ = self.formulas_
        self.known_nn_ = self.composition_nn_
        if known is not None and len(known):
            extra = parse_formulas_valid(list(known))
            self.known_formulas_ = np.concatenate([self.formulas_, extra[0]])
            self.known_nn_ = NearestNeighbors(n_neighbors=1, metric="manhattan").fit(
                np.vstack([fractions, extra[1]])
            )
        self.threshold_ = None
        if X is not None:
            Xa = np.nan_to_num(np.asarray(X, dtype=np.float64))
            if Xa.shape[0] != matrix.n:
                raise ModelError(f"X has {Xa.shape[0]} rows but there are {matrix.n} compositions.")
            self.mean_ = Xa.mean(axis=0)
            scale = Xa.std(axis=0)
            self.scale_ = np.where(scale > 0, scale, 1.0)
            Z = (Xa - self.mean_) / self.scale_
            self.k_ = min(self.k, Z.shape[0] - 1)
            self.feature_nn_ = NearestNeighbors(n_neighbors=self.k_ + 1).fit(Z)
            dist, _ = self.feature_nn_.kneighbors(Z)
            self.train_distance_ = dist[:, 1:].mean(axis=1)  # leave one out: skip itself
            self.threshold_ = float(np.quantile(self.train_distance_, self.quantile))
        return self

    def assess(self, compositions: Sequence[str] | Any, X: Any = None) -> pd.DataFrame:
        """Novelty and domain flags of candidates.

        Parameters
        ----------
        compositions : sequence of str or CompositionMatrix
            Candidates.
        X : array-like, optional
            Their features, in the training column order (needed for ``domain_score``).

        Returns
        -------
        pandas.DataFrame
            :data:`DOMAIN_COLUMNS`: ``unseen_elements`` (comma-separated symbols, "" if none),
            ``nearest`` (closest training formula), ``nearest_l1``, ``known`` (within
            known_distance of a training or other known compound), ``known_as`` (that
            compound, "" if none), ``domain_score`` (feature distance / training quantile; NaN
            without features) and ``in_domain`` (no unseen element and score <= 1).
        """
        if not hasattr(self, "composition_nn_"):
            raise ModelError("ApplicabilityDomain is not fitted; call fit() first.")
        matrix = _matrix(compositions)
        fractions = np.asarray(matrix.fractions(), dtype=np.float64)
        out = pd.DataFrame(index=range(matrix.n), columns=list(DOMAIN_COLUMNS))
        unseen = (fractions > 0) & ~self.seen_
        out["unseen_elements"] = [", ".join(sorted(self.elements_[row])) for row in unseen]
        if matrix.n:
            dist, idx = self.composition_nn_.kneighbors(fractions)
            out["nearest"] = self.formulas_[idx[:, 0]]
            out["nearest_l1"] = dist[:, 0]
        out["nearest_l1"] = out["nearest_l1"].astype(np.float64)
        out["known"] = False
        out["known_as"] = ""
        if matrix.n:
            kdist, kidx = self.known_nn_.kneighbors(fractions)
            is_known = kdist[:, 0] <= self.known_distance + 1e-9
            out["known"] = is_known
            out["known_as"] = np.where(is_known, self.known_formulas_[kidx[:, 0]], "")
        out["known"] = out["known"].astype(bool)
        score = np.full(matrix.n, np.nan)
        if X is not None and self.threshold_ is not None and matrix.n:
            Z = (np.nan_to_num(np.asarray(X, dtype=np.float64)) - self.mean_) / self.scale_
            d, _ = self.feature_nn_.kneighbors(Z, n_neighbors=self.k_)
            score = d.mean(axis=1) / max(self.threshold_, 1e-12)
        out["domain_score"] = score
        inside = unseen.sum(axis=1) == 0
        if X is not None and self.threshold_ is not None:
            inside &= score <= 1.0
        out["in_domain"] = inside.astype(bool)
        return out
