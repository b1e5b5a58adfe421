"""Apply saved surrogates to new compositions (and conditions): ``mi predict``.

A model saved by a workflow (``OUT/models/<target>/``) carries in its card what it needs:
the featurizer preset, the feature columns, the condition inputs with their training ranges,
the target transform and the elements seen in training. :func:`predict_table` rebuilds the
inputs of a table (or a list of formulas), predicts, transforms back, and flags every row that
lies outside what the model knows.

Output columns, per target ``t``: ``t_mean`` and the calibrated 95 % interval ``t_lo``/``t_hi``
in the property's own unit (a log10 target's interval is transformed back end by end), ``t_std``
(the model's std; for a transformed target, a quarter of the interval's width), and
``t_applicable`` with ``t_domain_note`` (elements unseen in training, more of an element than
any training composition, conditions outside the training range; :mod:`mi.runner.domain`; and,
for a model saved by a workflow, a feature-space distance beyond the training spread from
:class:`mi.models.applicability.ApplicabilityDomain`, whose ``t_nearest``, ``t_nearest_l1``,
``t_known``, ``t_domain_score`` and ``t_in_domain`` columns are added). A physics-baseline model
with a stated prior std (:class:`mi.models.physics.PhysicsResidualRegressor` with
``baseline_std``) adds ``t_physics_prior``: True where the prediction is the physics alone with
that std, as in a screen's results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mi._atomic import atomic_write
from mi.exceptions import DataError, ModelError
from mi.models.physics import stated_prior_rows

__all__ = ["SavedSurrogate", "find_models", "predict_table", "read_inputs", "write_table"]


@dataclass
class SavedSurrogate:
    """A loaded model and what its card says about its inputs."""

    name: str
    path: Path
    model: Any
    preset: str
    feature_names: list[str]
    conditions: list[str]
    transform: str | None
    domain: dict[str, Any]
    unit: str

    @classmethod
    def load(cls, path: Path) -> SavedSurrogate:
        """Load a saved model folder (``model.json``) and read its card."""
        from mi.models import load_card, load_model

        card = load_card(path)
        extra = dict(card.extra)
        return cls(
            name=str(card.target or path.name),
            path=path,
            model=load_model(path),
            preset=str(card.preset or "magpie"),
            feature_names=list(card.feature_names),
            conditions=list(extra.get("conditions") or {}),
            transform=extra.get("transform"),
            domain=dict(extra.get("domain") or {}),
            unit=str(card.dataset.get("units") or ""),
        )


def find_models(model_dir: str | Path) -> list[Path]:
    """Return the saved model folders: ``model_dir``, or its ``models/*`` / ``*`` folders.

    Raises
    ------
    ModelError
        When no saved model is found.
    """
    root = Path(model_dir)
    if (root / "model.json").is_file():
        return [root]
    for base in (root / "models", root):
        found = sorted(p.parent for p in base.glob("*/model.json"))
        if found:
            return found
    raise ModelError(
        f"No saved model in {root}: give a model folder (with model.json) or a run folder "
        "(with models/<target>/); `mi run WORKFLOW --out DIR` writes them."
    )


def read_inputs(
    source: str | Path | Sequence[str] | pd.DataFrame,
    composition_col: str | None = None,
    elements: str | None = None,
) -> tuple[pd.DataFrame, list[str], str, list[str]]:
    """Read the rows to predict: a table file, a DataFrame, or formula strings.

    Parameters
    ----------
    source : path, DataFrame or sequence of str
        A CSV/TSV/Parquet/JSON/xlsx table, or formulas (``["Cu98Ni1.6Si0.4"]``).
    composition_col : str, optional
        Formula column (default: ``composition`` or ``formula``).
    elements : {"wt%", "at%"}, optional
        The composition is given as element columns in this basis instead.

    Returns
    -------
    table : pandas.DataFrame
    formulas : list of str
        Clean formulas (what is featurized).
    label : str
        Where the rows came from (for messages).
    shown : list of str
        The composition as the user wrote it (the formula cell), or the formula made from
        element columns.
    """
    if isinstance(source, pd.DataFrame):
        df, label = source.reset_index(drop=True), "<DataFrame>"
    elif isinstance(source, str | Path) and Path(source).is_file():
        from mi.data.tables import read_raw_table

        df, label = read_raw_table(source), str(source)
    else:
        items = [source] if isinstance(source, str | Path) else list(source)
        df, label = pd.DataFrame({"composition": [str(s) for s in items]}), "<formulas>"
    if elements is not None:
        from mi.data.element_columns import element_formulas
        from mi.data.spec import ElementColumnsSpec

        made = element_formulas(df, ElementColumnsSpec(basis=elements), label)  # type: ignore[arg-type]
        formulas = [str(f) for f in made.formulas]
        return df, formulas, label, formulas
    col = composition_col
    if col is None:
        col = next((c for c in ("composition", "formula", "Formula") if c in df.columns), None)
    if col is None or col not in df.columns:
        raise DataError(
            f"{label}: no composition column (columns: {list(df.columns)}); name it with "
            "--composition-col, or give element columns with --elements wt%|at%."
        )
    from mi.data.formulas import check_formulas

    cells = df[col].tolist()
    check = check_formulas(cells)
    if check.errors:
        row = min(check.errors)
        raise DataError(f"{label}: row {row}, column {col!r}: {cells[row]!r}: {check.errors[row]}")
    return df, [str(f) for f in check.formulas], label, [str(c).strip() for c in cells]


