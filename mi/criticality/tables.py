"""Registry of dated, cited element tables (supply risk, criticality lists, prices).

Each table is a CSV file that starts with a block of ``#`` lines (title, sources, licence,
method, columns) followed by a header row and one row per element (or per listed material),
with a ``symbol`` column naming the element. The tables shipped with ``mi`` live in
``mi/_data/criticality`` and are the public lists compiled in ``../shared/criticality``
(see the ``README.md`` shipped next to them); their citations and notes are kept unchanged.

An empty cell means *unknown* (not assessed, not found, not applicable) and stays missing:
:meth:`CriticalityTable.values` returns ``NaN`` there, never a guessed or averaged value.

Two kinds of element table exist:

``"element"``
    The table covers a range of elements row by row (``hhi_2013`` covers Z = 1..94). An element
    without a row is *missing* (NaN).
``"list"``
    The table *is* a list (the USGS 2022 list of 50 critical minerals, the 17 rare earths): an
    element without a row is not on the list, so its membership flags are ``False`` (0.0). Other
    columns of an absent element are still missing (NaN).

``"material"`` tables (``eu_crm_2023_materials``) hold one row per raw material and are not
mapped to elements; they are shipped for reference and can be read with
:meth:`CriticalityTable.to_frame`.

Examples
--------
>>> from mi.criticality import get_table, list_tables
>>> table = get_table("hhi_2013")
>>> table.year
'2013'
>>> float(table.values("hhi_production")[25])  # Fe (Z = 26)
2400.0
>>> list_tables()["name"].tolist()[:2]
['hhi_2013', 'eu_crm_2023']
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from mi.chem import ELEMENTS
from mi.exceptions import ChecksumError, RegistryKeyError, TableError

__all__ = [
    "CriticalityTable",
    "TableKind",
    "data_dir",
    "get_table",
    "list_tables",
    "parse_header",
    "register_table",
    "unregister_table",
    "verify_checksums",
]

TableKind = Literal["element", "list", "material"]

_SYMBOL_TO_INDEX = {symbol: j for j, symbol in enumerate(ELEMENTS)}
_KEY_RE = re.compile(r"^# ?([a-z][A-Za-z0-9 _/()<>=,.-]*?):(?:\s+(.*))?$")
_BOOL_STRINGS = {"true": True, "false": False}


def data_dir() -> Path:
    """Return the folder of the shipped criticality tables (``mi/_data/criticality``).

    Returns
    -------
    pathlib.Path
        Folder holding the CSV files, ``README.md`` and ``SHA256SUMS``.
    """
    return Path(str(resources.files("mi").joinpath("_data", "criticality")))


def parse_header(lines: Iterable[str]) -> dict[str, str]:
    """Parse a ``#`` header block into ``{key: text}``.

    A line ``# key: value`` (key in lower case, right after ``# ``) opens a field; the following
    ``#`` lines that do not open a field (indented continuations, ``# [S1] ...`` citations) are
    appended to it. Lines that are not comments are ignored.

    Parameters
    ----------
    lines : iterable of str
        Lines of the file (with or without newlines).

    Returns
    -------
    dict of str to str
        Field name to text, whitespace collapsed, in file order.

    Examples
    --------
    >>> parse_header(["# title: Prices", "#   per kg", "# year: 2013", "symbol,price"])
    {'title': 'Prices per kg', 'year': '2013'}
    """
    fields: dict[str, list[str]] = {}
    current: str | None = None
    for raw in lines:
        line = raw.rstrip("\n\r")
        if not line.startswith("#"):
            continue
        match = _KEY_RE.match(line)
        if match and not line.startswith("#  "):
            current = match.group(1).strip()
            fields.setdefault(current, []).append(match.group(2) or "")
        elif current is not None:
            fields[current].append(line.lstrip("#").strip())
    return {key: " ".join(part for part in parts if part).strip() for key, parts in fields.items()}


def _read_csv_with_header(path: Path) -> tuple[dict[str, str], pd.DataFrame, list[int]]:
    """Read a ``#``-commented CSV; return (header fields, frame, file line number of each row)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TableError(
            f"Criticality table file {str(path)!r} does not exist; give the path of a CSV file."
        ) from exc
    except UnicodeDecodeError as exc:
        raise TableError(f"Criticality table {str(path)!r} is not UTF-8 text: {exc}.") from exc
    lines = text.splitlines()
    header = parse_header(lines)
    body = [(i + 1, line) for i, line in enumerate(lines) if not line.startswith("#") and line]
    if not body:
        raise TableError(f"Criticality table {str(path)!r} has no header row and no data rows.")
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(line for _, line in body)),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise TableError(f"Criticality table {str(path)!r} is not a valid CSV file: {exc}") from exc
    # Line numbers of the data rows (the first body line is the column header); a quoted field
    # spanning lines would shift them, so fall back to "data row k" in that case.
    line_numbers = [n for n, _ in body[1:]]
    if len(line_numbers) != len(frame):
        line_numbers = list(range(1, len(frame) + 1))
    return header, frame, line_numbers


