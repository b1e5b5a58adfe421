"""Label noise of the accuracy-benchmark datasets: the error floor under any model.

A model is scored against labels, and labels carry errors of their own. Where one compound has
several independent labels, their disagreement measures that error (``mi.models.noise``):

- Curie temperatures (curie_tc, text-mined): every value comes with the paper it was mined from;
  values of one compound from different papers are compared (one median per paper first). The
  same value range as the accuracy benchmark is used (0 < Tc <= 1400 K).
- SuperCon Tc > 0: rows with the same reduced composition (exact replicates), and rows whose
  atomic fractions differ by at most 0.005 or 0.01 in L1 distance (near-duplicates; part of that
  difference is real, e.g. oxygen content in cuprates, so it is an upper estimate).
- Experimental band gaps (expt_gap): the same two checks, as a comparison where the goal was met.

Under independent, zero-mean label errors a perfect model scores ``RMSE = rmse_pair / sqrt(2)``
and ``MAE >= mae_pair / 2`` (``mae_pair / sqrt(2)`` for Gaussian errors) against one label.

The Curie noise is given for the raw values and after the label audit of
``datasets/curie_tc.toml`` (:mod:`mi.data.audit`): ``rules`` keeps the values that pass its
plausibility rules, ``consensus`` the values its consensus uses (these agree within the audit's
tolerance by construction: a lower estimate). The floor is also given for the flagship's Curie
training labels, raw (plain median) and audited.

Usage::

    .venv/bin/python benchmarks/label_noise.py               # about 1 min
    .venv/bin/python benchmarks/label_noise.py --curie-only  # the Curie rows only

Prints a table and one JSON line per estimate. Everything is read through the registry
(``../shared/datasets`` as the pre-filled cache).
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

import numpy as np

_SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "datasets")
if "MI_DATA_DIR" not in os.environ and os.path.isdir(_SHARED):
    os.environ["MI_DATA_DIR"] = os.path.normpath(_SHARED)  # as the Makefile does

from mi.chem import ELEMENTS, parse_formulas  # noqa: E402
from mi.data import load_dataset  # noqa: E402
from mi.data.audit import audit_values  # noqa: E402
from mi.data.registry import get_manifest  # noqa: E402
from mi.data.sources.files import load_files  # noqa: E402
from mi.data.spec import TargetSpec  # noqa: E402
from mi.data.values import parse_target_cell  # noqa: E402
from mi.models.noise import NoiseEstimate, near_duplicate_noise, replicate_noise  # noqa: E402

CURIE_MAX_K = 1400.0  # the accuracy benchmark's cleaning (above every known Curie temperature)
_DOI = re.compile(r"'([^']*)'")


#: Strata of compounds by the number of papers their values come from.
PAPER_STRATA = {"all": (2, None), "2 papers": (2, 2), "3-4 papers": (3, 4), "5+ papers": (5, None)}


def _curie_pools() -> tuple[dict[str, tuple[list[float], list[str]]], dict[str, Any]]:
    """Every mined value of every compound with the paper (DOI) it was mined from."""
    frames, _ = load_files(get_manifest("curie_tc"))
    raw = frames[0].df
    keys = parse_formulas(list(raw["compound"].astype(str))).canonical_keys()
    spec = TargetSpec(name="Tc", kind="array")
    pools: dict[str, tuple[list[float], list[str]]] = {}
    skipped = {"not a formula": 0, "values and sources differ in number": 0}
    for key, cell, source in zip(keys, raw["Tc"], raw["source"].astype(str), strict=True):
        if not key:
            skipped["not a formula"] += 1
            continue
        tc = parse_target_cell(cell, spec).values
        dois = _DOI.findall(source)
        if len(dois) != tc.size:
            skipped["values and sources differ in number"] += 1
            continue
        values, papers = pools.setdefault(key, ([], []))
        values.extend(float(v) for v in tc)
        papers.extend(dois)
    return pools, {"source_rows": len(raw), "rows_skipped": skipped}


def _select(pools: dict[str, tuple[list[float], list[str]]], labels: str):
    """Values kept per compound: raw (0 < Tc <= 1400 K), or by the manifest's label audit.

    ``labels="rules"``: values passing the audit's plausibility rules; ``"consensus"``: the
    values the audit's consensus is the median of (labels it drops contribute nothing).
    """
    audit = next(t.audit for t in get_manifest("curie_tc").table.targets if t.name == "Tc")
    assert audit is not None
    if labels == "rules":
        audit = audit.model_copy(update={"consensus": "median"})
    for key, (values, papers) in pools.items():
        v = np.asarray(values)
        if labels == "raw":
            mask = (v > 0.0) & (v <= CURIE_MAX_K)
        else:
            amounts = parse_formulas([key]).fractions()[0]
            fractions = {ELEMENTS[j]: float(amounts[j]) for j in np.flatnonzero(amounts)}
            outcome = audit_values(v, papers, fractions, audit)
            assert outcome.used is not None
            mask = outcome.used
        for value, doi in zip(v[mask], np.asarray(papers)[mask], strict=True):
            yield key, float(value), str(doi)


def curie_by_paper(labels: str = "raw") -> tuple[dict[str, NoiseEstimate], dict[str, Any]]:
    """Disagreement between papers on the Curie temperature of one compound, by stratum.

    Parameters
    ----------
    labels : {"raw", "rules", "consensus"}
        Which mined values count (see :func:`_select`). The consensus values agree within the
        audit's tolerance by construction, so their disagreement is a lower estimate.
    """
    pools, info = _curie_pools()
    groups: list[str] = []
    values: list[float] = []
    papers: list[str] = []
    for key, value, doi in _select(pools, labels):
        groups.append(key)
        values.append(value)
        papers.append(doi)
    per_compound: dict[str, set[str]] = {}
    for key, doi in zip(groups, papers, strict=True):
        per_compound.setdefault(key, set()).add(doi)
    n_papers = {k: len(v) for k, v in per_compound.items()}
    counts = np.array(list(n_papers.values()))
    info = info | {
        "labels": labels,
        "compounds": int(counts.size),
        "compounds_with_one_paper": int((counts == 1).sum()),
        "compounds_with_2plus_papers": int((counts >= 2).sum()),
        "papers_per_key": n_papers,
    }
    group_papers = np.array([n_papers[g] for g in groups])
    estimates = {}
    for name, (low, high) in PAPER_STRATA.items():
        take = (group_papers >= low) & (group_papers <= (high or group_papers.max()))
        estimates[name] = replicate_noise(
            np.asarray(values)[take],
            np.asarray(groups)[take],
            sources=np.asarray(papers)[take],
        )
    return estimates, info


def curie_evaluation_floor(
    noise: NoiseEstimate, papers_per_key: dict[str, int], compositions: list[str] | None = None
) -> dict[str, Any]:
    """What one stratum's noise means on an evaluation set (default: the accuracy benchmark's).

    Parameters
    ----------
    noise : NoiseEstimate
        Noise of one label from one paper.
    papers_per_key : dict of str to int
        Papers behind each compound's label.
    compositions : list of str, optional
        The evaluation set; default the cleaned Curie set of ``benchmarks/accuracy.py`` on raw
        (plain-median) labels.
    """
    if compositions is None:
        import accuracy  # the benchmark's own cleaning of the Curie set

        df, _, _, _ = accuracy.prep_curie(load_dataset("curie_tc", audit=False), quick=False)
        compositions = list(df["composition"])
    keys = parse_formulas(compositions).canonical_keys()
    n_papers = np.array([papers_per_key.get(k, 0) for k in keys])
    single = float(np.mean(n_papers <= 1))
    return {
        "evaluation_compositions": len(keys),
        "share_one_paper": single,
        # multi-paper labels counted as exact: a lower bound over the whole set
        "perfect_model_mae_lower_bound": single * noise.label_mae_low,
        "perfect_model_mae_gaussian_single_paper_only": single * noise.label_mae_gaussian,
    }


def flagship_floors() -> list[dict[str, Any]]:
    """Noise floor of the flagship's Curie training labels, raw and audited (Tc >= 1 K)."""
    out = []
    for labels, audit in (("raw", False), ("rules", True)):
        noise, info = curie_by_paper(labels)
        df = load_dataset("curie_tc", audit=audit).df
        comps = list(df.loc[df["Tc"] >= 1.0, "composition"])
        floor = curie_evaluation_floor(noise["2 papers"], info["papers_per_key"], comps)
        name = "raw (median of all values)" if labels == "raw" else "audited"
        out.append({"labels": name, "noise_2_papers": noise["2 papers"].to_dict()} | floor)
    return out


