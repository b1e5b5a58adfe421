"""``mi criticality``: supply-risk scores of formulas, and the list of criticality tables."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["register"]

#: (column, header, format) of the default table view.
_VIEW = (
    ("hree_atomic_fraction", "HREE at%", "pct"),
    ("hree_mass_fraction", "HREE wt%", "pct"),
    ("dytb_mass_fraction", "Dy+Tb wt%", "pct"),
    ("eu_critical_mass_fraction", "EU-crit wt%", "pct"),
    ("hhi_production_mass", "HHI prod (wt)", "int"),
    ("hhi_production_atomic", "HHI prod (at)", "int"),
    ("hhi_reserve_mass", "HHI res (wt)", "int"),
    ("cost_per_kg", "cost/kg", "money"),
    ("supply_risk", "supply risk", "risk"),
)


def _fmt(value: float, kind: str) -> str:
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NaN"
    if kind == "pct":
        return f"{100 * value:.2f}"
    if kind == "int":
        return f"{value:.0f}"
    if kind == "money":
        return f"{value:.4g}"
    return f"{value:.3f}"


def _parse_weights(items: list[str]) -> dict[str, float] | None:
    from mi.exceptions import DataError

    if not items:
        return None
    weights: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            weights[key.strip()] = float(value)
        except ValueError:
            raise DataError(
                f"--weight expects COMPONENT=NUMBER (e.g. --weight dytb=0.5); got {item!r}."
            ) from None
    return weights


def _print_list() -> None:
    from rich.table import Table

    from mi.cli._console import make_console
    from mi.criticality import data_dir, list_tables

    frame = list_tables()
    table = Table(title="Criticality tables (mi.criticality)", show_lines=True)
    for col in ("name", "year", "kind", "rows", "source"):
        table.add_column(col, overflow="fold", max_width=None if col != "source" else 70)
    for row in frame.itertuples(index=False):
        table.add_row(row.name, row.year, row.kind, str(row.rows), row.source)
    console = make_console()
    console.print(table)
    console.print(f"Files, citations and caveats: {data_dir()} (README.md, SHA256SUMS)")


def criticality(
    formulas: Annotated[
        list[str] | None,
        typer.Argument(help="Formulas to score, e.g. Nd2Fe14B '(Nd0.8Dy0.2)2Fe14B' Ce2Fe14B."),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the tables with source and year.")
    ] = False,
    show: Annotated[
        str | None,
        typer.Option("--table", help="Describe one table: source, year, units, caveats."),
    ] = None,
    convention: Annotated[
        str, typer.Option("--convention", help="HREE convention: eu_2023, usgs or gd_heavy.")
    ] = "eu_2023",
    weight: Annotated[
        list[str] | None,
        typer.Option(
            "--weight",
            help="Supply-risk weight COMPONENT=NUMBER (repeatable; replaces the defaults). "
            "Components: dytb, hree, eu_critical, hhi_production, hhi_reserve, "
            "usgs_critical, doe_critical.",
        ),
    ] = None,
    output: Annotated[
        str, typer.Option("--format", help="Output: table (default), csv (all columns) or json.")
    ] = "table",
) -> None:
    """Score FORMULAS for supply risk (HREE, Dy+Tb, EU-critical, HHI, cost) or list tables."""
    from mi.exceptions import DataError

    if list_:
        _print_list()
        return
    if show is not None:
        from mi.criticality import get_table

        typer.echo(get_table(show).describe())
        return
    if not formulas:
        raise DataError(
            "Give at least one formula (e.g. mi criticality Nd2Fe14B), --list or --table NAME."
        )
    if output not in ("table", "csv", "json"):
        raise DataError(f"--format must be table, csv or json; got {output!r}.")

    from mi.criticality import score

    frame = score(formulas, weights=_parse_weights(weight or []), hree_convention=convention)
    if output == "csv":
        typer.echo(frame.to_csv(index=False), nl=False)
        return
    if output == "json":
        typer.echo(frame.to_json(orient="records", indent=2))
        return

    from rich.table import Table

    from mi.cli._console import make_console

    table = Table(title="Criticality scores (fractions in %)")
    table.add_column("composition", no_wrap=True)
    for _, header, _ in _VIEW:
        table.add_column(header, justify="right")
    has_missing = bool((frame["missing_elements"] != "").any())
    if has_missing:
        table.add_column("missing (NaN, not imputed)")
    for i in range(len(frame)):
        cells = [str(frame["composition"].iloc[i])]
        cells += [_fmt(frame[col].iloc[i], kind) for col, _, kind in _VIEW]
        if has_missing:
            cells.append(str(frame["missing_elements"].iloc[i]))
        table.add_row(*cells)
    console = make_console()
    console.print(table)
    attrs = frame.attrs
    console.print(
        f"HREE convention: {attrs['hree_convention']} ({', '.join(attrs['hree_elements'])})"
    )
    console.print(f"supply_risk = {attrs['supply_risk_formula']}")
    tables = attrs["tables"]
    console.print(
        "tables: "
        + ", ".join(f"{t['name']} ({t['year']})" for t in tables.values())
        + "; cost in the price table's currency per kg (USD presumed)"
    )


def register(app: typer.Typer) -> None:
    """Add ``mi criticality`` to the root app."""
    app.command("criticality")(criticality)