def _convert_column(series: pd.Series) -> pd.Series:
    """Turn a column of strings into float (numbers), bool-or-NaN (true/false) or str."""
    present = series.dropna()
    if len(present) and present.str.lower().isin(list(_BOOL_STRINGS)).all():
        return series.map(lambda v: v if pd.isna(v) else _BOOL_STRINGS[v.lower()]).astype(object)
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.notna().sum() == series.notna().sum():
        return numbers.astype(np.float64)
    return series


@dataclass(frozen=True, eq=False)
class CriticalityTable:
    """One element table with its source document, year, units and caveats.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"hhi_2013"``.
    path : pathlib.Path
        CSV file (``#`` header block, then a header row with a ``symbol`` column).
    source : str
        The source document(s), as a short citation.
    year : str
        Year (or range of years, ``"2013-2020"``) the values refer to.
    kind : {"element", "list", "material"}
        How absent elements are read (see the module docstring).
    units : mapping of str to str
        Units per value column; columns not named are dimensionless or categorical.
    caveats : tuple of str
        Known limitations a user must read before publishing a number based on the table.
    description : str
        One line saying what the table holds (defaults to the header's ``title``).

    Notes
    -----
    The file is read and validated lazily on first use (:meth:`validate` forces it):
    unknown element symbols, duplicate symbols and a ``Z`` column that disagrees with the
    symbol raise :class:`~mi.exceptions.TableError` naming the file, line and value.
    """

    name: str
    path: Path
    source: str
    year: str
    kind: TableKind = "element"
    units: Mapping[str, str] = field(default_factory=dict)
    caveats: tuple[str, ...] = ()
    description: str = ""

    # ------------------------------------------------------------------ reading
    @cached_property
    def _parsed(self) -> tuple[dict[str, str], pd.DataFrame, list[int]]:
        _verify_if_shipped(self.path)
        header, raw, line_numbers = _read_csv_with_header(self.path)
        where = f"criticality table {self.name!r} ({self.path})"
        if self.kind != "material":
            if "symbol" not in raw.columns:
                raise TableError(
                    f"The {where} has no 'symbol' column (columns: {', '.join(raw.columns)}); "
                    "add a column 'symbol' with one element symbol per row."
                )
            seen: dict[str, int] = {}
            for line, symbol in zip(line_numbers, raw["symbol"], strict=True):
                if pd.isna(symbol):
                    if self.kind == "element":
                        raise TableError(
                            f"The {where} has an empty 'symbol' at line {line}; every row of an "
                            "element table must name its element."
                        )
                    continue  # list tables may hold unmapped materials (DOE electrical steel)
                if symbol not in _SYMBOL_TO_INDEX:
                    raise TableError(
                        f"The {where} names an unknown element symbol {symbol!r} at line {line}; "
                        "use a symbol of Z = 1..103 with its exact capitalisation (e.g. 'Dy')."
                    )
                if symbol in seen:
                    raise TableError(
                        f"The {where} lists element {symbol!r} twice (lines {seen[symbol]} and "
                        f"{line}); keep one row per element."
                    )
                seen[symbol] = line
            if "Z" in raw.columns:
                for line, symbol, z in zip(line_numbers, raw["symbol"], raw["Z"], strict=True):
                    if pd.isna(symbol) or pd.isna(z):
                        continue
                    if str(_SYMBOL_TO_INDEX[symbol] + 1) != str(z).strip():
                        raise TableError(
                            f"The {where} gives Z={z!r} for {symbol!r} at line {line}, but "
                            f"{symbol} has Z={_SYMBOL_TO_INDEX[symbol] + 1}; fix the row."
                        )
        frame = raw.apply(_convert_column)
        frame.attrs = {"table": self.name, "source": self.source, "year": self.year}
        return header, frame, line_numbers

    def validate(self) -> CriticalityTable:
        """Read and check the file now (instead of on first use); return ``self``."""
        _ = self._parsed
        return self

    @property
    def header(self) -> dict[str, str]:
        """The parsed ``#`` header block (``title``, ``licence``, ``method``, ``columns`` ...)."""
        return dict(self._parsed[0])

    @property
    def title(self) -> str:
        """Title from the header block (or the description when the file has none)."""
        return self._parsed[0].get("title", self.description or self.name)

    @property
    def columns(self) -> list[str]:
        """Column names of the table."""
        return list(self._parsed[1].columns)

    @property
    def n_rows(self) -> int:
        """Number of data rows."""
        return len(self._parsed[1])

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the table as a DataFrame (empty cells are NaN/None, never filled).

        Returns
        -------
        pandas.DataFrame
            One row per file row; ``true``/``false`` columns hold Python bools (or NaN),
            numeric columns float64, the rest strings.
        """
        frame = self._parsed[1].copy()
        frame.attrs = dict(self._parsed[1].attrs)
        return frame

    @property
    def line_numbers(self) -> list[int]:
        """File line number (1-based, comment lines counted) of each data row, in order."""
        return list(self._parsed[2])

    def line_of(self, symbol: str) -> int | None:
        """File line number of ``symbol``'s row (first row naming it), or None when absent.

        Parameters
        ----------
        symbol : str
            Element symbol.

        Returns
        -------
        int or None
            1-based line number in :attr:`path` (comment lines counted), for tracing a value
            back to its row.
        """
        _, frame, lines = self._parsed
        if "symbol" not in frame.columns:
            return None
        hits = np.flatnonzero((frame["symbol"] == symbol).to_numpy())
        return int(lines[hits[0]]) if hits.size else None

    def sha256(self) -> str:
        """Hex sha256 of the file as shipped/registered."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    # ------------------------------------------------------------- element view
    def _element_rows(self) -> tuple[np.ndarray, pd.DataFrame]:
        if self.kind == "material":
            raise TableError(
                f"Criticality table {self.name!r} holds raw materials, not elements; read it "
                "with to_frame() or use an element table (see list_tables())."
            )
        frame = self._parsed[1]
        mapped = frame[frame["symbol"].notna()]
        index = np.fromiter((_SYMBOL_TO_INDEX[s] for s in mapped["symbol"]), dtype=np.intp)
        return index, mapped

    @cached_property
    def _cache(self) -> dict[tuple[str, str], np.ndarray]:
        return {}

    def values(self, column: str) -> np.ndarray:
        """Return one column as a float vector over :data:`mi.chem.ELEMENTS` (length 103).

        Parameters
        ----------
        column : str
            A numeric or ``true``/``false`` column of the table.

        Returns
        -------
        numpy.ndarray
            ``float64``; position ``j`` is element Z = j + 1. Booleans become 1.0 / 0.0.
            Empty cells are NaN. Elements without a row are NaN in an ``"element"`` table;
            in a ``"list"`` table they are 0.0 for boolean columns (not on the list) and NaN
            for numeric columns.

        Raises
        ------
        TableError
            The column does not exist or holds text.
        """
        key = ("values", column)
        if key not in self._cache:
            self._cache[key] = self._values_uncached(column)
        return self._cache[key].copy()

    def _values_uncached(self, column: str) -> np.ndarray:
        index, mapped = self._element_rows()
        if column not in mapped.columns:
            raise TableError(
                f"Criticality table {self.name!r} has no column {column!r}; columns: "
                f"{', '.join(self.columns)}."
            )
        series = mapped[column]
        is_bool = series.dropna().map(lambda v: isinstance(v, bool | np.bool_)).all() and bool(
            series.notna().any()
        )
        if not is_bool and series.dtype != np.float64:
            raise TableError(
                f"Column {column!r} of criticality table {self.name!r} holds text, not numbers "
                f"or true/false; use categories({column!r}) for it."
            )
        fill = 0.0 if (self.kind == "list" and is_bool) else np.nan
        out = np.full(len(ELEMENTS), fill, dtype=np.float64)
        out[index] = series.map(lambda v: np.nan if pd.isna(v) else float(v)).to_numpy(
            dtype=np.float64
        )
        return out

    def categories(self, column: str) -> np.ndarray:
        """Return a text column as an object vector over :data:`mi.chem.ELEMENTS`.

        Parameters
        ----------
        column : str
            Any column of the table.

        Returns
        -------
        numpy.ndarray
            ``object`` array of length 103; ``None`` where the element has no row or the cell
            is empty.
        """
        key = ("categories", column)
        if key not in self._cache:
            self._cache[key] = self._categories_uncached(column)
        return self._cache[key].copy()

    def _categories_uncached(self, column: str) -> np.ndarray:
        index, mapped = self._element_rows()
        if column not in mapped.columns:
            raise TableError(
                f"Criticality table {self.name!r} has no column {column!r}; columns: "
                f"{', '.join(self.columns)}."
            )
        out = np.full(len(ELEMENTS), None, dtype=object)
        for j, value in zip(index, mapped[column], strict=True):
            out[j] = None if pd.isna(value) else value
        return out

    def missing_elements(self, column: str, max_z: int = 94) -> list[str]:
        """Elements with Z <= ``max_z`` whose value in ``column`` is missing (NaN).

        Parameters
        ----------
        column : str
            Numeric or boolean column.
        max_z : int, default 94
            Highest atomic number to report.

        Returns
        -------
        list of str
            Element symbols in order of Z.
        """
        vals = self.values(column)[:max_z]
        return [ELEMENTS[j] for j in np.flatnonzero(np.isnan(vals))]

    def summary(self) -> dict[str, object]:
        """One-row summary used by :func:`list_tables`."""
        return {
            "name": self.name,
            "kind": self.kind,
            "year": self.year,
            "source": self.source,
            "title": self.title,
            "rows": self.n_rows,
            "units": "; ".join(f"{k}: {v}" for k, v in self.units.items()),
            "caveats": " | ".join(self.caveats),
            "file": self.path.name,
        }

    def describe(self) -> str:
        """Multi-line text: title, source, year, units, caveats, licence and method.

        The licence, retrieval and method lines come from the file's ``#`` header block.

        Returns
        -------
        str
        """
        header = self._parsed[0]
        lines = [
            f"{self.name}: {self.title}",
            f"  source:  {self.source}",
            f"  year:    {self.year}",
            f"  kind:    {self.kind} ({self.n_rows} rows, file {self.path.name})",
        ]
        lines += [f"  unit:    {k}: {v}" for k, v in self.units.items()]
        lines += [f"  caveat:  {c}" for c in self.caveats]
        for key in ("licence", "retrieved", "method"):
            if key in header:
                lines.append(f"  {key}: {header[key]}")
        return "\n".join(lines)


