"""Applicability domain and novelty flags (mi.models.applicability) on a constructed set."""

from __future__ import annotations

import numpy as np
import pytest

from mi.chem import parse_formulas
from mi.exceptions import ModelError
from mi.models.applicability import DOMAIN_COLUMNS, ApplicabilityDomain


def _training() -> tuple[list[str], np.ndarray]:
    """Fe-Co-Ni compositions on a grid; features: their atomic fractions and a smooth mix."""
    comps = []
    for a in np.arange(0.0, 1.01, 0.1):
        for b in np.arange(0.0, 1.01 - a, 0.1):
            c = max(0.0, 1.0 - a - b)
            parts = [f"{el}{x:.2f}" for el, x in (("Fe", a), ("Co", b), ("Ni", c)) if x > 1e-9]
            comps.append("".join(parts))
    frac = parse_formulas(comps).fractions()
    return comps, _features(frac)


def _features(frac: np.ndarray) -> np.ndarray:
    fe, co, ni = frac[:, 25], frac[:, 26], frac[:, 27]
    return np.column_stack([fe, co, ni, fe * co])


def test_flags_on_a_constructed_training_set():
    comps, X = _training()
    domain = ApplicabilityDomain(quantile=0.95, k=3).fit(comps, X)
    cands = ["Fe0.51Co0.49", "Fe0.45Co0.35Ni0.2", "Fe2Ga", "Nd2Fe14B"]
    frac = parse_formulas(cands).fractions()
    Xc = _features(frac)
    Xc[1] = [3.0, -2.0, 4.0, 5.0]  # same elements, far away in feature space
    out = domain.assess(cands, Xc)
    assert list(out.columns) == list(DOMAIN_COLUMNS)
    # a near copy of a training composition: known, inside
    assert out.loc[0, "nearest"] == "Fe0.50Co0.50" and out.loc[0, "known"]
    assert out.loc[0, "nearest_l1"] == pytest.approx(0.02)
    assert out.loc[0, "in_domain"] and out.loc[0, "domain_score"] <= 1.0
    # seen elements but far in feature space: outside by distance, not known
    assert out.loc[1, "unseen_elements"] == "" and out.loc[1, "domain_score"] > 1.0
    assert not out.loc[1, "in_domain"] and not out.loc[1, "known"]
    # elements the training data never contains
    assert out.loc[2, "unseen_elements"] == "Ga" and not out.loc[2, "in_domain"]
    assert out.loc[3, "unseen_elements"] == "B, Nd"
    # pure Fe and Fe0.9Ni0.1 are equally close: 3/17 of the atoms are Nd or B
    assert out.loc[3, "nearest"] in {"Fe1.00", "Fe0.90Ni0.10"}
    assert out.loc[3, "nearest_l1"] == pytest.approx(2 * 3 / 17)


def test_threshold_is_the_training_quantile():
    comps, X = _training()
    domain = ApplicabilityDomain(quantile=0.8, k=2).fit(comps, X)
    share_above = float(np.mean(domain.train_distance_ > domain.threshold_))
    assert 0.1 <= share_above <= 0.2  # about 1 - quantile of the leave-one-out distances
    # composition checks only, without features: no score, domain from the elements alone
    plain = ApplicabilityDomain().fit(comps)
    out = plain.assess(["FeCo", "FeGa"])
    assert out["domain_score"].isna().all()
    assert out["in_domain"].tolist() == [True, False]


def test_other_known_compounds_mark_known_without_becoming_training_rows():
    comps, X = _training()
    domain = ApplicabilityDomain(k=3).fit(comps, X, known=["Fe2Ga", "not a formula"])
    out = domain.assess(["Fe0.665Ga0.335", "Fe0.5Ga0.5"], np.zeros((2, 4)))
    assert out["known"].tolist() == [True, False]
    assert out.loc[0, "known_as"] == "Fe2Ga" and out.loc[1, "known_as"] == ""
    assert out.loc[0, "nearest"] != "Fe2Ga"  # the nearest *training* composition
    assert out.loc[0, "unseen_elements"] == "Ga"  # Ga is still absent from the training data


def test_bad_use_is_reported():
    with pytest.raises(ModelError, match="quantile"):
        ApplicabilityDomain(quantile=1.5)
    with pytest.raises(ModelError, match="not fitted"):
        ApplicabilityDomain().assess(["Fe"])
    with pytest.raises(ModelError, match="rows"):
        ApplicabilityDomain().fit(["Fe", "Co"], np.zeros((3, 2)))
