"""Every error the CLI prints for bad input is exactly one line (issue 18, D19).

Library errors quoted in a message (pandas' ``Expected 2 fields in line 3, saw 4\\n``, pydantic's
multi-line reports, pymatgen's) used to spill over 2-7 lines, and a pandas warning added more.
:class:`mi.exceptions.MIError` now joins the lines of its message; several problems stay on the
one line (``(+N more: ...)``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mi.cli import main
from mi.exceptions import MIError, RegistryKeyError, TableError

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"


def _files(folder: Path) -> None:
    (folder / "ok.csv").write_text("formula,y\nFe2O3,1\n")
    (folder / "ragged.csv").write_text('formula,y\nFe2O3,1\nNaCl,2,3,4\n"Cu,5\n')
    (folder / "quote.tsv").write_text('formula\ty\n"Fe2O3\t1\n')
    (folder / "x.parquet").write_text("not a parquet file")
    (folder / "x.json").write_text('{"a": [1, 2')
    (folder / "x.xlsx").write_bytes(b"PK\x03\x04 not a zip")
    (folder / "latin.csv").write_bytes(b"formula,y\n\xff\xfeFe,1\n")
    (folder / "broken.toml").write_text("[targets\nname = 1\n")
    wf = (WORKFLOWS / "metal_screen.toml").read_text()
    bad = wf.replace("n_estimators = 300, max_depth = 6", 'n_estimators = -5, max_depth = "deep"')
    assert bad != wf
    (folder / "bad_values.toml").write_text(bad)
    (folder / "unknown_keys.toml").write_text("bogus = 1\nalso_bogus = 2\n" + wf)


BAD_INPUTS = {
    "missing file": ["ingest", "missing.csv", "-c", "formula", "-t", "y"],
    "ragged csv (pandas error ends in \\n)": ["ingest", "ragged.csv", "-c", "formula", "-t", "y"],
    "open quote": ["ingest", "quote.tsv", "-c", "formula", "-t", "y"],
    "missing column": ["ingest", "ok.csv", "-c", "formul", "-t", "y"],
    "not parquet": ["ingest", "x.parquet", "-c", "formula", "-t", "y"],
    "broken json": ["ingest", "x.json", "-c", "formula", "-t", "y"],
    "not xlsx": ["ingest", "x.xlsx", "-c", "formula", "-t", "y"],
    "not utf-8": ["ingest", "latin.csv", "-c", "formula", "-t", "y"],
    "regex separator (pandas warning)": [
        "ingest", "ok.csv", "-c", "formula", "-t", "y", "--read-option", "sep=;;",
    ],
    "bad filter": ["ingest", "ok.csv", "-c", "formula", "-t", "y", "--where", "y >> 3"],
    "unit of a non-target": ["ingest", "ok.csv", "-c", "formula", "-t", "y", "--unit", "z=K"],
    "broken toml": ["run", "broken.toml", "--check", "-o", "out"],
    "invalid values": ["run", "bad_values.toml", "--check", "-o", "out"],
    "several spec problems": ["run", "unknown_keys.toml", "--check", "-o", "out"],
    "missing workflow": ["run", "nothere.toml", "-o", "out"],
    "campaign spec": ["campaign", "init", "camp", "--spec", "bad_values.toml"],
    "no model": ["predict", "nomodel", "ok.csv"],
    "dummy species": ["criticality", "Xx2O3"],
    "unknown dataset": ["datasets", "show", "nope"],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_exactly_one_error_line(tmp_path, monkeypatch, capsys, case):
    _files(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(BAD_INPUTS[case]) == 1
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("Error: ") and len(lines[0]) > 20
    assert "Traceback" not in captured.err + captured.out
    if case == "several spec problems":  # the others follow the first on the same line
        assert "(+1 more: unknown key 'also_bogus'" in lines[0]


def test_error_messages_join_quoted_library_lines():
    err = TableError("Cannot read t.csv: ParserError: Expected 2 fields, saw 4\n. Check the file.")
    assert str(err) == "Cannot read t.csv: ParserError: Expected 2 fields, saw 4. Check the file."
    assert str(MIError("first line\n  second line\r\nthird")) == "first line second line third"
    assert "\n" not in str(RegistryKeyError("preset", "a\nb", ["x"]))