# ---------------------------------------------------------------- registry
_REGISTRY: dict[str, CriticalityTable] = {}


def _builtin_tables() -> list[CriticalityTable]:
    root = data_dir()
    common = (
        "Compiled without live internet from archived copies of public pages (see the file "
        "header and mi/_data/criticality/README.md); check against the primary document "
        "before publishing a number based on it."
    )
    hhi_units = "HHI of country concentration, 0-10000 (10000 = one country supplies all)"
    return [
        CriticalityTable(
            name="hhi_2013",
            path=root / "hhi_2013.csv",
            source=(
                "M. W. Gaultois et al., Chem. Mater. 25, 2911 (2013), doi:10.1021/cm400893e; "
                "values as shipped in pymatgen (hhi_data.csv) and matminer (HHIp/HHIr.table)"
            ),
            year="2013",
            kind="element",
            units={
                "hhi_production": hhi_units,
                "hhi_reserve": hhi_units,
                "matminer_hhi_production": hhi_units,
                "matminer_hhi_reserve": hhi_units,
            },
            caveats=(
                "All lanthanides share one value (production 9500, reserve 3100): this table "
                "cannot tell Dy or Tb from La or Ce.",
                "Elements without a value are left empty (never the column mean, unlike "
                "matminer's MagpieData default).",
                "pymatgen and matminer disagree on the reserve HHI of Cl (1500 vs 1000) and Se "
                "(1900 vs 6000); hhi_reserve holds the pymatgen values.",
                "Production and reserve data from 2013.",
            ),
            description="Herfindahl-Hirschman index of production and reserves per element",
        ),
        CriticalityTable(
            name="eu_crm_2023",
            path=root / "eu_crm_2023.csv",
            source=(
                "Regulation (EU) 2024/1252 (Critical Raw Materials Act) Annexes I-II; "
                "European Commission, Study on the critical raw materials for the EU 2023, "
                "doi:10.2873/725585"
            ),
            year="2023",
            kind="element",
            units={
                "sr_2023": "EU supply risk (dimensionless, EU method)",
                "ei_2023": "EU economic importance (dimensionless, EU method)",
            },
            caveats=(
                "Raw materials are not elements: C is critical via coking coal and graphite, "
                "Ni only as battery grade, Si/Ti/Mg only in metal form; Cu and Ni are listed "
                "because they are strategic. See the 'mapping' and 'note' columns.",
                "sr_2023/ei_2023 come from an unofficial transcription of the 2023 study, not "
                "checked against the PDF; HREE, LREE and PGM carry one group value each.",
                "Os is mapped to 'platinum group metals' but was not assessed in 2023: its "
                "membership is ambiguous.",
                common,
            ),
            description="EU critical and strategic raw materials mapped to elements, with SR/EI",
        ),
        CriticalityTable(
            name="eu_crm_2023_materials",
            path=root / "eu_crm_2023_materials.csv",
            source=(
                "European Commission, Study on the critical raw materials for the EU 2023, "
                "doi:10.2873/725585; Regulation (EU) 2024/1252"
            ),
            year="2023",
            kind="material",
            units={"sr_2023": "EU supply risk", "ei_2023": "EU economic importance"},
            caveats=(
                "One row per raw material (not per element); SR/EI from an unofficial "
                "transcription, not checked against the PDF.",
                common,
            ),
            description="EU 2023 assessment per raw material (before mapping to elements)",
        ),
        CriticalityTable(
            name="us_doe_2023",
            path=root / "us_doe_2023.csv",
            source="U.S. DOE, Critical Materials Assessment (July 2023); 88 FR 51792",
            year="2023",
            kind="list",
            units={
                "importance_to_energy_st_draft": "DOE score (draft)",
                "importance_to_energy_mt_draft": "DOE score (draft)",
            },
            caveats=(
                "The DOE report and the Federal Register table could not be read: final "
                "short/medium-term categories are partly inferred from DOE's announcement, and "
                "empty where no source settles them (empty never means 'not critical').",
                "Electrical steel and silicon carbide have no element symbol and are not "
                "mapped to elements.",
                "Only Dy has a (draft) importance-to-energy score; other score cells are empty.",
                common,
            ),
            description="DOE 2023 critical materials for energy, short- and medium-term",
        ),
        CriticalityTable(
            name="usgs_2022",
            path=root / "usgs_2022.csv",
            source=(
                "U.S. Geological Survey, 2022 Final List of Critical Minerals, "
                "87 FR 10381 (24 Feb 2022)"
            ),
            year="2022",
            kind="list",
            units={},
            caveats=(
                "Barite, fluorspar and graphite are mapped to Ba, F and C; Os and Pm are not "
                "on the list. Newer lists (USGS 2025) are not covered.",
                common,
            ),
            description="USGS 2022 list of 50 critical minerals mapped to elements",
        ),
        CriticalityTable(
            name="ree_groups",
            path=root / "ree_groups.csv",
            source=(
                "EC CRM study 2023 (EU groups); D. J. Cordier, USGS (2018); Barker & Pilbeam, "
                "Taylor & Francis, doi:10.1201/b18458-22; DOE 2023; IUPAC Red Book 2005"
            ),
            year="2023",
            kind="list",
            units={},
            caveats=(
                "Light/heavy conventions disagree on Eu, Gd and Y (and Sc, Pm): always name "
                "the convention (eu_2023, usgs, gd_heavy) when reporting HREE content.",
                "hree_magnet_target is true for Dy and Tb only.",
            ),
            description="Rare earths: light/heavy under three conventions, magnet flags",
        ),
        CriticalityTable(
            name="price",
            path=root / "price_pymatgen.csv",
            source=(
                "pymatgen 2026.10.24 costdb_elements.csv (per-row citations: Wolfram Alpha and "
                "Wikipedia snapshots, mostly September 2013)"
            ),
            year="2013-2020",
            kind="element",
            units={"price_per_kg": "currency per kg of element (USD presumed, unverified)"},
            caveats=(
                "Old snapshots of mixed quality (2013-2020): a rough cost axis only. Fe "
                "(0.03/kg) is far below metal prices; La = Ce and Eu = Tm are duplicated values.",
                "Currency is not stated in the source (USD presumed).",
                "Pm, Po, At, Rn, Fr, Ra, Ac, U, Np, Pu have no price and stay missing.",
            ),
            description="Element prices per kg with each row's citation and year",
        ),
        CriticalityTable(
            name="export_controls_2023_2026",
            path=root / "export_controls_2023_2026.csv",
            source=(
                "China MOFCOM/GAC announcements (Nos. 23/2023, 33/2024, 46/2024, 10/2025, "
                "18/2025, 55-62/2025, 70/2025, 72/2025, 1/2026), DRC ARECOMS decisions, Malaysia, "
                "EU RESourceEU; read in copies, translations and reports (address on every row)"
            ),
            year="2023-2026",
            kind="material",
            units={},
            caveats=(
                "A table of events, not of elements: symbols repeat (one row per element and "
                "measure); group-level rows have no symbol. Query it as of a date "
                "(mi.criticality.asof.measures_in_force).",
                "Every China row is secondary evidence (no ministry page was available).",
                "Status after the end of the October 2025 suspensions (2026-11-10) and of the "
                "Ga/Ge/Sb US-ban suspension (2026-11-27) is NOT VERIFIED.",
                common,
            ),
            description="Export licences, bans, suspensions and quotas 2023-2026, dated",
        ),
        CriticalityTable(
            name="usgs_2025",
            path=root / "usgs_2025.csv",
            source=(
                "U.S. Geological Survey, 2025 List of Critical Minerals (Federal Register, "
                "2025-11-07), read in trade-press copies and the DOI press release"
            ),
            year="2025",
            kind="list",
            units={},
            caveats=(
                "The 60 names were read in a trade-press copy; membership of the 50 retained "
                "entries is secondary evidence, the 10 additions primary (DOI press release).",
                "Metallurgical coal has no symbol (C keeps the graphite row); phosphate and "
                "potash are mapped to P and K as mineral proxies.",
                common,
            ),
            description="USGS 2025 list of 60 critical minerals mapped to elements",
        ),
        CriticalityTable(
            name="prices_2025_2026",
            path=root / "prices_2025_2026.csv",
            source=(
                "SMM, SunSirs, Argus, Adamas Intelligence, Fastmarkets, Baotou exchange price "
                "points, April 2025 - February 2026 (address on every row)"
            ),
            year="2025-2026",
            kind="material",
            units={"price_low/price_high/price_avg": "as in the row's unit column"},
            caveats=(
                "China domestic, FOB China and European prices differ by 2-4x for Dy and Tb in "
                "2025: always read the basis column; no currency or unit conversion in the file.",
                "No price after February 2026.",
                common,
            ),
            description="Dated price points of magnet REE oxides, Co and Ga with market basis",
        ),
        CriticalityTable(
            name="japan_designations",
            path=root / "japan_designations.csv",
            source=(
                "JOGMEC rare-metal stockpile list (IEA policy 16639) and Japan's Economic "
                "Security Promotion Act designations, read in secondary pages"
            ),
            year="2020-2025",
            kind="material",
            units={},
            caveats=(
                "Partial: items 13-34 of the stockpile list were not read; every row secondary.",
                common,
            ),
            description="Japan stockpile and economic-security designations (partial)",
        ),
    ]


