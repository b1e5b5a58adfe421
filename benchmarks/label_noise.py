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

Usage::

    .venv/bin/python benchmarks/label_noise.py        # about 10 s

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

from mi.chem import parse_formulas  # noqa: E402
from mi.data import load_dataset  # noqa: E402
from mi.data.registry import get_manifest  # noqa: E402
from mi.data.sources.files import load_files  # noqa: E402
from mi.data.spec import TargetSpec  # noqa: E402
from mi.data.values import parse_target_cell  # noqa: E402
from mi.models.noise import NoiseEstimate, near_duplicate_noise, replicate_noise  # noqa: E402

CURIE_MAX_K = 1400.0  # the accuracy benchmark's cleaning (above every known Curie temperature)
_DOI = re.compile(r"'([^']*)'")


#: Strata of compounds by the number of papers their values come from.
PAPER_STRATA = {"all": (2, None), "2 papers": (2, 2), "3-4 papers": (3, 4), "5+ papers": (5, None)}


def curie_by_paper() -> tuple[dict[str, NoiseEstimate], dict[str, Any]]:
    """Disagreement between papers on the Curie temperature of one compound, by stratum."""
    frames, _ = load_files(get_manifest("curie_tc"))
    raw = frames[0].df
    keys = parse_formulas(list(raw["compound"].astype(str))).canonical_keys()
    spec = TargetSpec(name="Tc", kind="array")
    values: list[float] = []
    groups: list[str] = []
    papers: list[str] = []
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
        for value, doi in zip(tc, dois, strict=True):
            if 0.0 < value <= CURIE_MAX_K:
                values.append(float(value))
                groups.append(key)
                papers.append(doi)
    per_compound: dict[str, set[str]] = {}
    for key, doi in zip(groups, papers, strict=True):
        per_compound.setdefault(key, set()).add(doi)
    n_papers = {k: len(v) for k, v in per_compound.items()}
    counts = np.array(list(n_papers.values()))
    info = {
        "source_rows": len(raw),
        "rows_skipped": skipped,
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


def curie_evaluation_floor(noise: NoiseEstimate, papers_per_key: dict[str, int]) -> dict[str, Any]:
    """What one stratum's noise means on the accuracy benchmark's cleaned evaluation set."""
    import accuracy  # the benchmark's own cleaning of the Curie set

    df, _, _, _ = accuracy.prep_curie(load_dataset("curie_tc"), quick=False)
    keys = parse_formulas(list(df["composition"])).canonical_keys()
    n_papers = np.array([papers_per_key.get(k, 0) for k in keys])
    single = float(np.mean(n_papers <= 1))
    return {
        "evaluation_compositions": len(keys),
        "share_one_paper": single,
        # multi-paper labels counted as exact: a lower bound over the whole set
        "perfect_model_mae_lower_bound": single * noise.label_mae_low,
        "perfect_model_mae_gaussian_single_paper_only": single * noise.label_mae_gaussian,
    }


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
        rows.append((f"curie_tc {stratum}", "Tc (K)", est, "MAE <= 60 (ours 126)"))
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
    for est in composition_checks("supercon", "Tc", positive_only=True):
        rows.append(("supercon Tc>0", "Tc (K)", est, "RMSE <= 6.5 (ours 7.22)"))
    for est in composition_checks("expt_gap", "Eg", positive_only=False):
        rows.append(("expt_gap", "Eg (eV)", est, "MAE <= 0.35 (ours 0.273)"))

    head = (
        f"{'dataset':<21} {'method':<44} {'items':>6} {'pairs':>6} {'MAE pair':>9} "
        f"{'RMSE pair':>9} {'floor RMSE':>10} {'floor MAE':>15}  target"
    )
    print(head)
    print("-" * len(head))
    for dataset, _, est, goal in rows:
        mae = f"{est.label_mae_low:.3g}-{est.label_mae_gaussian:.3g}"
        print(
            f"{dataset:<21} {est.method:<44} {est.n_groups:>6} {est.n_pairs:>6} "
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
