r"""CSV bytes made safe for pandas' C parser: NUL bytes become the visible text ``\x00``.

pandas' C parser ends a cell at a NUL byte, so ``"Fe2O3\0Pb7.56"`` would silently be read as
``Fe2O3``. :func:`csv_source` hands pandas the file itself when it holds no NUL byte (the common
case, no copy) and otherwise an in-memory copy with every NUL written as the four characters
``\x00``, so the cell keeps its full content and is refused downstream with its real value.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["csv_source", "has_nul", "read_csv_text"]

_CHUNK = 1 << 20


def has_nul(path: str | Path) -> bool:
    """Whether the file's bytes contain a NUL byte (read in 1 MB chunks)."""
    with Path(path).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            if b"\x00" in chunk:
                return True
    return False


def csv_source(path: str | Path) -> Path | io.BytesIO:
    r"""Return ``path``, or a NUL-escaped in-memory copy of it when it contains NUL bytes.

    Parameters
    ----------
    path : path
        A plain (uncompressed) CSV/TSV file.

    Returns
    -------
    Path or io.BytesIO
        What to pass to :func:`pandas.read_csv`.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> p = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_bytes(b"f\nFe2O3\x00Pb\n")
    >>> pd.read_csv(csv_source(p))["f"].tolist()
    ['Fe2O3\\x00Pb']
    """
    path = Path(path)
    if path.suffix.lower() in {".gz", ".bz2", ".xz", ".zip"} or not has_nul(path):
        return path
    return io.BytesIO(path.read_bytes().replace(b"\x00", b"\\x00"))


def read_csv_text(path: str | Path) -> pd.DataFrame:
    """Read a CSV file as text cells (empty cells stay empty strings; NUL bytes kept visible)."""
    import pandas as pd

    return pd.read_csv(csv_source(path), dtype=str, keep_default_na=False)