def _condition_frame(
    df: pd.DataFrame, needed: list[str], fixed: Mapping[str, float], label: str
) -> pd.DataFrame:
    out = {}
    for name in needed:
        if name in fixed:
            out[name] = np.full(len(df), float(fixed[name]))
        elif name in df.columns:
            values = pd.to_numeric(df[name], errors="coerce")
            bad = values.isna() & df[name].notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(
                    f"{label}: row {row}, column {name!r}: {df[name].iloc[row]!r} is not a number."
                )
            out[name] = values.to_numpy(dtype=np.float64)
        else:
            raise DataError(
                f"{label}: the model needs condition {name!r} (its inputs: {needed}); add a "
                f"column {name!r} or pass --condition {name}=VALUE."
            )
    return pd.DataFrame(out, index=df.index)


def _applicability(s: SavedSurrogate, formulas: list[str], X: pd.DataFrame) -> list[str]:
    """Applicability notes per row (empty: inside what the model was trained on)."""
    from mi.runner.domain import domain_notes

    if not s.domain:
        return ["" for _ in formulas]
    return domain_notes(formulas, X[[c for c in s.conditions if c in X.columns]], s.domain)


def _domain_flags(s: SavedSurrogate, formulas: list[str], X: pd.DataFrame) -> pd.DataFrame | None:
    """Return the applicability-domain flags of :mod:`mi.models.applicability`.

    The domain is fitted on the training inputs saved next to the model; None for a model
    saved without them.
    """
    path = s.path / "training.parquet"
    if not path.is_file():
        return None
    from mi.models.applicability import ApplicabilityDomain

    train = pd.read_parquet(path)
    columns = list(X.columns)
    domain = ApplicabilityDomain().fit(train["composition"].tolist(), train[columns].to_numpy())
    return domain.assess(formulas, X.to_numpy(dtype=np.float64))


def predict_table(
    model_dir: str | Path,
    source: str | Path | Sequence[str] | pd.DataFrame,
    *,
    composition_col: str | None = None,
    elements: str | None = None,
    conditions: Mapping[str, float] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Predict every saved surrogate of a model or run folder for new rows.

    Parameters
    ----------
    model_dir : path
        A saved model folder or a run folder (all its ``models/*``).
    source : path, DataFrame or sequence of str
        Rows to predict (see :func:`read_inputs`).
    composition_col, elements
        How the composition is given (see :func:`read_inputs`).
    conditions : mapping of str to float, optional
        Values for condition inputs the table does not hold (the same for every row).
    progress : bool, default True
        Report the featurizing and prediction stages.

    Returns
    -------
    pandas.DataFrame
        ``composition``, the conditions, then per target ``_mean``, ``_lo``, ``_hi``, ``_std``,
        ``_applicable``, ``_domain_note`` (see the module docstring).

    Raises
    ------
    DataError
        A composition cannot be read, or a condition input is missing or not a number (one
        line naming the source, row and column).
    """
    from mi.data.transforms import reported
    from mi.features import featurize
    from mi.runner.progress import Progress

    rep = Progress(quiet=not progress)
    surrogates = [SavedSurrogate.load(p) for p in find_models(model_dir)]
    df, formulas, label, shown = read_inputs(source, composition_col, elements)
    needed = list(dict.fromkeys(c for s in surrogates for c in s.conditions))
    conds = _condition_frame(df, needed, dict(conditions or {}), label)
    out = pd.DataFrame({"composition": shown})
    for c in needed:
        out[c] = conds[c].to_numpy()
    features: dict[str, pd.DataFrame] = {}
    for s in surrogates:
        if s.preset not in features:
            with rep.stage(f"featurize ({s.preset})", unit="rows") as st:
                f = featurize(formulas, preset=s.preset, progress=False)
                f.columns = [str(c) for c in f.columns]
                features[s.preset] = f
                st.done = len(f)
        X = features[s.preset].assign(**{c: conds[c].to_numpy() for c in s.conditions})
        missing = [c for c in s.feature_names if c not in X.columns]
        if missing:
            raise ModelError(
                f"{s.path}: the model's inputs {missing[:3]} are not produced by preset "
                f"{s.preset!r} here; was it trained with another mi version?"
            )
        X = X[s.feature_names] if s.feature_names else X
        with rep.stage(f"predict {s.name}", unit="rows") as st:
            mean, std = s.model.predict(X, return_std=True)
            st.done = len(X)
        values = reported(s.transform, mean, std)
        for key in ("mean", "lo", "hi", "std"):
            out[f"{s.name}_{key}"] = values[key]
        stated = stated_prior_rows(s.model, X)
        if stated is not None:  # physics alone with its stated std, as the screen says
            out[f"{s.name}_physics_prior"] = stated
        notes = _applicability(s, formulas, X)
        flags = _domain_flags(s, formulas, X)
        if flags is not None:
            for col in ("nearest", "nearest_l1", "known", "domain_score", "in_domain"):
                out[f"{s.name}_{col}"] = flags[col].to_numpy()
            far = flags["domain_score"].to_numpy(dtype=np.float64) > 1.0
            notes = [
                "; ".join(
                    p
                    for p in (n, f"feature distance {d:.2g} x the training spread" if f else "")
                    if p
                )
                for n, d, f in zip(notes, flags["domain_score"], far, strict=True)
            ]
        out[f"{s.name}_applicable"] = [not n for n in notes]
        out[f"{s.name}_domain_note"] = notes
    return out


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a result table as CSV or Parquet (by suffix), atomically.

    Raises
    ------
    DataError
        For another suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet", ".pq"}:
        raise DataError(f"--out {path}: write .csv or .parquet.")
    if suffix == ".csv":
        return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))
    return atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))
