"""``mi criticality``: supply-risk scores of formulas, and the list of criticality tables."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["register"]

#: (column, header, format) of the default table view: fractions, then the risk components.
_VIEW = (
    ("hree_mass_fraction", "HREE wt%", "pct"),
    ("dytb_mass_fraction", "Dy+Tb wt%", "pct"),
    ("hhi_production_mass", "HHI prod (wt)", "int"),
    ("export_control", "export ctrl", "risk"),
    ("list_membership", "lists", "risk"),
    ("concentration", "concentr.", "risk"),
    ("price_level", "price lvl", "risk"),
    ("price_volatility", "price vol", "risk"),
    ("supply_risk", "supply risk", "risk"),
    ("risk_gap", "gap (+)", "risk"),
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


def _print_list(as_of: str | None, model: str | None) -> None:
    from rich.table import Table

    from mi.cli._console import make_console
    from mi.criticality import data_dir, list_tables, load_risk_model, parse_as_of

    risk_model = load_risk_model(model)
    date = parse_as_of(as_of, risk_model)
    in_force = {}
    for edition in risk_model.editions:
        current = risk_model.edition(edition.role, date)
        if current is not None:
            in_force[current.table] = f"{edition.role} from {current.start.isoformat()}"
    frame = list_tables()
    table = Table(title=f"Criticality tables (mi.criticality) as of {date}", show_lines=True)
    for col in ("name", "year", "kind", "rows", f"used on {date}", "source"):
        table.add_column(col, overflow="fold", max_width=None if col != "source" else 60)
    for row in frame.itertuples(index=False):
        used = in_force.get(row.name, "")
        if row.name == "prices_2025_2026" or row.name == "price":
            used = f"prices (latest USD, at most {risk_model.max_age_days} days old)"
        table.add_row(row.name, row.year, row.kind, str(row.rows), used, row.source)
    console = make_console()
    console.print(table)
    console.print(
        f"as of {date}: supply-risk model {risk_model.path.name} "
        f"(weights {', '.join(f'{k}={v:g}' for k, v in risk_model.weights.items())}); "
        f"tables compiled {risk_model.tables_compiled}"
    )
    console.print(
        f"Files, citations and caveats: {data_dir()} "
        "(README.md, README-2026-12.md, README-supply-risk.md, SHA256SUMS*)"
    )


def _measure_lines(formulas: list[str], as_of: str, model: str | None) -> list[str]:
    """Per formula, the export measures on its elements (state on the date and their row).

    Element-specific measures are scored; group-level rows on its rare earths (all rare earths,
    raw rare-earth ores) are named on a second line and are not scored.
    """
    from mi.criticality import load_risk_model, measures

    risk_model = load_risk_model(model)
    lines = []
    for formula, elements in zip(formulas, _row_elements(formulas), strict=True):
        table = measures(as_of, elements, include_groups=True, model=risk_model)
        own = table[table["group"].isna() & table["symbol"].isin(set(elements))]
        groups = table[table["group"].notna() & table["symbol"].isin(set(elements))]
        if own.empty:
            lines.append(f"{formula}: no element-specific export measure on its elements")
        else:
            parts = [
                f"{r.symbol}: {r.label} ({r.measure}; {r.evidence}; {r.source})"
                for r in own.itertuples(index=False)
            ]
            lines.append(f"{formula}: " + "; ".join(parts))
        if not groups.empty:
            seen = dict.fromkeys(
                f"{r.measure} [{r.state.replace('_', ' ')}; {r.source}]"
                for r in groups.itertuples(index=False)
            )
            rare = ", ".join(sorted(set(groups["symbol"])))
            lines.append(
                f"    group-level rows on its rare earths ({rare}; listed, not scored): "
                + "; ".join(seen)
            )
    return lines


def criticality(
    formulas: Annotated[
        list[str] | None,
        typer.Argument(help="Formulas to score, e.g. Nd2Fe14B '(Nd0.8Dy0.2)2Fe14B' Ce2Fe14B."),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the tables with source, year and use on --as-of.")
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
            "Components: export_control, list_membership, concentration, price_level, "
            "price_volatility, dytb, hree, eu_critical, hhi_production, hhi_reserve, "
            "usgs_critical, doe_critical.",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date the risk is computed for, YYYY-MM-DD (default today)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Supply-risk model TOML (default: the shipped one)."),
    ] = None,
    output: Annotated[
        str, typer.Option("--format", help="Output: table (default), csv (all columns) or json.")
    ] = "table",
    elements: Annotated[
        bool,
        typer.Option(
            "--elements",
            help="Read the arguments as element symbols and show each element's components "
            "with the table row (file:line) and evidence of every value.",
        ),
    ] = False,
) -> None:
    """Score FORMULAS for supply risk as of a date (components, measures) or list tables."""
    from mi.exceptions import DataError

    if list_:
        _print_list(as_of, model)
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

    if elements:
        _print_elements(formulas, as_of, model, output)
        return

    from mi.criticality import score

    frame = score(
        formulas,
        weights=_parse_weights(weight or []),
        hree_convention=convention,
        as_of=as_of,
        risk_model=model,
    )
    if output == "csv":
        typer.echo(frame.to_csv(index=False), nl=False)
        return
    if output == "json":
        typer.echo(frame.to_json(orient="records", indent=2))
        return

    from rich.table import Table

    from mi.cli._console import make_console

    attrs = frame.attrs
    table = Table(title=f"Supply risk as of {attrs['as_of']} (fractions in %)")
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
    console.print(
        f"HREE convention: {attrs['hree_convention']} ({', '.join(attrs['hree_elements'])})"
    )
    console.print(f"supply_risk = {attrs['supply_risk_formula']} (as of {attrs['as_of']})")
    tables = attrs["tables"]
    dated = attrs["dated_tables"]
    console.print(
        "tables: "
        + ", ".join(f"{t['name']} ({t['year']})" for t in tables.values())
        + f"; as of {attrs['as_of']}: "
        + ", ".join(f"{role} {name}" for role, name in dated.items())
    )
    console.print(f"Export measures as of {attrs['as_of']}:")
    for line in _measure_lines(list(frame["composition"]), attrs["as_of"], model):
        console.print(f"  {line}", highlight=False, markup=False)
    unverified = sorted(
        {e for text in frame["unverified_elements"] if text for e in text.split(", ")}
    )
    if unverified:
        console.print(
            f"Resting on NOT VERIFIED status (suspension ended, later status not found; "
            f"counted as in force): {', '.join(unverified)}"
        )
    present = {e for row in _row_elements(list(frame["composition"])) for e in row}
    for component, without in attrs["gaps"].items():
        lacking = [e for e in without if e in present]
        if lacking:
            console.print(
                f"gap: no {component.replace('_', ' ')} for {', '.join(lacking)} "
                "(counted 0; the risk could be higher by the gap column)"
            )
    for note in attrs["notes"]:
        console.print(f"note: {note}")


_ELEMENT_VIEW = (
    ("export_control", "export ctrl"),
    ("list_membership", "lists"),
    ("concentration", "concentr."),
    ("price_level", "price lvl"),
    ("price_volatility", "price vol"),
    ("risk", "risk"),
    ("risk_gap", "gap (+)"),
)
_TRACE = (
    ("export_control", "export_measure"),
    ("list_membership", None),
    ("concentration", None),
    ("price_level", "price_basis"),
    ("price_volatility", "volatility_basis"),
)


def _print_elements(symbols: list[str], as_of: str | None, model: str | None, output: str) -> None:
    """Per-element components with the source row and evidence of every value."""
    from rich.table import Table

    from mi.chem import ELEMENTS
    from mi.cli._console import make_console
    from mi.criticality import element_risk
    from mi.exceptions import FormulaError, did_you_mean

    for symbol in symbols:
        if symbol not in ELEMENTS:
            hint = did_you_mean(symbol, ELEMENTS)
            raise FormulaError(f"--elements: {symbol!r} is not an element symbol.{hint}")
    risk = element_risk(as_of, model)
    frame = risk.frame.loc[symbols]
    if output == "csv":
        typer.echo(frame.reset_index().to_csv(index=False), nl=False)
        return
    if output == "json":
        typer.echo(frame.reset_index().to_json(orient="records", indent=2))
        return
    table = Table(title=f"Element supply risk as of {risk.as_of} (each component in [0, 1])")
    table.add_column("element")
    for _, header in _ELEMENT_VIEW:
        table.add_column(header, justify="right")
    table.add_column("unverified")
    for symbol, row in frame.iterrows():
        cells = [str(symbol)] + [_fmt(row[col], "risk") for col, _ in _ELEMENT_VIEW]
        table.add_row(*cells, "yes" if row["unverified"] else "")
    console = make_console()
    console.print(table)
    console.print("Where each value comes from (file:line; evidence):")
    for symbol, row in frame.iterrows():
        for component, detail in _TRACE:
            value = row[component]
            source = row[f"{component}_source"] or "no row (0 or gap)"
            extra = f" [{row[detail]}]" if detail and row[detail] else ""
            console.print(
                f"  {symbol} {component} = {_fmt(value, 'risk')}{extra}: {source}; "
                f"{row[f'{component}_evidence'] or '-'}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
    for note in risk.notes:
        console.print(f"note: {note}")


def _row_elements(formulas: list[str]) -> list[list[str]]:
    """Element symbols of each formula (in order of Z); empty for an invalid formula."""
    from mi.chem import ELEMENTS, parse_formulas

    csr = parse_formulas(formulas, on_error="nan").to_csr()
    return [
        [ELEMENTS[j] for j in csr.indices[csr.indptr[i] : csr.indptr[i + 1]]]
        for i in range(csr.shape[0])
    ]


def register(app: typer.Typer) -> None:
    """Add ``mi criticality`` to the root app."""
    app.command("criticality")(criticality)
