"""``mi campaign``: init a campaign folder, suggest a batch, record lab results, show status."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["register"]

campaign_app = typer.Typer(
    name="campaign",
    help="Active-learning campaigns that keep their state in a folder (resumable).",
    no_args_is_help=True,
)

_SHOW = (
    ("rank", "#", "{:d}"),
    ("composition", "composition", "{}"),
    ("predicted_mean", "mean", "{:.4g}"),
    ("predicted_std", "std", "{:.3g}"),
    ("acquisition", "acq", "{:.3g}"),
    ("supply_risk", "supply risk", "{:.3f}"),
    ("dytb_mass_fraction", "Dy+Tb wt%", "pct"),
)


def _cell(value: Any, fmt: str) -> str:
    import math

    if isinstance(value, float) and math.isnan(value):
        return "-"
    if fmt == "pct":
        return f"{100 * float(value):.2f}"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


@campaign_app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="Campaign folder to create.")],
    spec: Annotated[Path, typer.Option("--spec", help="Campaign spec (TOML or JSON).")],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing campaign.")] = False,
) -> None:
    """Create a campaign: build, score and featurize the candidate pool."""
    from mi.active import Campaign

    campaign = Campaign.init(directory, spec, overwrite=overwrite)
    st = campaign.status()
    typer.echo(
        f"Created campaign {st['campaign_id']} in {directory}: {st['n_pool']} candidates, "
        f"{st['n_feasible']} feasible, {st['n_observed']} initial results."
    )
    for rule in st["constraints"]:
        typer.echo(f"  constraint {rule['constraint']}: removed {rule['removed']}")
    if "initial_report" in st:
        r = st["initial_report"]
        reasons = "; ".join(f"{k}: {v}" for k, v in r["rejected_reasons"].items())
        typer.echo(
            f"  initial results {r['file']}: {r['n_input']} rows, {r['n_accepted']} accepted, "
            f"{r['n_filtered']} filtered, {r['n_rejected']} rejected"
            + (f" ({reasons})" if reasons else "")
            + f", {r['n_merged_groups']} replicate groups merged -> {r['n_results']} results"
        )


@campaign_app.command("suggest")
def suggest(
    directory: Annotated[Path, typer.Argument(help="Campaign folder.")],
    n: Annotated[int, typer.Option("-n", "--n", help="Batch size.")] = 8,
    out: Annotated[
        Path | None, typer.Option(help="CSV to write (default DIR/suggestions/iteration-NNNN.csv).")
    ] = None,
) -> None:
    """Suggest the next batch; write it as a CSV for the lab to fill in the target column."""
    import warnings

    from rich.table import Table

    from mi.active import Campaign
    from mi.cli._console import make_console
    from mi.exceptions import MIWarning

    campaign = Campaign(directory)
    with warnings.catch_warnings():  # the reason for a short batch is printed below, once
        warnings.simplefilter("ignore", MIWarning)
        table = campaign.suggest(n)
    iteration = int(table["iteration"].iloc[0])
    if out is None:
        out = directory / "suggestions" / f"iteration-{iteration:04d}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    view = Table(title=f"{campaign.campaign_id}: iteration {iteration}")
    show = list(_SHOW)
    if campaign.spec.objectives:  # one mean/std pair per measured objective, and the weights
        per_target = [
            spec
            for t in campaign.spec.targets
            for spec in ((f"{t}_mean", t, "{:.4g}"), (f"{t}_std", "±", "{:.3g}"))
        ]
        show = [show[0], show[1], *per_target, ("weights", "weights", "{}"), *show[4:]]
    cols = [c for c in show if c[0] in table]
    for col, header, _ in cols:
        view.add_column(header, overflow="fold", no_wrap=col != "composition")
    for row in table.itertuples(index=False):
        view.add_row(*(_cell(getattr(row, c), fmt) for c, _, fmt in cols))
    make_console().print(view)
    if "shortfall" in table.attrs:
        typer.secho(table.attrs["shortfall"], fg=typer.colors.YELLOW, err=True)
    typer.echo(
        f"Wrote {out}. Fill in the {' and '.join(map(repr, campaign.spec.targets))} "
        f"column{'s' if len(campaign.spec.targets) > 1 else ''}, then run "
        f"`mi campaign observe {directory} {out}`."
    )


@campaign_app.command("observe")
def observe(
    directory: Annotated[Path, typer.Argument(help="Campaign folder.")],
    results: Annotated[Path, typer.Argument(help="CSV with composition and target columns.")],
) -> None:
    """Record measured results (all rows or none)."""
    from mi.active import Campaign

    campaign = Campaign(directory)
    accepted = campaign.observe(results)
    st = campaign.status()
    typer.echo(
        f"Recorded {len(accepted)} results; {st['n_observed']} in total, "
        f"{st['n_pending']} suggestions pending."
    )


@campaign_app.command("status")
def status(
    directory: Annotated[Path, typer.Argument(help="Campaign folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show counts, the best results and the last steps."""
    import json

    from mi.active import Campaign
    from mi.chem.display import display_formula

    st = Campaign(directory).status()
    if as_json:
        typer.echo(json.dumps(st, indent=2, default=str))
        return
    typer.echo(f"campaign      {st['campaign_id']} ({st['name']})")
    if "objectives" in st:
        goals = ", ".join(f"{o['direction']} {o['name']}" for o in st["objectives"])
        typer.echo(f"objectives    {goals} (qParEGO: random Chebyshev scalarisations)")
    else:
        typer.echo(f"objective     {st['direction']} {st['target']} with {st['acquisition']}")
    typer.echo(
        f"pool          {st['n_pool']} candidates, {st['n_feasible']} feasible"
        + "".join(f"; {r['constraint']} removed {r['removed']}" for r in st["constraints"])
    )
    typer.echo(
        f"progress      iteration {st['iteration']}, {st['n_observed']} observed, "
        f"{st['n_pending']} pending"
    )
    for key in ("best", "best_feasible"):
        if key in st:
            b = st[key]
            typer.echo(
                f"{key.replace('_', ' '):<13} {display_formula(b['composition'])}  "
                f"{st['target']} = "
                f"{b[st['target']]:.4g} "
                f"(iteration {b['iteration']})"
            )

    front = st.get("pareto_front", [])
    if front and "objectives" in st:
        names = [o["name"] for o in st["objectives"]]
        typer.echo(f"Pareto front of the feasible results ({', '.join(names)}; {len(front)}):")
        for p in front:
            typer.echo(
                f"  {display_formula(p['composition']):<34} "
                + "  ".join(f"{k} = {p[k]:<8.4g}" for k in names)
            )
    elif front:
        risk = next(k for k in front[0] if k not in ("composition", st["target"]))
        typer.echo(f"Pareto front ({st['target']} vs {risk}, {len(front)} points):")
        for p in front:
            typer.echo(
                f"  {display_formula(p['composition']):<32} "
                f"{st['target']} = {p[st['target']]:<10.4g} "
                f"{risk} = {p[risk]:.3f}"
            )


def register(app: typer.Typer) -> None:
    """Add ``mi campaign ...`` to the root app."""
    app.add_typer(campaign_app, name="campaign")
