"""Render :class:`~mi.report.model.ReportData` to one self-contained HTML page.

The page needs nothing beside itself: CSS is inline and every figure is a base64 PNG in a
``data:`` URI, so it can be mailed, archived with the run, or opened from a cluster's scratch
folder. No JavaScript.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mi.exceptions import DataError
from mi.report.model import DataReport, ReportData, TargetReport

__all__ = ["render_html", "figure_to_data_uri"]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;
 margin:0;color:#1d2430;background:#f6f7f9;line-height:1.45}
header{background:#1f3a5f;color:#fff;padding:22px 36px}
header h1{margin:0 0 4px 0;font-size:26px}
header p{margin:2px 0;opacity:.9}
main{max-width:1180px;margin:0 auto;padding:12px 28px 48px}
section{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:14px 22px;margin:18px 0}
h2{font-size:20px;margin:4px 0 10px;color:#1f3a5f;border-bottom:1px solid #e8eaee;
 padding-bottom:6px}
h3{font-size:16px;margin:14px 0 6px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 10px}
th,td{border:1px solid #dde1e6;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#eef1f5;white-space:normal} td.l,th.l{text-align:left}
td.l{white-space:normal;overflow-wrap:break-word;max-width:520px}
.tablewrap{overflow-x:auto;max-width:100%}
tbody tr:nth-child(even){background:#fafbfc}
.figs{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
figure{margin:0;border:1px solid #eceef1;border-radius:6px;padding:6px;background:#fff;
 flex:0 1 510px}
figure.wide{flex:1 1 100%}
figure img{display:block;width:100%;height:auto}
figcaption{font-size:12px;color:#556;max-width:560px;margin-top:4px}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px;margin:6px 0}
.muted{color:#6a7380;font-size:13px}
.kpi{display:inline-block;margin:4px 18px 4px 0}
.kpi b{display:block;font-size:20px;color:#1f3a5f}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre{background:#f3f4f6;padding:8px;overflow:auto;max-height:420px}
"""


