"""Magnet-screen outputs: the coercivity proxy columns and the Dy/Tb trade-off table.

Heavy rare earths (Dy, Tb) are added to Nd-Fe-B magnets for one reason: they raise the
anisotropy field, and so the coercivity, at the price of magnetisation and supply risk. A screen
that ranks on (Tc, Js, Hc, risk) shows that trade-off explicitly here: every Pareto-front member
that holds Dy or Tb is set beside its Dy/Tb-free neighbour (the same composition with Dy and Tb
replaced by Nd, predicted by the same models), with the change in every predicted property and
in supply risk.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["add_coercivity", "dytb_tradeoff", "gate_correction", "TRADEOFF_FILE"]

TRADEOFF_FILE = "dytb_tradeoff.csv"
_HEAVY = ("Dy", "Tb")
_REPLACEMENT = "Nd"


def add_coercivity(pool: pd.DataFrame, spec: Any) -> pd.DataFrame:
    """Add ``Ha_mean/std``, ``Hc_mean/std`` (tesla) and ``<anisotropy>_physics``.

    ``<anisotropy>_physics`` says which terms of the physics K1 estimate cover each candidate
    (:func:`mi.features.rare_earth.anisotropy_basis`): where it is "none", a physics-only K1 is
    0 by construction, not a prediction.

    Parameters
    ----------
    pool : pandas.DataFrame
        Results with ``<anisotropy>_mean/std`` (K1, MJ/m3) and ``<polarisation>_mean/std`` (T).
    spec : CoercivitySpec
        Target names, ``alpha`` and ``neff``.

    Returns
    -------
    pandas.DataFrame
        The same frame (columns added in place).
    """
    if len(pool) == 0:
        return pool
    for name, values in _kronmuller(pool, spec).items():
        pool[name] = values
    if "formula" in pool.columns:
        from mi.features.rare_earth import anisotropy_basis

        pool[f"{spec.anisotropy}_physics"] = anisotropy_basis(pool["formula"].astype(str).tolist())
    return pool


def _kronmuller(columns: Any, spec: Any) -> dict[str, np.ndarray]:
    """``Ha`` and ``Hc`` mean/std from ``columns[<target>_mean/_std]`` of the two targets."""
    from mi.features.coercivity import kronmuller

    k1, k1_std, js, js_std = (
        np.asarray(columns[f"{name}_{stat}"], dtype=np.float64)
        for name in (spec.anisotropy, spec.polarisation)
        for stat in ("mean", "std")
    )
    return kronmuller(k1, k1_std, js, js_std, alpha=spec.alpha, neff=spec.neff)


def gate_correction(model: Any, cv: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
    """Drop a physics model's learned correction when cross-validation shows it has no skill.

    For a :class:`mi.models.physics.PhysicsResidualRegressor` with ``min_skill`` set: when the
    mean out-of-fold R^2 of the workflow's cross-validation (``cv["metrics"]["r2"]["mean"]``,
    measured with the correction on) is at or below ``min_skill``, the model is switched to the
    physics baseline alone (``correction=False``; std: the prior). Any other model, or a model
    without a cross-validation, is returned unchanged.

    Parameters
    ----------
    model : estimator
        The unfitted model of the target.
    cv : dict
        The target's cross-validation record (``{}`` when it was not run).

    Returns
    -------
    (model, note) : tuple
        ``note`` is None when nothing was decided, else ``{"correction": bool, "oof_r2": float,
        "min_skill": float, "reason": str}`` (kept in the run record and shown in the report).
    """
    from mi.models.physics import PhysicsResidualRegressor

    if not isinstance(model, PhysicsResidualRegressor) or model.min_skill is None:
        return model, None
    r2 = cv.get("metrics", {}).get("r2", {}).get("mean") if cv else None
    if r2 is None or not np.isfinite(r2):
        return model, None
    keep = bool(r2 > float(model.min_skill))
    reason = (
        f"learned correction kept: out-of-fold R^2 {r2:.2f} > {model.min_skill:g}"
        if keep
        else f"learned correction dropped, physics baseline alone: out-of-fold R^2 {r2:.2f} "
        f"<= {model.min_skill:g} (no skill)"
    )
    if not keep:
        model.set_params(correction=False)
    note = {"correction": keep, "oof_r2": float(r2), "min_skill": float(model.min_skill)}
    return model, note | {"reason": reason}


def _neighbours(formulas: list[str]) -> Any:
    """Return the Dy/Tb-free neighbours of ``formulas`` (Dy and Tb amounts moved to Nd)."""
    from mi.chem import CompositionMatrix, element_index, parse_formulas

    amounts = np.asarray(parse_formulas(formulas).to_dense(), dtype=np.float64).copy()
    heavy = [element_index(s) for s in _HEAVY]
    amounts[:, element_index(_REPLACEMENT)] += amounts[:, heavy].sum(axis=1)
    amounts[:, heavy] = 0.0
    return CompositionMatrix(amounts)


def dytb_tradeoff(
    pool: pd.DataFrame,
    targets: list[Any],
    coercivity: Any,
    criticality: Any,
    max_rows: int = 50,
) -> pd.DataFrame:
    """Each Dy/Tb-holding Pareto-front member beside its Dy/Tb-free neighbour.

    Parameters
    ----------
    pool : pandas.DataFrame
        Ranked results (``formula``, ``rank``, ``on_front``, ``<target>_mean/std``, risk).
    targets : list of TargetModel
        The fitted surrogates of the run (the neighbours are predicted with them).
    coercivity : CoercivitySpec or None
        When given, ``Ha`` and ``Hc`` are compared too.
    criticality : CriticalitySpec
        Supply-risk settings of the run, its date included (members and neighbours are scored
        alike); its ``objective`` is the risk column compared.
    max_rows : int, default 50
        At most this many members (best-ranked first).

    Returns
    -------
    pandas.DataFrame
        One row per member: ``rank, family, formula, free_formula, dytb_mass_fraction``, then for
        every property ``P``: ``P`` (member), ``P_free`` (neighbour), ``d_P`` (member minus
        neighbour) and, for predictions, ``P_std`` (the member's std): is the change larger than
        the uncertainty?
    """
    from mi.features import featurize
    from mi.runner.screen import predict_target

    if len(pool) == 0 or "on_front" not in pool.columns:
        return pd.DataFrame()
    has_heavy = pool["formula"].astype(str).str.contains("Dy|Tb", regex=True)
    members = pool[pool["on_front"].astype(bool) & has_heavy].head(max_rows)
    if members.empty:
        return pd.DataFrame()
    free_matrix = _neighbours(members["formula"].astype(str).tolist())
    table = pd.DataFrame(
        {
            "rank": members["rank"].to_numpy(),
            "family": members["family"].to_numpy(),
            "formula": members["formula"].to_numpy(),
            "free_formula": free_matrix.formulas(),
            "dytb_mass_fraction": members["dytb_mass_fraction"].to_numpy()
            if "dytb_mass_fraction" in members.columns
            else np.nan,
        }
    )
    free_pred: dict[str, np.ndarray] = {}
    features: dict[str, pd.DataFrame] = {}
    for t in targets:
        if t.preset not in features:
            features[t.preset] = featurize(free_matrix, preset=t.preset)
        mean, std, _ = predict_target(t, features[t.preset][t.columns])
        free_pred[f"{t.name}_mean"], free_pred[f"{t.name}_std"] = mean, std
    props = [t.name for t in targets]
    if coercivity is not None:
        free_pred.update(_kronmuller(free_pred, coercivity))
        props += ["Ha", "Hc"]
    for p in props:
        member = members[f"{p}_mean"].to_numpy(dtype=np.float64)
        table[p] = member
        table[f"{p}_free"] = free_pred[f"{p}_mean"]
        table[f"d_{p}"] = member - free_pred[f"{p}_mean"]
        table[f"{p}_std"] = members[f"{p}_std"].to_numpy(dtype=np.float64)
    risk_column = criticality.objective
    risk = criticality.score(free_matrix)
    table[risk_column] = members[risk_column].to_numpy(dtype=np.float64)
    table[f"{risk_column}_free"] = risk[risk_column].to_numpy(dtype=np.float64)
    table[f"d_{risk_column}"] = table[risk_column] - table[f"{risk_column}_free"]
    return table