def composition_checks(name: str, target: str, positive_only: bool) -> list[NoiseEstimate]:
    """Exact-replicate and near-duplicate noise of one dataset's target."""
    df = load_dataset(name, merge="none").df
    if positive_only:
        df = df[df[target] > 0]
    matrix = parse_formulas(list(df["composition"]))
    y = df[target].to_numpy(float)
    out = [replicate_noise(y, matrix.canonical_keys())]
    # near-duplicates among distinct compositions (exact replicates are the check above)
    merged = load_dataset(name).df
    if positive_only:
        merged = merged[merged[target] > 0]
    fractions = parse_formulas(list(merged["composition"])).fractions()
    for distance in (0.005, 0.01):
        out.append(near_duplicate_noise(fractions, merged[target].to_numpy(float), distance))
    return out


def main() -> int:
    rows: list[tuple[str, str, NoiseEstimate, str]] = []
    curie, info = curie_by_paper()
    papers_per_key = info.pop("papers_per_key")
    print(
        f"curie_tc: {info['compounds']} compounds from {info['source_rows']} source rows "
        f"(skipped {info['rows_skipped']}); {info['compounds_with_one_paper']} have values "
        f"from one paper only, {info['compounds_with_2plus_papers']} from two or more"
    )
    for stratum, est in curie.items():
        rows.append((f"curie_tc {stratum}", "Tc (K)", est, "MAE <= 60 (raw-label flagship 124)"))
    # the least-studied stratum is the closest to the compounds reported by one paper only
    floor = curie_evaluation_floor(curie["2 papers"], papers_per_key)
    info.update(floor)
    print(
        f"curie_tc evaluation set of benchmarks/accuracy.py: {floor['evaluation_compositions']} "
        f"compositions, {100 * floor['share_one_paper']:.0f} % labelled from one paper. With the "
        f"noise of the compounds reported by two papers, a perfect model scores MAE >= "
        f"{curie['2 papers'].label_mae_low:.0f} K on those (about "
        f"{curie['2 papers'].label_mae_gaussian:.0f} K for Gaussian errors): >= "
        f"{floor['perfect_model_mae_lower_bound']:.0f} K over the set even if every multi-paper "
        f"label were exact, about {floor['perfect_model_mae_gaussian_single_paper_only']:.0f} K "
        "from the single-paper labels alone for Gaussian errors. Much-studied compounds disagree "
        "more (see the strata), so the 'all' row overstates the noise of the others."
    )
    # the same after the label audit of datasets/curie_tc.toml (mi.data.audit)
    for labels in ("rules", "consensus"):
        audited, _ = curie_by_paper(labels)
        for stratum in ("all", "2 papers"):
            goal = "MAE <= 90 (flagship 115)"
            rows.append((f"curie_tc {labels} {stratum}", "Tc (K)", audited[stratum], goal))
    floors = flagship_floors()
    for f in floors:
        print(
            f"flagship Curie training labels, {f['labels']}: {f['evaluation_compositions']} "
            f"compositions, {100 * f['share_one_paper']:.0f} % from one paper; perfect-model "
            f"MAE >= {f['perfect_model_mae_lower_bound']:.0f} K (every multi-paper label exact), "
            f"about {f['perfect_model_mae_gaussian_single_paper_only']:.0f} K for Gaussian errors"
        )
    skip_others = "--curie-only" in sys.argv[1:]
    for est in [] if skip_others else composition_checks("supercon", "Tc", positive_only=True):
        rows.append(("supercon Tc>0", "Tc (K)", est, "RMSE <= 6.5 (ours 7.22)"))
    for est in [] if skip_others else composition_checks("expt_gap", "Eg", positive_only=False):
        rows.append(("expt_gap", "Eg (eV)", est, "MAE <= 0.35 (ours 0.273)"))

    head = (
        f"{'dataset':<30} {'method':<44} {'items':>6} {'pairs':>6} {'MAE pair':>9} "
        f"{'RMSE pair':>9} {'floor RMSE':>10} {'floor MAE':>15}  target"
    )
    print(head)
    print("-" * len(head))
    for dataset, _, est, goal in rows:
        mae = f"{est.label_mae_low:.3g}-{est.label_mae_gaussian:.3g}"
        print(
            f"{dataset:<30} {est.method:<44} {est.n_groups:>6} {est.n_pairs:>6} "
            f"{est.mae_pair:>9.3g} {est.rmse_pair:>9.3g} {est.label_rmse:>10.3g} {mae:>15}  {goal}"
        )
    print(
        "floor RMSE = RMSE pair / sqrt(2); floor MAE = MAE pair / 2 (a lower bound) to "
        "MAE pair / sqrt(2) (Gaussian errors): what a perfect model would score against one "
        "label, if label errors are independent with mean zero. Near-duplicates count real "
        "differences as noise (upper estimate)."
    )
    for dataset, unit, est, goal in rows:
        line = {"benchmark": "label_noise", "dataset": dataset, "unit": unit, "goal": goal}
        line.update(est.to_dict())
        if dataset == "curie_tc 2 papers":
            line.update(info)
        print(json.dumps(line))
    for f in floors:
        print(json.dumps({"benchmark": "label_noise", "dataset": "curie_tc flagship"} | f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
