"""The "what to make next" view of a run: the picks, why, how sure, how new, in or out of domain.

Pure table work on the run's results (no HTML here; :mod:`mi.report.render` draws it):

- :func:`rank_resolution`: whether the model can order adjacent candidates at all. For ranks
  ``i`` and ``i + 1`` with predictions ``m_i ± s_i``, the probability that ``i`` is truly better
  is ``Phi(d / sqrt(s_i^2 + s_{i+1}^2))`` with ``d`` the predicted difference in the target's
  good direction (independent Gaussian errors); a pair is *unresolved* when ``|d|`` is below the
  combined std.
- :func:`pick_reasons`: why each pick was chosen: its acquisition value, Pareto rank, and the
  objectives in which it stands out among the ranked candidates (percentile per objective).
- :func:`picks_table`: one display row per pick: prediction ± std per target (marked when outside
  the model's applicability domain, :mod:`mi.models.applicability`), derived magnet columns,
  supply risk, known or new.
- :func:`picks_detail_table`: why each pick was chosen, its nearest training composition per
  target with the distance (``KNOWN`` when it nearly duplicates one) and the domain flag per target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = [
    "OUTSIDE_MARK",
    "PHYSICS_ONLY_MARK",
    "PHYSICS_ONLY_TEXT",
    "Objective",
    "novelty_text",
    "physics_only",
    "pick_reasons",
    "picks_detail_table",
    "picks_table",
    "rank_resolution",
]


@dataclass(frozen=True)
class Objective:
    """One column the ranking optimises.

    Attributes
    ----------
    name : str
        Shown name (``Tc``, ``supply risk``).
    column : str
        Column of the results (``Tc_mean``).
    maximize : bool
        Direction.
    std : str
        Column of its std ("" when none).
    units : str
        Units for display.
    """

    name: str
    column: str
    maximize: bool
    std: str = ""
    units: str = ""


def rank_resolution(df: pd.DataFrame, objective: Objective, n: int = 10) -> dict[str, Any]:
    """How well the predictions separate adjacent rows of ``df`` (in its order).

    Parameters
    ----------
    df : pandas.DataFrame
        Ranked rows (best first) with the objective's mean and std columns.
    objective : Objective
        The target compared.
    n : int, default 10
        Rows considered (the first ``n``).

    Returns
    -------
    dict
        ``n_pairs``, ``n_unresolved`` (difference below the combined std), ``fraction``,
        ``p_beats`` (probability that each row truly beats the next, list), ``median_p`` and
        ``spread`` (predicted range over the rows) and ``median_std``. Empty when the columns
        are missing or fewer than two rows.

    Examples
    --------
    >>> df = pd.DataFrame({"Tc_mean": [600.0, 590.0, 400.0], "Tc_std": [50.0, 50.0, 10.0]})
    >>> r = rank_resolution(df, Objective("Tc", "Tc_mean", True, "Tc_std"))
    >>> r["n_unresolved"], [round(p, 2) for p in r["p_beats"]]
    (1, [0.56, 1.0])
    """
    if objective.column not in df.columns or objective.std not in df.columns:
        return {}
    head = df.head(n)
    if len(head) < 2:
        return {}
    m = head[objective.column].to_numpy(dtype=np.float64)
    s = head[objective.std].to_numpy(dtype=np.float64)
    sign = 1.0 if objective.maximize else -1.0
    d = sign * (m[:-1] - m[1:])
    combined = np.sqrt(s[:-1] ** 2 + s[1:] ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(combined > 0, d / combined, np.sign(d) * np.inf)
    p = norm.cdf(z)
    unresolved = np.abs(d) < combined
    return {
        "n_pairs": int(d.size),
        "n_unresolved": int(unresolved.sum()),
        "fraction": float(unresolved.mean()),
        "p_beats": [float(x) for x in p],
        "median_p": float(np.median(p)),
        "spread": float(m.max() - m.min()),
        "median_std": float(np.median(s)),
    }


def _percentile_better(pool: pd.DataFrame, objective: Objective, value: float) -> float:
    """Share of the pool at least as good as ``value`` (small = stands out)."""
    col = pool[objective.column].to_numpy(dtype=np.float64)
    col = col[np.isfinite(col)]
    if not col.size or not math.isfinite(value):
        return math.nan
    better = col >= value if objective.maximize else col <= value
    return float(better.mean())


def pick_reasons(
    picks: pd.DataFrame,
    pool: pd.DataFrame,
    objectives: list[Objective],
    acquisition: str = "",
    top_share: float = 0.25,
) -> list[str]:
    """One line per pick: acquisition value, Pareto rank and the objectives it stands out in.

    Parameters
    ----------
    picks : pandas.DataFrame
        The picks (rows of the results).
    pool : pandas.DataFrame
        The ranked candidates they are compared with.
    objectives : list of Objective
        Objectives of the ranking (targets and supply risk).
    acquisition : str
        Acquisition description (e.g. ``"penalized on Tc"``).
    top_share : float, default 0.25
        An objective is named when the pick is in the best ``top_share`` of the pool.

    Returns
    -------
    list of str
    """
    lines = []
    for _, row in picks.iterrows():
        parts = []
        if "acquisition" in row.index and pd.notna(row["acquisition"]):
            what = f" ({acquisition})" if acquisition else ""
            parts.append(f"acquisition {float(row['acquisition']):.4g}{what}")
        if "pareto_rank" in row.index and pd.notna(row["pareto_rank"]):
            rank = int(row["pareto_rank"])
            parts.append("on the Pareto front" if rank == 1 else f"Pareto rank {rank}")
        strong = []
        for obj in objectives:
            if obj.column not in row.index:
                continue
            share = _percentile_better(pool, obj, float(row[obj.column]))
            if math.isfinite(share) and share <= top_share:
                word = "highest" if obj.maximize else "lowest"
                strong.append((share, f"{word} {max(1, round(100 * share))} % in {obj.name}"))
        if strong:
            parts.append(", ".join(text for _, text in sorted(strong)))
        else:
            parts.append("balanced: not in the best quarter of any single objective")
        lines.append("; ".join(parts))
    return lines


def novelty_text(row: pd.Series, target: str) -> str:
    """``"Nd2Fe14B (L1 0.012) KNOWN"``: the nearest training composition of one target."""
    nearest = row.get(f"{target}_nearest")
    if nearest is None or (isinstance(nearest, float) and math.isnan(nearest)):
        return "–"
    from mi.chem.display import display_formula

    dist = float(row.get(f"{target}_nearest_l1", math.nan))
    nearest = display_formula(str(nearest))
    text = f"{nearest} (L1 {dist:.3f})"
    if bool(row.get(f"{target}_known", False)):
        known_as = row.get(f"{target}_known_as")
        other = isinstance(known_as, str) and known_as and known_as != nearest
        shown = display_formula(str(known_as)) if other else ""
        text += f" KNOWN as {shown} (no training label)" if other else " KNOWN"
    return text


def physics_only(row: pd.Series, target: str) -> bool:
    """Whether the target's prediction is the physics alone with its stated std.

    From the results column ``<target>_physics_prior``
    (:meth:`mi.models.PhysicsResidualRegressor.stated_prior`).
    """
    value = row.get(f"{target}_physics_prior")
    return bool(value) if value is not None and not pd.isna(value) else False


def domain_text(row: pd.Series, target: str) -> str:
    """``"in"``, or ``"OUTSIDE: unseen Ga; distance 1.8x"`` for one target.

    A prediction that is the physics alone with its stated std says so after the flag.
    """
    text = _domain_flag(row, target)
    if physics_only(row, target):
        text += f" ({PHYSICS_ONLY_TEXT})"
    return text


def _domain_flag(row: pd.Series, target: str) -> str:
    if f"{target}_in_domain" not in row.index or pd.isna(row[f"{target}_in_domain"]):
        return "–"
    if bool(row[f"{target}_in_domain"]):
        score = row.get(f"{target}_domain_score")
        return "in" if score is None or pd.isna(score) else f"in ({float(score):.2f})"
    why = []
    unseen = row.get(f"{target}_unseen_elements")
    if isinstance(unseen, str) and unseen:
        why.append(f"unseen {unseen}")
    score = row.get(f"{target}_domain_score")
    if score is not None and pd.notna(score) and float(score) > 1.0:
        why.append(f"feature distance {float(score):.2f} × the training 95 % quantile")
    return "OUTSIDE: " + "; ".join(why or ["flagged"])


def _pm(mean: Any, std: Any) -> str:
    try:
        m, s = float(mean), float(std)
    except (TypeError, ValueError):
        return "–"
    if not (math.isfinite(m) and math.isfinite(s)) or s <= 0:
        return f"{m:.4g}" if math.isfinite(m) else "–"
    decimals = max(0, 1 - int(math.floor(math.log10(s))))
    return f"{m:.{min(decimals, 6)}f} ± {s:.{min(decimals, 6)}f}"


#: Mark of a prediction outside its model's applicability domain (explained under the table).
OUTSIDE_MARK = "†"

#: Said of a prediction that is the physics estimate alone, its ± the stated error of that
#: estimate (a physics model's ``baseline_std``), not a learned spread.
PHYSICS_ONLY_TEXT = "physics only"

#: Short mark of a physics-only prediction in the picks table (explained under the table).
PHYSICS_ONLY_MARK = "‡"

#: Derived magnet columns shown beside the targets when a run has them: (prefix, shown name).
DERIVED = (("Ha", "μ0Ha [T]"), ("Hc", "μ0Hc [T]"))


def _known_text(row: pd.Series, targets: list[Objective]) -> str:
    """``"KNOWN (Tc data)"`` or ``"new"``: whether a pick nearly duplicates a training compound."""
    known = [t.name for t in targets if bool(row.get(f"{t.name}_known", False))]
    if known:
        return f"KNOWN ({', '.join(known)} data)"
    if any(f"{t.name}_known" in row.index for t in targets):
        return "new"
    return "–"


def picks_table(
    picks: pd.DataFrame,
    targets: list[Objective],
    formula: str = "formula",
    risk: str = "supply_risk",
) -> pd.DataFrame:
    """Show the picks at a glance: prediction ± std per target, supply risk, known or new.

    A prediction outside its model's applicability domain carries :data:`OUTSIDE_MARK`; one that
    is the physics estimate alone with its stated std (results column ``<target>_physics_prior``)
    also carries :data:`PHYSICS_ONLY_MARK`.

    Parameters
    ----------
    picks : pandas.DataFrame
        The picks.
    targets : list of Objective
        The surrogate targets (mean and std columns).
    formula, risk : str
        Formula and supply-risk columns.

    Returns
    -------
    pandas.DataFrame
        Text columns, one row per pick in pick order.
    """
    out = pd.DataFrame(index=range(len(picks)))
    rows = picks.reset_index(drop=True)
    if "batch" in rows.columns:
        out["pick"] = rows["batch"].astype(int).to_numpy()
    if "rank" in rows.columns:
        out["rank"] = rows["rank"].astype(int).to_numpy()
    out["formula"] = rows[formula].astype(str).to_numpy() if formula in rows else "–"
    if "family" in rows.columns:
        out["family"] = rows["family"].astype(str).to_numpy()
    nan = pd.Series([math.nan] * len(rows))
    for t in targets:
        unit = f" [{t.units}]" if t.units else ""
        inside = rows.get(f"{t.name}_in_domain", pd.Series([True] * len(rows)))
        physics = [physics_only(row, t.name) for _, row in rows.iterrows()]
        out[f"{t.name}{unit}"] = [
            _pm(m, s)
            + ("" if pd.isna(ok) or bool(ok) else f" {OUTSIDE_MARK}")
            + (f" {PHYSICS_ONLY_MARK}" if alone else "")
            for m, s, ok, alone in zip(
                rows.get(t.column, nan), rows.get(t.std, nan), inside, physics, strict=True
            )
        ]
    for prefix, shown in DERIVED:
        if f"{prefix}_mean" in rows.columns:
            out[shown] = [
                _pm(m, s)
                for m, s in zip(rows[f"{prefix}_mean"], rows.get(f"{prefix}_std", nan), strict=True)
            ]
    if risk in rows.columns:
        out[risk.replace("_", " ")] = rows[risk].astype(float).round(3).to_numpy()
    out["known?"] = [_known_text(row, targets) for _, row in rows.iterrows()]
    return out


def picks_detail_table(
    picks: pd.DataFrame,
    targets: list[Objective],
    reasons: list[str],
    formula: str = "formula",
) -> pd.DataFrame:
    """Tell why each pick was chosen, how new it is and whether each model knows it.

    Parameters
    ----------
    picks : pandas.DataFrame
        The picks.
    targets : list of Objective
        The surrogate targets.
    reasons : list of str
        From :func:`pick_reasons`.
    formula : str
        Formula column.

    Returns
    -------
    pandas.DataFrame
        ``pick``, ``formula``, ``why chosen``, ``nearest training compound`` and ``domain``
        (one line per target in each of the last two).
    """
    rows = picks.reset_index(drop=True)
    out = pd.DataFrame(index=range(len(rows)))
    if "batch" in rows.columns:
        out["pick"] = rows["batch"].astype(int).to_numpy()
    out["formula"] = rows[formula].astype(str).to_numpy() if formula in rows else "–"
    out["why chosen"] = reasons
    out["nearest training compound"] = [
        "\n".join(f"{t.name}: {novelty_text(row, t.name)}" for t in targets)
        for _, row in rows.iterrows()
    ]
    out["domain"] = [
        "\n".join(f"{t.name}: {domain_text(row, t.name)}" for t in targets)
        for _, row in rows.iterrows()
    ]
    return out