def _ensure_builtins() -> None:
    if not _REGISTRY:
        for table in _builtin_tables():
            _REGISTRY[table.name] = table


def get_table(name: str) -> CriticalityTable:
    """Return a registered table by name.

    Parameters
    ----------
    name : str
        e.g. ``"hhi_2013"``, ``"eu_crm_2023"``, ``"us_doe_2023"``, ``"usgs_2022"``,
        ``"ree_groups"``, ``"price"``, or a name given to :func:`register_table`.

    Returns
    -------
    CriticalityTable

    Raises
    ------
    RegistryKeyError
        Unknown name; the message lists the names and the closest match.
    """
    _ensure_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise RegistryKeyError("criticality table", name, _REGISTRY) from None


def list_tables() -> pd.DataFrame:
    """List the registered tables with source, year, kind, units and file.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, kind, year, source, title, rows, units, caveats, file``; one row per
        table in
        registration order (shipped tables first).
    """
    _ensure_builtins()
    return pd.DataFrame([table.summary() for table in _REGISTRY.values()])


def register_table(
    path: str | Path,
    name: str | None = None,
    *,
    source: str | None = None,
    year: str | int | None = None,
    kind: TableKind = "element",
    units: Mapping[str, str] | None = None,
    caveats: Iterable[str] = (),
    description: str = "",
    overwrite: bool = False,
) -> CriticalityTable:
    r"""Register a user table (CSV with the shipped schema) and validate it now.

    The file may start with a ``#`` header block; ``# source: ...``, ``# year: ...``,
    ``# units: ...`` and ``# caveats: ...`` fields fill the arguments left out. It needs a
    ``symbol`` column (one element per row; an optional ``Z`` column is checked against it).
    Empty cells stay missing.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file.
    name : str, optional
        Registry name; default the file stem.
    source, year : optional
        Source document and year; required unless the header block gives them.
    kind : {"element", "list", "material"}, default "element"
        How absent elements are read (see the module docstring).
    units : mapping, optional
        Units per column.
    caveats : iterable of str
        Known limitations.
    description : str
        One line describing the table.
    overwrite : bool, default False
        Replace an existing table of the same name (shipped tables included).

    Returns
    -------
    CriticalityTable

    Raises
    ------
    TableError
        Missing source/year, a name already taken, or an invalid file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "my_prices.csv"
    >>> _ = p.write_text("# source: my lab 2025\n# year: 2025\nsymbol,price_per_kg\nFe,0.5\n")
    >>> t = register_table(p, kind="element")
    >>> float(t.values("price_per_kg")[25]), t.year
    (0.5, '2025')
    >>> unregister_table("my_prices")
    """
    _ensure_builtins()
    path = Path(path)
    table_name = name or path.stem
    if table_name in _REGISTRY and not overwrite:
        raise TableError(
            f"A criticality table named {table_name!r} is already registered; choose another "
            "name or pass overwrite=True."
        )
    if kind not in ("element", "list", "material"):
        raise TableError(f"kind must be 'element', 'list' or 'material'; got {kind!r}.")
    header, _, _ = _read_csv_with_header(path)
    source = source or header.get("source") or header.get("sources")
    year_text = str(year) if year is not None else header.get("year")
    if not source or not year_text:
        raise TableError(
            f"Table {str(path)!r} needs a source document and a year: pass source=... and "
            "year=..., or add '# source: ...' and '# year: ...' lines to its header."
        )
    if units is None and "units" in header:
        units = {"all": header["units"]}
    caveat_list = tuple(caveats) or ((header["caveats"],) if "caveats" in header else ())
    table = CriticalityTable(
        name=table_name,
        path=path,
        source=source,
        year=year_text,
        kind=kind,
        units=dict(units or {}),
        caveats=caveat_list,
        description=description,
    ).validate()
    _REGISTRY[table_name] = table
    return table


