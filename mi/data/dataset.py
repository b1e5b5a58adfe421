"""`Dataset`: a DataFrame plus column roles, metadata and the row-accounting report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mi.data.report import ValidationReport
from mi.exceptions import DataError, TableError

__all__ = ["Dataset", "DatasetMeta"]


@dataclass
class DatasetMeta:
    """Where a dataset comes from and how to cite it.

    Attributes
    ----------
    name : str
        Registry name (or the file stem for a user table).
    description : str
        One paragraph on what the data is.
    source : str
        Canonical source (URL pinned to a commit or version, or a local path).
    licence : str
        Licence or terms of use, as stated by the source.
    citation : str
        How to cite the data.
    units : dict of str to str
        Unit of each target.
    sha256 : dict of str to str
        File name to the sha256 of the file that was read.
    notes : list of str
        Caveats (unstated units, coded values ...).
    transforms : dict of str to str
        Target to the transform its values carry (``log10`` ...; see :mod:`mi.data.transforms`).
    conditions : dict of str to str
        Condition column (a model input next to the composition) to its unit.
    """

    name: str
    description: str = ""
    source: str = ""
    licence: str = ""
    citation: str = ""
    units: dict[str, str] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    transforms: dict[str, str] = field(default_factory=dict)
    conditions: dict[str, str] = field(default_factory=dict)


class Dataset:
    """A cleaned table with column roles, metadata and the report of what was done.

    Parameters
    ----------
    df : pandas.DataFrame
        The data; stays directly reachable as ``.df``.
    composition_col : str, default "composition"
        Column of clean formula strings.
    structure_col : str, optional
        Column of pymatgen ``Structure`` objects, if any.
    targets : sequence of str
        Target (property) columns.
    meta : DatasetMeta, optional
        Provenance; default: a nameless one.
    report : ValidationReport, optional
        Row accounting; default: every row accepted.

    Examples
    --------
    >>> import pandas as pd
    >>> ds = Dataset(pd.DataFrame({"composition": ["Fe2O3"], "Eg": [2.1]}), targets=["Eg"])
    >>> ds.y().tolist()
    [2.1]
    """

    def __init__(
        self,
        df: pd.DataFrame,
        composition_col: str = "composition",
        structure_col: str | None = None,
        targets: list[str] | tuple[str, ...] = (),
        meta: DatasetMeta | None = None,
        report: ValidationReport | None = None,
    ) -> None:
        missing = [c for c in [composition_col, structure_col, *targets] if c and c not in df]
        if missing:
            raise TableError(
                f"Dataset columns {missing} are not in the table (columns: {list(df.columns)})."
            )
        self.df = df
        self.composition_col = composition_col
        self.structure_col = structure_col
        self.targets = list(targets)
        self.meta = meta or DatasetMeta(name="unnamed")
        self.report = report or ValidationReport(
            n_input=len(df), n_accepted=len(df), n_output=len(df)
        )

    @property
    def conditions(self) -> list[str]:
        """Condition columns (model inputs next to the composition), in declaration order."""
        return [c for c in self.meta.conditions if c in self.df.columns]

    @property
    def name(self) -> str:
        """Dataset name (from the metadata)."""
        return self.meta.name

    def __len__(self) -> int:
        return len(self.df)

    def __repr__(self) -> str:
        return (
            f"Dataset({self.meta.name!r}, rows={len(self.df)}, targets={self.targets}, "
            f"rejected={self.report.n_rejected})"
        )

    def compositions(self) -> list[str]:
        """Clean formula strings, one per row."""
        return self.df[self.composition_col].astype(str).tolist()

    def y(self, target: str | None = None) -> np.ndarray:
        """Values of one target as a float array.

        Parameters
        ----------
        target : str, optional
            Default: the only target (error when there are several).

        Returns
        -------
        numpy.ndarray
        """
        if target is None:
            if len(self.targets) != 1:
                raise DataError(
                    f"Dataset {self.meta.name!r} has targets {self.targets}; name one: y('...')."
                )
            target = self.targets[0]
        if target not in self.targets:
            raise DataError(f"{target!r} is not a target of {self.meta.name!r}: {self.targets}.")
        return self.df[target].to_numpy(dtype=np.float64)

    def copy(self) -> Dataset:
        """Deep copy (the DataFrame and the report tables are copied)."""
        report = ValidationReport(
            n_input=self.report.n_input,
            n_accepted=self.report.n_accepted,
            rejected=self.report.rejected.copy(),
            merged=self.report.merged.copy(),
            n_output=self.report.n_output,
            notes=list(self.report.notes),
            filtered=self.report.filtered.copy(),
            audit=self.report.audit.copy(),
        )
        meta = DatasetMeta(**json.loads(json.dumps(asdict(self.meta))))
        return Dataset(
            self.df.copy(), self.composition_col, self.structure_col, self.targets, meta, report
        )

    def summary(self) -> str:
        """Multi-line description: provenance, targets with units and statistics, row report.

        Returns
        -------
        str
        """
        m = self.meta
        lines = [f"dataset  : {m.name}"]
        if m.description:
            lines.append(f"about    : {m.description.strip()}")
        for label, value in (("source", m.source), ("licence", m.licence), ("cite", m.citation)):
            if value:
                lines.append(f"{label:<9}: {value}")
        lines.append(f"rows     : {len(self.df)}")
        for t in self.targets:
            col = pd.to_numeric(self.df[t], errors="coerce")
            unit = m.units.get(t, "")
            lines.append(
                f"target   : {t} [{unit or 'unit not stated'}] min {col.min():.4g}, "
                f"median {col.median():.4g}, max {col.max():.4g}"
            )
        for t, name in m.transforms.items():
            lines.append(f"transform: {t} holds {name} values (predictions are transformed back)")
        for c in self.conditions:
            col = pd.to_numeric(self.df[c], errors="coerce")
            lines.append(
                f"condition: {c} [{m.conditions[c]}] min {col.min():.4g}, max {col.max():.4g}, "
                f"{col.nunique()} distinct, {int(col.isna().sum())} empty"
            )
        for col in self.df.columns:
            if self.df[col].dtype == bool:
                lines.append(f"flag     : {col}: {int(self.df[col].sum())} of {len(self.df)} True")
        lines.append("row accounting:")
        lines.extend("  " + line for line in self.report.summary().splitlines())
        lines.extend(f"note     : {note}" for note in m.notes)
        return "\n".join(lines)

    def save(self, path: str | Path) -> list[Path]:
        """Write the table as Parquet (metadata inside) plus the rejection and merge reports.

        Parameters
        ----------
        path : str or Path
            Parquet file to write, e.g. ``out/supercon.parquet``; the reports go next to it as
            ``supercon.rejected.csv`` and ``supercon.merged.csv``.

        Returns
        -------
        list of Path
            Files written.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        df = self.df
        if self.structure_col:
            df = df.assign(
                **{self.structure_col: [json.dumps(s.as_dict()) for s in df[self.structure_col]]}
            )
        table = pa.Table.from_pandas(df, preserve_index=False)
        info = {
            "composition_col": self.composition_col,
            "structure_col": self.structure_col,
            "targets": self.targets,
            "meta": asdict(self.meta),
            "report": self.report.to_dict(),
        }
        schema_meta = dict(table.schema.metadata or {})
        schema_meta[b"mi.dataset"] = json.dumps(info).encode()
        pq.write_table(table.replace_schema_metadata(schema_meta), path)
        return [path, *self.report.save(path.with_suffix(""))]

    @classmethod
    def load(cls, path: str | Path) -> Dataset:
        """Read a Parquet file written by :meth:`save` (reports re-read when present).

        Parameters
        ----------
        path : str or Path
            The Parquet file.

        Returns
        -------
        Dataset
        """
        import pyarrow.parquet as pq

        path = Path(path)
        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises several types
            raise TableError(f"Cannot read Parquet file {path}: {exc}") from exc
        raw = (table.schema.metadata or {}).get(b"mi.dataset")
        if raw is None:
            raise TableError(f"{path} was not written by Dataset.save (no mi metadata).")
        info = json.loads(raw)
        df = table.to_pandas()
        if info["structure_col"]:
            from pymatgen.core import Structure

            col = info["structure_col"]
            df[col] = [Structure.from_dict(json.loads(s)) for s in df[col]]
        counts = info["report"]
        stem = path.with_suffix("")
        rej = stem.with_name(stem.name + ".rejected.csv")
        mer = stem.with_name(stem.name + ".merged.csv")
        fil = stem.with_name(stem.name + ".filtered.csv")
        report = ValidationReport(
            n_input=counts["n_input"],
            n_accepted=counts["n_accepted"],
            n_output=counts["n_output"],
            notes=counts["notes"],
        )
        if rej.is_file():
            report.rejected = pd.read_csv(rej, keep_default_na=False, dtype={"value": str})
        if fil.is_file():
            report.filtered = pd.read_csv(fil)
        if mer.is_file():
            try:
                report.merged = pd.read_csv(mer)
            except pd.errors.EmptyDataError:
                pass
        aud = stem.with_name(stem.name + ".audit.csv")
        if aud.is_file():
            report.audit = pd.read_csv(aud, keep_default_na=False, na_values=[""])
        return cls(
            df,
            info["composition_col"],
            info["structure_col"],
            info["targets"],
            DatasetMeta(**info["meta"]),
            report,
        )
