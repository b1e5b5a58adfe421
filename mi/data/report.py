"""The row-accounting report every reader returns: what was accepted, rejected and merged."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mi._atomic import atomic_write
from mi.exceptions import DataError

__all__ = ["ValidationReport", "RejectLog", "REJECTED_COLUMNS"]

#: Columns of :attr:`ValidationReport.rejected`.
REJECTED_COLUMNS = ("file", "row", "column", "value", "reason")


class RejectLog:
    """Collects rejected rows while a table is being cleaned (one entry per problem)."""

    def __init__(self) -> None:
        self._entries: list[tuple[str, int, str, str, str]] = []

    def add(self, file: str, row: int, column: str | None, value: object, reason: str) -> None:
        """Record one problem of one input row.

        Parameters
        ----------
        file : str
            Source file (or ``"<DataFrame>"``).
        row : int
            0-based position of the data row in that file (header not counted).
        column : str or None
            Column holding the bad value (``None`` for a whole-row or whole-file problem).
        value : object
            The offending value (stored as its ``repr`` for non-strings, truncated).
        reason : str
            Why the row was rejected.
        """
        shown = value if isinstance(value, str) else repr(value)
        if len(shown) > 200:
            shown = shown[:197] + "..."
        self._entries.append((file, int(row), column or "", shown, reason))

    def __len__(self) -> int:
        return len(self._entries)

    def rows(self) -> set[tuple[str, int]]:
        """Distinct ``(file, row)`` pairs that were rejected."""
        return {(f, r) for f, r, *_ in self._entries}

    def frame(self) -> pd.DataFrame:
        """Return the entries as a DataFrame with :data:`REJECTED_COLUMNS`."""
        df = pd.DataFrame(self._entries, columns=list(REJECTED_COLUMNS))
        return df.astype({"file": str, "row": "int64", "column": str, "value": str, "reason": str})


@dataclass
class ValidationReport:
    """What happened to every input row.

    Attributes
    ----------
    n_input : int
        Rows (or structures / unreadable files) read from the sources.
    n_accepted : int
        Input rows that passed validation (before merging duplicates).
    rejected : pandas.DataFrame
        One line per problem: ``file, row, column, value, reason`` (``row`` is the 0-based data
        row in ``file``). A row with two bad cells appears twice but counts once.
    filtered : pandas.DataFrame
        One line per row a ``where`` rule left out: ``file, row, rule``.
    merged : pandas.DataFrame
        One line per group of accepted rows merged into one output row: ``composition``,
        ``n_rows``, ``sources`` (``file row N; ...``), per target the input values and the merged
        value, and ``rule``.
    n_output : int
        Rows of the resulting dataset (after merging).
    notes : list of str
        Dataset-level remarks (unit caveats, flags, counts of censored values ...).
    audit : pandas.DataFrame
        The label audit (:mod:`mi.data.audit`): one line per label it changed, dropped or
        kept while removing values, with the rule, the raw median, the new label, the values
        dropped or left out and the reason. Empty when no target is audited.

    Notes
    -----
    Invariant (checked by :meth:`check`): ``n_input == n_accepted + n_rejected + n_filtered``.
    """

    n_input: int
    n_accepted: int
    rejected: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(REJECTED_COLUMNS))
    )
    merged: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_output: int = 0
    notes: list[str] = field(default_factory=list)
    audit: pd.DataFrame = field(default_factory=pd.DataFrame)
    filtered: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["file", "row", "rule"])
    )

    @property
    def n_filtered(self) -> int:
        """Number of input rows a ``where`` rule left out."""
        return int(len(self.filtered))

    @property
    def n_rejected(self) -> int:
        """Number of distinct input rows rejected."""
        if self.rejected.empty:
            return 0
        return int(self.rejected[["file", "row"]].drop_duplicates().shape[0])

    @property
    def n_merged_groups(self) -> int:
        """Number of output rows that merge more than one input row."""
        return int(len(self.merged))

    def check(self) -> None:
        """Raise :class:`~mi.exceptions.DataError` unless every input row is accounted for."""
        if self.n_input != self.n_accepted + self.n_rejected + self.n_filtered:
            raise DataError(
                f"Row accounting broken: {self.n_input} input rows but {self.n_accepted} accepted "
                f"+ {self.n_rejected} rejected + {self.n_filtered} filtered. This is a bug in mi; "
                "please report it."
            )

    def reason_counts(self) -> pd.Series:
        """Rejected rows per reason category (text before the first quote or colon)."""
        if self.rejected.empty:
            return pd.Series(dtype="int64")
        first = self.rejected.drop_duplicates(["file", "row"])
        category = first["reason"].str.replace(r"\s*[:'\"(].*$", "", regex=True)
        return category.value_counts()

    def summary(self) -> str:
        """Human-readable multi-line account of the rows.

        Returns
        -------
        str
        """
        lines = [
            f"input rows     : {self.n_input}",
            *([f"filtered       : {self.n_filtered} ({self._rules()})"] if self.n_filtered else []),
            f"accepted       : {self.n_accepted}",
            f"rejected       : {self.n_rejected}",
            f"merged groups  : {self.n_merged_groups} "
            f"({self.n_accepted - self.n_output} rows folded into others)",
            f"output rows    : {self.n_output}",
        ]
        counts = self.reason_counts()
        if len(counts):
            lines.append("rejections by reason:")
            lines.extend(f"  {n:>6}  {reason}" for reason, n in counts.items())
        if not self.audit.empty:
            from mi.data.audit import audit_counts

            lines.append("label audit (labels changed / dropped / single values dropped):")
            for rec in audit_counts(self.audit).itertuples(index=False):
                lines.append(
                    f"  {rec.target}: {rec.rule:<22} {rec.changed:>5} changed {rec.dropped:>5} "
                    f"dropped {rec.values_dropped:>5} values"
                )
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _rules(self) -> str:
        counts = self.filtered["rule"].value_counts()
        return "; ".join(f"{n} by {rule}" for rule, n in counts.items())

    def audit_summary(self) -> list[dict[str, object]]:
        """Per target and rule: labels changed, labels dropped, single values dropped.

        Returns
        -------
        list of dict
            JSON-serialisable rows of :func:`mi.data.audit.audit_counts`.
        """
        from mi.data.audit import audit_counts

        counts = audit_counts(self.audit)
        return [
            {k: (int(v) if not isinstance(v, str) else v) for k, v in row.items()}
            for row in counts.to_dict(orient="records")
        ]

    def to_dict(self) -> dict[str, object]:
        """Return counts and notes as plain JSON-serialisable values."""
        return {
            "n_input": self.n_input,
            "n_accepted": self.n_accepted,
            "n_rejected": self.n_rejected,
            "n_filtered": self.n_filtered,
            "n_merged_groups": self.n_merged_groups,
            "n_output": self.n_output,
            "notes": list(self.notes),
            "audit": self.audit_summary(),
        }

    def save(self, prefix: str | Path) -> list[Path]:
        """Write ``<prefix>.rejected.csv``, ``.merged.csv``, ``.filtered.csv``, ``.audit.csv``.

        The last two only when rows were filtered or labels audited.

        Parameters
        ----------
        prefix : str or Path
            Path without suffix, e.g. ``out/supercon``.

        Returns
        -------
        list of Path
            The files written.
        """
        prefix = Path(prefix)
        prefix.parent.mkdir(parents=True, exist_ok=True)
        rejected = prefix.with_name(prefix.name + ".rejected.csv")
        merged = prefix.with_name(prefix.name + ".merged.csv")
        rej, mer = _printable(self.rejected), _printable(self.merged)
        atomic_write(rejected, lambda tmp: rej.to_csv(tmp, index=False))
        atomic_write(merged, lambda tmp: mer.to_csv(tmp, index=False))
        written = [rejected, merged]
        if self.n_filtered:
            filtered = prefix.with_name(prefix.name + ".filtered.csv")
            self.filtered.to_csv(filtered, index=False)
            written.insert(1, filtered)
        if not self.audit.empty:
            audit = prefix.with_name(prefix.name + ".audit.csv")
            aud = _printable(self.audit)
            atomic_write(audit, lambda tmp: aud.to_csv(tmp, index=False))
            written.append(audit)
        return written


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|\r|\n")


def _escape(text: str) -> str:
    r"""Write control characters as escapes (``\r``, ``\n``, ``\x00``): one row, one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def _printable(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` with control characters of text cells escaped."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = [_escape(v) if isinstance(v, str) else v for v in out[col]]
    return out