def unregister_table(name: str) -> None:
    """Remove a table you registered (a replaced shipped table reverts to the shipped one).

    Parameters
    ----------
    name : str
        Registered name.

    Raises
    ------
    RegistryKeyError
        No table of that name.
    TableError
        ``name`` is an unmodified shipped table (those cannot be removed).
    """
    _ensure_builtins()
    if name not in _REGISTRY:
        raise RegistryKeyError("criticality table", name, _REGISTRY)
    shipped = {table.name: table for table in _builtin_tables()}
    if name in shipped:
        if _REGISTRY[name].path == shipped[name].path:
            raise TableError(f"{name!r} is a shipped criticality table and cannot be removed.")
        _REGISTRY[name] = shipped[name]
        return
    del _REGISTRY[name]


def _sum_files(root: Path) -> list[Path]:
    """``SHA256SUMS`` and its dated companions (``SHA256SUMS-2026-12`` ...), in name order."""
    return sorted(p for p in root.glob("SHA256SUMS*") if p.is_file())


def _listed_sums(root: Path) -> dict[str, str]:
    """File name -> expected sha256 from every ``SHA256SUMS*`` file in ``root``."""
    listed: dict[str, str] = {}
    for sums in _sum_files(root):
        for line in filter(None, (s.strip() for s in sums.read_text(encoding="utf-8").split("\n"))):
            expected, filename = line.split(maxsplit=1)
            listed[filename.strip().lstrip("*")] = expected
    return listed