def figure_to_data_uri(fig: Figure, fmt: str = "png", dpi: int = 100) -> str:
    """Encode a figure as a ``data:`` URI (base64 PNG, or SVG).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure to encode.
    fmt : {"png", "svg"}, default "png"
        Image format.
    dpi : int, default 100
        Resolution of PNG output.

    Returns
    -------
    str
        ``data:image/png;base64,...`` or ``data:image/svg+xml;base64,...``.
    """
    if fmt not in ("png", "svg"):
        raise ValueError(f"fmt must be 'png' or 'svg'; got {fmt!r}")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight", facecolor="white")
    mime = "image/png" if fmt == "png" else "image/svg+xml"
    return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _fmt_num(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return "–"
        a = abs(float(v))
        if a != 0 and (a < 1e-3 or a >= 1e5):
            return f"{float(v):.3e}"
        return f"{float(v):.4g}"
    return str(v)


def _table(df: pd.DataFrame, max_rows: int = 50, index: bool = False) -> str:
    shown = df.head(max_rows)
    cols = list(shown.columns)
    out = ["<div class='tablewrap'><table><thead><tr>"]
    if index:
        out.append(f"<th class='l'>{_e(shown.index.name or '')}</th>")
    out += [f"<th class='l'>{_e(str(c).replace('_', ' '))}</th>" for c in cols]
    out.append("</tr></thead><tbody>")
    for idx, row in shown.iterrows():
        out.append("<tr>")
        if index:
            out.append(f"<td class='l'>{_e(idx)}</td>")
        for c in cols:
            v = row[c]
            numeric = isinstance(v, int | float | np.integer | np.floating) and not isinstance(
                v, bool | np.bool_
            )
            plus_minus = isinstance(v, str) and " ± " in v
            cls = "" if numeric or plus_minus else " class='l'"
            cell = _e(_fmt_num(v)).replace("\n", "<br>")
            out.append(f"<td{cls}>{cell}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    if len(df) > max_rows:
        out.append(f"<p class='muted'>showing {max_rows} of {len(df):,} rows</p>")
    return "".join(out)


def _kv_table(items: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(
        f"<tr><th class='l'>{_e(k)}</th><td class='l'>{_e(_fmt_num(v))}</td></tr>" for k, v in items
    )
    return f"<div class='tablewrap'><table>{rows}</table></div>"


class _Page:
    def __init__(self, fmt: str, dpi: int) -> None:
        self.parts: list[str] = []
        self.fmt = fmt
        self.dpi = dpi
        self.n_figures = 0

    def add(self, text: str) -> None:
        self.parts.append(text)

    def figure(self, fig: Figure, name: str, caption: str, wide: bool = False) -> str:
        uri = figure_to_data_uri(fig, self.fmt, self.dpi)
        self.n_figures += 1
        cls = " class='wide'" if wide else ""
        return (
            f"<figure{cls}><img src='{uri}' alt='{_e(caption)}' data-figure='{_e(name)}'>"
            f"<figcaption>{_e(caption)}</figcaption></figure>"
        )

    def failed(self, name: str, exc: Exception) -> str:
        return f"<p class='note'>Figure {_e(name)} could not be drawn: {_e(exc)}</p>"


def render_html(data: ReportData, *, fmt: str = "png", dpi: int = 100) -> str:
    """Render the report page.

    Parameters
    ----------
    data : ReportData
        What to show.
    fmt : {"png", "svg"}, default "png"
        Format of the embedded figures.
    dpi : int, default 100
        PNG resolution.

    Returns
    -------
    str
        A complete HTML document.
    """
    page = _Page(fmt, dpi)
    page.add(_header(data))
    page.add("<main>")
    page.add(_next_section(data))
    if data.notes:
        page.add("<section><h2>Notes</h2>")
        page.add("".join(f"<p class='note'>{_e(n)}</p>" for n in data.notes))
        page.add("</section>")
    page.add(_candidates_section(page, data))
    if data.tradeoff is not None:
        page.add(_tradeoff_section(data.tradeoff, data.targets))
    page.add(_models_section(page, data))
    if data.discovery is not None and len(data.discovery):
        page.add(_discovery_section(page, data))
    page.add(_criticality_section(page, data))
    page.add(_data_section(data.data))
    page.add(_provenance_section(data))
    page.add("</main></body></html>")
    return "".join(page.parts)


def _header(data: ReportData) -> str:
    sub = []
    if data.description:
        sub.append(f"<p>{_e(data.description)}</p>")
    meta = " · ".join(
        x
        for x in (
            f"run {data.created}" if data.created else "",
            f"spec {data.spec_hash}" if data.spec_hash else "",
            f"mi {data.versions.get('mi', '')}" if data.versions.get("mi") else "",
        )
        if x
    )
    if meta:
        sub.append(f"<p class='muted' style='color:#cfd8e3'>{_e(meta)}</p>")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(data.title)} · mi report</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>{_e(data.title)}</h1>{''.join(sub)}</header>"
    )


def _fmt_pm(mean: Any, std: Any) -> str:
    """``mean ± std`` with the std to two significant digits and the mean to the same place."""
    try:
        m, sd = float(mean), float(std)
    except (TypeError, ValueError):
        return f"{mean} ± {std}"
    if not (np.isfinite(m) and np.isfinite(sd)) or sd <= 0:
        return f"{_fmt_num(m)} ± {_fmt_num(sd)}"
    decimals = max(0, 1 - int(np.floor(np.log10(sd))))
    if decimals > 6:
        return f"{m:.3e} ± {sd:.1e}"
    return f"{m:.{decimals}f} ± {sd:.{decimals}f}"


def _candidate_display(df: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    """Combine ``<t>_mean`` / ``<t>_std`` pairs into "mean ± std" text columns for the table."""
    out = pd.DataFrame(index=df.index)
    for c in df.columns:
        if c.endswith("_std") and f"{c[:-4]}_mean" in df.columns:
            continue  # shown with its mean
        if c.endswith("_mean") and f"{c[:-5]}_std" in df.columns:
            s = f"{c[:-5]}_std"
            out[f"{c[:-5]} (mean ± std)"] = [
                _fmt_pm(m, v) for m, v in zip(df[c], df[s], strict=True)
            ]
        else:
            out[c] = df[c]
    return out


def _objectives(data: ReportData) -> tuple[list[Any], list[Any]]:
    """Regression targets and every ranking objective (targets and supply risk)."""
    from mi.report.next_steps import Objective

    targets = [
        Objective(
            name=t.name,
            column=f"{t.name}_mean",
            maximize=t.objective != "minimize",
            std=f"{t.name}_std",
            units=_short_units(t.units) or "",
        )
        for t in data.targets
        if t.task == "regression"
    ]
    risk = data.candidate_columns.get("risk", "supply_risk")
    return targets, [*targets, Objective(risk.replace("_", " "), risk, False)]


def _next_section(data: ReportData) -> str:
    """Render what to make next: the picks, why, how sure, how new, in or out of domain."""
    from mi.report.next_steps import (
        OUTSIDE_MARK,
        PHYSICS_ONLY_MARK,
        PHYSICS_ONLY_TEXT,
        pick_reasons,
        picks_detail_table,
        picks_table,
        rank_resolution,
    )

    parts = ["<section id='next'><h2>What to make next</h2>"]
    picks = data.picks
    if picks is None or not len(picks):
        parts.append("<p class='muted'>No candidates to recommend in this run.</p></section>")
        return "".join(parts)
    targets, objectives = _objectives(data)
    acq = data.extra.get("acquisition") or {}
    acq_text = ""
    if isinstance(acq, dict) and acq.get("name"):
        acq_text = f"{acq.get('name')} on {acq.get('target')}" if acq.get("target") else acq["name"]
    if data.picks_kind == "batch":
        parts.append(
            f"<p>The batch of {len(picks)} candidates for the next experiments "
            "(<code>batch.csv</code>): chosen one after the other among the best-ranked "
            f"candidates by the acquisition ({_e(acq_text or 'see provenance')}), each new pick "
            "kept away from the earlier ones in composition.</p>"
        )
    else:
        parts.append(
            f"<p>No batch was requested (<code>outputs.batch_size</code>); the {len(picks)} "
            "best-ranked candidates.</p>"
        )
    ranked = data.candidates if data.candidates is not None else picks
    for t in targets:
        res = rank_resolution(ranked, t, n=10)
        if not res:
            continue
        unit = f" {t.units}" if t.units else ""
        probs = ", ".join(f"{p:.2f}" for p in res["p_beats"])
        text = (
            f"{t.name}: in the top {res['n_pairs'] + 1} of the ranked list, "
            f"{res['n_unresolved']} of {res['n_pairs']} adjacent pairs differ in predicted "
            f"{t.name} by less than their combined std (predicted range {res['spread']:.3g}"
            f"{unit}, median std {res['median_std']:.3g}{unit}). Probability that the true "
            f"{t.name} of rank i is {'higher' if t.maximize else 'lower'} than that of rank "
            f"i+1: {probs}."
        )
        if res["fraction"] >= 0.5:
            parts.append(
                f"<p class='note'><b>Ranking not resolved.</b> {_e(text)} Their order is "
                "within the model's uncertainty: treat them as ties.</p>"
            )
        else:
            parts.append(f"<p class='muted'>{_e(text)}</p>")
    pool = data.pareto_pool if data.pareto_pool is not None else ranked
    reasons = pick_reasons(picks, pool, objectives, acq_text)
    formula = data.candidate_columns.get("formula", "formula")
    risk = data.candidate_columns.get("risk", "supply_risk")
    table = picks_table(picks, targets, formula=formula, risk=risk)
    detail = picks_detail_table(picks, targets, reasons, formula=formula)
    outside = [
        i
        for i in range(len(picks))
        for t in targets
        if f"{t.name}_in_domain" in picks.columns and not bool(picks[f"{t.name}_in_domain"].iloc[i])
    ]
    known = [
        i
        for i in range(len(picks))
        if any(
            f"{t.name}_known" in picks.columns and bool(picks[f"{t.name}_known"].iloc[i])
            for t in targets
        )
    ]
    if outside:
        parts.append(
            f"<p class='note'><b>Outside the applicability domain:</b> "
            f"{len(set(outside))} of {len(picks)} picks for at least one target (marked "
            f"{OUTSIDE_MARK}; reasons in the second table): the model has not seen such "
            "compositions, so its number is a guess.</p>"
        )
    if known:
        parts.append(
            f"<p class='note'><b>Known compounds:</b> {len(known)} of {len(picks)} picks nearly "
            "duplicate a training composition (marked KNOWN): measuring them adds little.</p>"
        )
    for t in data.targets:
        if t.correction and "dropped" in t.correction:
            parts.append(
                f"<p class='note'><b>{_e(t.name)} is physics alone.</b> {_e(t.correction)}: its "
                "predictions are the physics estimate with a flat std, and its domain flags "
                "refer to the training data of the dropped correction, not to where the physics "
                f"holds (column <code>{_e(t.name)}_physics</code> of the results, where "
                "present).</p>"
            )
    for t in targets:
        column = f"{t.name}_physics_prior"
        alone = int(picks[column].fillna(False).astype(bool).sum()) if column in picks else 0
        if alone:
            parts.append(
                f"<p class='note'><b>{_e(t.name)} is physics only for {alone} of {len(picks)} "
                f"picks</b> (marked {PHYSICS_ONLY_MARK}): their compositions lie far from the "
                "training data of the learned correction, which is faded out there, so the "
                f"prediction is the physics estimate and its ± is the stated error of that "
                "estimate on this family (the workflow's <code>baseline_std</code>, with its "
                "source), not a learned spread, and it is not recalibrated. "
                f"{OUTSIDE_MARK} still says that the correction's training data holds no such "
                "composition.</p>"
            )
    parts.append(_table(table, max_rows=len(table)))
    parts.append(
        f"<p class='muted'>{OUTSIDE_MARK} outside the model's applicability domain: the number "
        f"is a guess. {PHYSICS_ONLY_MARK} {PHYSICS_ONLY_TEXT}: the physics estimate alone, ± "
        "its stated error. "
        "known?: KNOWN when the pick nearly duplicates a composition of that target's training "
        "data.</p>"
    )
    parts.append("<h3>Why each pick, how new, and what the models know</h3>")
    parts.append(_table(detail, max_rows=len(detail)))
    std_kind = (
        "recalibrated on the cross-validation"
        if any(t.std_recalibrated for t in data.targets)
        else "ensemble spread, not recalibrated"
    )
    parts.append(
        "<p class='muted'>± std: the model's predictive standard deviation "
        f"({_e(std_kind)}). Nearest training compound: the closest composition in that "
        "target's training data by L1 distance of atomic fractions (0 = same compound, 2 = no "
        "shared element); KNOWN when at most 0.02 (1 % of the atoms differ). Domain: 'in' with "
        "the feature-space distance to the 5 nearest training rows relative to the 95 % "
        "quantile of the training rows' own distances (above 1 = outside), or OUTSIDE with the "
        "reason (elements the target's training data never contains, or the distance).</p>"
    )
    parts.append("</section>")
    return "".join(parts)


def _candidates_section(page: _Page, data: ReportData) -> str:
    parts = ["<section id='candidates'><h2>Top candidates</h2>"]
    if data.n_candidates:
        parts.append(
            "".join(
                f"<span class='kpi'><b>{_e(_fmt_num(v))}</b>{_e(k.replace('_', ' '))}</span>"
                for k, v in data.n_candidates.items()
            )
        )
    if data.constraints:
        parts.append(
            "<p>Constraints: " + "; ".join(f"<code>{_e(c)}</code>" for c in data.constraints)
        )
        parts.append("</p>")
    df = data.candidates
    if df is None or not len(df):
        parts.append("<p class='muted'>No candidates in this run.</p></section>")
        return "".join(parts)
    figs = [_pareto_figure(page, data, view) for view in _views(data)]
    if figs:
        parts.append("<div class='figs'>" + "".join(figs) + "</div>")
    parts.append("<h3>Ranked list</h3>")
    parts.append(_table(_candidate_display(df, data.candidate_columns), max_rows=50))
    parts.append("</section>")
    return "".join(parts)


def _tradeoff_section(table: pd.DataFrame, targets: list[TargetReport] | None = None) -> str:
    """Dy/Tb-holding front members beside their Dy/Tb-free neighbours (magnet screens)."""
    parts = [
        "<section id='tradeoff'><h2>What Dy and Tb buy: the trade-off on the Pareto front</h2>",
        "<p>Each Pareto-front member that holds Dy or Tb, beside its Dy/Tb-free neighbour (the "
        "same composition with Dy and Tb replaced by Nd, predicted by the same models). "
        "Change = member minus neighbour: the heavy rare earth should raise the anisotropy "
        "field Ha and the coercivity proxy Hc and lower Js, at a higher supply risk. The ± is "
        "the member's own uncertainty (not that of the change, which the member and its neighbour "
        "largely share).</p>",
        "<p class='note'><b>How far to trust the Ha and Hc gains.</b> The rare-earth part of the "
        "anisotropy is the textbook second-order single-ion term at 300 K (the 4f multiplet "
        "split by the R-Fe exchange field) with one crystal-field coefficient calibrated on "
        "Nd2Fe14B only (K1 = 4.2 MJ/m3), plus the Fe-sublattice anisotropy of the 2:14:1 "
        "structure (Y2Fe14B). Checked against the cited anisotropy fields, it orders them "
        "right (Tb2Fe14B > Dy2Fe14B > Nd2Fe14B > La2Fe14B) but over-states the heavy rare "
        "earths about twofold (<code>benchmarks/magnet_trends.py</code> prints predicted "
        "against cited values): read the Ha and Hc gains below as upper bounds.</p>",
    ]
    for t in targets or []:
        if t.correction:
            parts.append(f"<p class='muted'>{_e(t.name)}: {_e(t.correction)}.</p>")
    if not len(table):
        parts.append("<p class='muted'>No Pareto-front member holds Dy or Tb.</p></section>")
        return "".join(parts)
    shown = pd.DataFrame({"rank": table["rank"], "formula": table["formula"]})
    shown["Dy/Tb-free neighbour"] = table["free_formula"]
    if "dytb_mass_fraction" in table.columns:
        shown["Dy+Tb mass %"] = 100 * table["dytb_mass_fraction"]
    if "Hc" in table.columns:
        shown["Hc (T)"] = [_fmt_pm(m, s) for m, s in zip(table["Hc"], table["Hc_std"], strict=True)]
    for prop, unit in (("Hc", "T"), ("Ha", "T"), ("Js", "T"), ("Tc", "K")):
        if f"d_{prop}" in table.columns:
            shown[f"change {prop} ({unit})"] = table[f"d_{prop}"]
    shown_props = ("Hc", "Ha", "Js", "Tc", "K1")
    risk = [c for c in table.columns if c.startswith("d_") and c[2:] not in shown_props]
    for col in risk:
        shown[f"change {col[2:]}"] = table[col]
    parts.append(_table(shown, max_rows=20))
    parts.append("<p class='muted'>All rows: <code>dytb_tradeoff.csv</code>.</p></section>")
    return "".join(parts)


def _views(data: ReportData) -> list[dict[str, str]]:
    if data.pareto_views:
        return data.pareto_views
    cols = data.candidate_columns
    y = cols.get("objective")
    if not y:
        return []
    name = y[:-5] if y.endswith("_mean") else y
    return [{"name": name, "y": y, "std": cols.get("std", ""), "front": cols.get("front", "")}]


def _pareto_figure(page: _Page, data: ReportData, view: dict[str, str]) -> str:
    from mi.plots import pareto_front

    pool = data.pareto_pool if data.pareto_pool is not None else data.candidates
    assert pool is not None
    cols = data.candidate_columns
    x = cols.get("risk", "supply_risk")
    y = view["y"]
    name = view.get("name", y)
    fig_name = f"pareto-{name}"
    if y not in pool.columns or x not in pool.columns:
        return page.failed(fig_name, DataError(f"columns {y!r} / {x!r} not in the candidates"))
    color = cols.get("color", "dytb_mass_fraction")
    front = view.get("front") or None
    std = view.get("std") or None
    formula = cols.get("formula", "formula")
    highlight = None
    if "rank" in pool.columns:
        highlight = (pool["rank"] <= 10).to_numpy()
    units = f" ({view['units']})" if view.get("units") else ""
    try:
        fig = pareto_front(
            pool,
            y,
            x=x,
            color=color if color in pool.columns else None,
            front=front if front in pool.columns else None,
            y_std=std if std in pool.columns else None,
            highlight=highlight,
            label_col=formula if formula in pool.columns else None,
            n_labels=5,
            maximize=view.get("maximize", "yes") == "yes",
            ylabel=f"predicted {name}{units}",
            title=f"{name} against {x.replace('_', ' ')} ({len(pool):,} best-ranked candidates)",
        )
    except Exception as exc:  # a figure must never break the report
        return page.failed(fig_name, exc)
    caption = (
        f"Predicted {name} against {x}; colour: {color}. Ringed points joined by the step line "
        f"are the Pareto front of {name} against {x} (no candidate is better in both); error "
        "bars ±1 std on the front; stars: the 10 best-ranked candidates."
    )
    return page.figure(fig, fig_name, caption)


def _models_section(page: _Page, data: ReportData) -> str:
    parts = ["<section id='models'><h2>Surrogate models: cross-validation</h2>"]
    if not data.targets:
        parts.append("<p class='muted'>No cross-validation results in this run.</p></section>")
        return "".join(parts)
    rows = []
    for t in data.targets:
        row: dict[str, Any] = {"target": t.name, "dataset": t.dataset, "model": t.model}
        if t.cv_method:
            row["CV"] = t.cv_method
        if t.n_train is not None:
            row["n train"] = t.n_train
        for k, v in t.metrics.items():
            sd = t.metric_spread.get(k)
            row[k] = v if sd is None or not np.isfinite(sd) else _fmt_pm(v, sd)
        for k, v in t.calibration_summary.items():
            row[_CAL_LABELS.get(k, k)] = v
        rows.append(row)
    parts.append(_table(pd.DataFrame(rows)))
    for t in data.targets:
        parts.append(_target_figures(page, t))
    parts.append("</section>")
    return "".join(parts)


def _short_units(units: str | None) -> str | None:
    """``"T (presumably mu0*Ms; ...)"`` -> ``"T"`` for axis labels (the heading keeps it all)."""
    if not units:
        return None
    return units.split(" (")[0].strip() or units


_CAL_LABELS = {
    "coverage_68": "coverage ±1σ (68 %)",
    "coverage_95": "coverage ±1.96σ (95 %)",
    "miscalibration_area": "miscal. area",
}


def _target_figures(page: _Page, t: TargetReport) -> str:
    from mi.plots import calibration, feature_importance_bar, parity

    figs = []
    unit = f" ({t.units})" if t.units else ""
    short = _short_units(t.units)
    if t.task == "regression" and t.cv_predictions is not None and len(t.cv_predictions):
        cv = t.cv_predictions
        std_col, std_what = None, ""
        if "y_std_calibrated" in cv.columns:
            std_col, std_what = "y_std_calibrated", "predictive std (recalibrated, cross-fit)"
        elif "y_std" in cv.columns:
            std_col, std_what = "y_std", "predictive std"
        try:
            fig = parity(
                cv["y_true"],
                cv["y_pred"],
                cv[std_col] if std_col else None,
                label=t.name,
                units=short,
                metrics={k: v for k, v in t.metrics.items() if k.upper() in ("MAE", "RMSE", "R2")},
                title=f"{t.name}: out-of-fold predictions",
            )
            figs.append(
                page.figure(
                    fig,
                    f"parity-{t.name}",
                    f"Out-of-fold predicted vs observed {t.name}{unit}; "
                    f"{t.cv_method or 'cross-validation'}; error bars ±1 {std_what}.",
                )
            )
        except Exception as exc:
            figs.append(page.failed(f"parity-{t.name}", exc))
    if t.calibration is not None and len(t.calibration):
        try:
            by = "std" if "std" in t.calibration.columns else None
            fig = calibration(t.calibration, by=by, label=t.name, title=f"{t.name}: calibration")
            figs.append(
                page.figure(
                    fig,
                    f"calibration-{t.name}",
                    "Share of held-out values inside the central prediction interval, against "
                    "its nominal level; below the diagonal = over-confident.",
                )
            )
        except Exception as exc:
            figs.append(page.failed(f"calibration-{t.name}", exc))
    if t.feature_importance is not None and len(t.feature_importance):
        try:
            fig = feature_importance_bar(t.feature_importance, top=12, title=f"{t.name}: features")
            figs.append(
                page.figure(fig, f"importance-{t.name}", "Largest feature importances (gain).")
            )
        except Exception as exc:
            figs.append(page.failed(f"importance-{t.name}", exc))
    head = f"<h3>{_e(t.name)}{_e(unit)} · {_e(t.dataset)}</h3>"
    if not figs:
        return head + "<p class='muted'>No out-of-fold predictions recorded.</p>"
    return head + "<div class='figs'>" + "".join(figs) + "</div>"


def _discovery_section(page: _Page, data: ReportData) -> str:
    from mi.plots import discovery_curves

    parts = ["<section id='discovery'><h2>Retrospective benchmark</h2>"]
    try:
        fig = discovery_curves(data.discovery)  # type: ignore[arg-type]
        parts.append(
            "<div class='figs'>"
            + page.figure(fig, "discovery", "Campaign strategies against random selection.")
            + "</div>"
        )
    except Exception as exc:
        parts.append(page.failed("discovery", exc))
    parts.append("</section>")
    return "".join(parts)


def _criticality_section(page: _Page, data: ReportData) -> str:
    table = data.element_criticality
    if table is None or not len(table):
        return ""
    from mi.plots import element_criticality_heatmap

    info = data.extra.get("criticality") or {}
    title = (
        f"Element supply risk as of {info['as_of']}" if info.get("as_of") else "Element supply risk"
    )
    parts = [f"<section id='criticality'><h2>{_e(title)}</h2>"]
    parts.append(_criticality_facts(info))
    column = "supply_risk" if "supply_risk" in table.columns else table.columns[-1]
    try:
        fig = element_criticality_heatmap(table, column, title=None)
        parts.append(
            "<div class='figs'>"
            + page.figure(
                fig,
                "element-criticality",
                f"Element {column.replace('_', ' ')} used to score candidates (grey: no data).",
                wide=True,
            )
            + "</div>"
        )
    except Exception as exc:
        parts.append(page.failed("element-criticality", exc))
    parts.append("</section>")
    return "".join(parts)


def _criticality_facts(info: dict[str, Any]) -> str:
    """Date, tables, unverified elements and the measures on the candidates' elements."""
    if not info:
        return ""
    tables = ", ".join(f"{role}: {name}" for role, name in (info.get("tables") or {}).items())
    out = [f"<p>Scored as of {_e(str(info.get('as_of')))}; tables {_e(tables)}.</p>"]
    if info.get("unverified_elements"):
        out.append(
            "<p>Resting on status the tables mark NOT VERIFIED (counted as in force): "
            f"{_e(', '.join(info['unverified_elements']))}.</p>"
        )
    lines = info.get("measures") or []
    if lines:
        items = "".join(f"<li>{_e(line)}</li>" for line in lines)
        out.append(f"<p>Export measures on the candidates' elements:</p><ul>{items}</ul>")
    else:
        out.append("<p>No export measure recorded on the candidates' elements.</p>")
    return "".join(out)


def _data_section(reports: list[DataReport]) -> str:
    parts = ["<section id='data'><h2>Data: what was read and what was rejected</h2>"]
    if not reports:
        parts.append("<p class='muted'>No dataset summary recorded.</p></section>")
        return "".join(parts)
    summary = pd.DataFrame(
        [
            {
                "dataset": r.name,
                "rows read": r.n_input if r.n_input is not None else "–",
                "rows used": r.n_accepted if r.n_accepted is not None else "–",
                "rows rejected": len(r.rejected)
                if r.rejected is not None
                else (r.n_rejected if r.n_rejected is not None else "–"),
                "licence": r.licence,
            }
            for r in reports
        ]
    )
    parts.append(_table(summary))
    for r in reports:
        if r.rejected is None or not len(r.rejected):
            continue
        parts.append(f"<h3>{_e(r.name)}: rejected rows by reason</h3>")
        if "reason" in r.rejected.columns:
            counts = (
                r.rejected["reason"].astype(str).value_counts().rename_axis("reason").reset_index()
            )
            parts.append(_table(counts, max_rows=20))
        parts.append("<details><summary>first rejected rows</summary>")
        parts.append(_table(r.rejected, max_rows=20))
        parts.append("</details>")
    for r in reports:
        parts.append(_audit_block(r))
    parts.append("</section>")
    return "".join(parts)


def _audit_block(r: DataReport) -> str:
    """Label audit of one dataset: counts per rule and the first labels changed or dropped."""
    counts = pd.DataFrame(r.audit_counts)
    if counts.empty and r.audit is not None and len(r.audit):
        from mi.data.audit import audit_counts

        counts = audit_counts(r.audit)
    if counts.empty:
        return ""
    parts = [f"<h3>{_e(r.name)}: label audit</h3>"]
    if r.audit is not None and len(r.audit) and "action" in r.audit.columns:
        n_changed = int((r.audit["action"] == "changed").sum())
        n_dropped = int((r.audit["action"] == "dropped").sum())
        parts.append(
            f"<p>{n_changed:,} labels changed and {n_dropped:,} dropped by the rules of the "
            "dataset manifest (dropped labels are among the rejected rows above). Per rule: "
            "labels it changed or dropped, and single values it removed.</p>"
        )
    counts = counts.rename(columns={"values_dropped": "single values removed"})
    parts.append(_table(counts, max_rows=50))
    if r.audit is not None and len(r.audit):
        shown = [
            c
            for c in ("composition", "target", "action", "rule", "raw_median", "label", "reason")
            if c in r.audit.columns
        ]
        order = r.audit.assign(
            _move=(r.audit.get("label", np.nan) - r.audit.get("raw_median", np.nan)).abs()
        ).sort_values("_move", ascending=False, na_position="first")
        parts.append("<details><summary>labels changed or dropped (largest moves first)</summary>")
        parts.append(_table(order[shown], max_rows=30))
        parts.append("</details>")
    return "".join(parts)


def _provenance_section(data: ReportData) -> str:
    parts = ["<section id='provenance'><h2>Provenance</h2>"]
    hashes = [
        {"dataset": r.name, "file": f, "sha256": h, "source": r.source}
        for r in data.data
        for f, h in r.sha256.items()
    ]
    if hashes:
        parts.append("<h3>Dataset files</h3>")
        parts.append(_table(pd.DataFrame(hashes)))
    cites = [(r.name, r.citation) for r in data.data if r.citation]
    if cites:
        parts.append("<h3>Cite the data</h3>")
        parts.append(_kv_table(cites))
    extra = [
        (k, json.dumps(v, default=str) if isinstance(v, dict | list) else v)
        for k, v in data.extra.items()
        if v
    ]
    if extra:
        parts.append("<h3>Run</h3>")
        parts.append(_kv_table(extra))
    if data.versions:
        parts.append("<h3>Versions</h3>")
        parts.append(_kv_table(data.versions.items()))
    if data.timings:
        parts.append("<h3>Time per stage (s)</h3>")
        parts.append(_kv_table((k, round(float(v), 2)) for k, v in data.timings.items()))
    if data.spec is not None:
        parts.append("<details><summary>workflow spec</summary><pre>")
        parts.append(_e(json.dumps(data.spec, indent=2, sort_keys=False, default=str)))
        parts.append("</pre></details>")
    parts.append("</section>")
    return "".join(parts)
