"""Inputs and comparisons for checking the fast backend against matminer (tests, benchmarks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mi.chem import ELEMENTS, parse_formulas

__all__ = ["DATASET_FORMULA_COLUMNS", "real_formulas", "random_formulas", "compare_features"]

#: Formula columns of the shared real datasets: (file below the data folder, column).
DATASET_FORMULA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("supercon_stanev2018/Supercon_data.csv", "name"),
    ("expt_gap_zhuo2018_roost/expt-bandgaps.csv", "composition"),
    ("obelix_ionic_conductivity/all.csv", "Reduced Composition"),
    ("novamag_magnetic/novamag-raw.csv", "chemical formula"),
    ("novamag_magnetic/mp-magnetism.csv", "chemical formula"),
    ("curie_bert_psie_tc/Tc_dataset.csv", "compound"),
)


def real_formulas(data_dir: str | Path) -> list[str]:
    """Distinct valid formula strings of the shared datasets, in file order.

    Parameters
    ----------
    data_dir : str or Path
        Folder holding the dataset folders (``../shared/datasets``).

    Returns
    -------
    list of str
        About 28,000 formulas (rows that :func:`mi.chem.parse_formulas` rejects are left out).
    """
    values: list[object] = []
    for path, column in DATASET_FORMULA_COLUMNS:
        values.extend(pd.read_csv(Path(data_dir) / path)[column].tolist())
    res = parse_formulas(values, on_error="report")
    keep = [v for v, ok in zip(values, res.valid, strict=True) if ok]  # type: ignore[union-attr]
    return list(dict.fromkeys(str(v) for v in keep))


def random_formulas(n: int, seed: int = 0, max_elements: int = 9) -> list[str]:
    """Random formula strings over H..Lr (1 to ``max_elements`` elements, varied amounts).

    Amounts mix omitted (1), integers and decimals with up to three digits, so the set covers
    imputed elements, mode ties, single elements and compositions of 8+ elements.

    Parameters
    ----------
    n : int
        Number of formulas.
    seed : int, default 0
    max_elements : int, default 9

    Returns
    -------
    list of str
    """
    rng = np.random.default_rng(seed)
    sizes = rng.choice(np.arange(1, max_elements + 1), size=n,
                       p=_size_weights(max_elements))  # fmt: skip
    total = int(sizes.sum())
    # distinct elements per row: rank random keys within each row
    picks = rng.integers(0, len(ELEMENTS), size=(n, max_elements))
    while True:  # redraw repeated elements until every row's elements are distinct
        dup = np.zeros(picks.shape, dtype=bool)
        for j in range(1, max_elements):
            dup[:, j] = (picks[:, :j] == picks[:, j : j + 1]).any(axis=1)
        if not dup.any():
            break
        picks[dup] = rng.integers(0, len(ELEMENTS), size=int(dup.sum()))
    take = np.arange(max_elements) < sizes[:, None]
    z = picks[take]
    # amount vocabulary: "" (1), integers 1-12, decimals 0.001-99.9 with 1-3 decimal digits
    vocab = [""] + [str(i) for i in range(1, 13)]
    vocab += [str(v / 10**d) for d in (1, 2, 3) for v in range(1, 1000)]
    kind = rng.integers(0, 4, size=total)
    pick = np.where(
        kind == 0,
        0,
        np.where(kind == 1, rng.integers(1, 13, size=total), rng.integers(13, len(vocab), total)),
    )
    sym_amt = np.asarray(ELEMENTS, dtype=object)[z] + np.asarray(vocab, dtype=object)[pick]
    tokens = sym_amt.tolist()
    ends = np.cumsum(sizes).tolist()
    starts = [0, *ends[:-1]]
    return ["".join(tokens[a:b]) for a, b in zip(starts, ends, strict=True)]


def _size_weights(max_elements: int) -> np.ndarray:
    w = np.array([0.08, 0.22, 0.26, 0.2, 0.12, 0.05, 0.03, 0.02, 0.02][:max_elements])
    w = np.pad(w, (0, max(0, max_elements - len(w))), constant_values=0.01)
    return w / w.sum()


def compare_features(fast: pd.DataFrame, reference: pd.DataFrame) -> dict[str, float | int]:
    """Compare two feature tables entry by entry.

    Parameters
    ----------
    fast, reference : pandas.DataFrame
        Same shape and columns.

    Returns
    -------
    dict
        ``max_rel_diff`` (over entries where the reference is non-zero; an entry where the
        reference is 0 counts as ``inf`` unless the other value is 0 too), ``nan_mismatch``
        (entries NaN in one table only), ``n_identical`` and ``n_entries``.
    """
    if list(fast.columns) != list(reference.columns) or fast.shape != reference.shape:
        raise ValueError("Feature tables differ in shape or columns.")
    a = fast.to_numpy(np.float64)
    b = reference.to_numpy(np.float64)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    both = ~nan_a & ~nan_b
    diff = np.abs(a[both] - b[both])
    scale = np.abs(b[both])
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(diff == 0, 0.0, diff / scale)
    return {
        "max_rel_diff": float(rel.max()) if rel.size else 0.0,
        "nan_mismatch": int((nan_a != nan_b).sum()),
        "n_identical": int((diff == 0).sum() + (nan_a & nan_b).sum()),
        "n_entries": int(a.size),
    }