_VERIFIED: dict[Path, str] = {}


def _verify_if_shipped(path: Path) -> None:
    """Check a shipped table (a file in :func:`data_dir`) against its listed sha256 on load.

    User tables (anywhere else) are not checked. Raises :class:`ChecksumError` when a shipped
    file differs from ``SHA256SUMS``/``SHA256SUMS-*`` or is not listed there.
    """
    root = data_dir()
    if path.parent.resolve() != root.resolve() or path in _VERIFIED:
        return
    listed = _listed_sums(root)
    if path.name not in listed:
        raise ChecksumError(
            f"{path} is in mi's shipped criticality folder but not listed in any SHA256SUMS file; "
            "reinstall mi or register it as a user table from another folder."
        )
    _check_one(path, listed[path.name])
    _VERIFIED[path] = listed[path.name]


def _check_one(target: Path, expected: str) -> str:
    if not target.is_file():
        raise ChecksumError(f"{target} is listed in SHA256SUMS but missing; reinstall mi.")
    actual = hashlib.sha256(target.read_bytes()).hexdigest()
    if actual != expected:
        raise ChecksumError(
            f"{target} has sha256 {actual}, SHA256SUMS lists {expected}; the shipped table "
            "was modified: restore it from ../shared/criticality or reinstall mi."
        )
    return actual


def verify_checksums(folder: str | Path | None = None) -> dict[str, str]:
    """Check the shipped CSV files against ``SHA256SUMS`` and ``SHA256SUMS-*``.

    Shipped tables are also checked on first load (:class:`CriticalityTable` and the dated
    tables of :mod:`mi.criticality.asof`); this checks every listed file at once.

    Parameters
    ----------
    folder : str or pathlib.Path, optional
        Folder with ``SHA256SUMS`` (and dated companions such as ``SHA256SUMS-2026-12``);
        default :func:`data_dir`.

    Returns
    -------
    dict of str to str
        File name to its (verified) sha256.

    Raises
    ------
    ChecksumError
        A file is missing or differs from its listed sha256.
    """
    root = Path(folder) if folder is not None else data_dir()
    return {
        (root / name).name: _check_one(root / name, expected)
        for name, expected in _listed_sums(root).items()
    }
