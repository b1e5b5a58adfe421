"""Listing commands read definition files only: no heavy import, so they answer at once."""

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("matminer", "pymatgen.core", "pandas", "sklearn", "xgboost")

PROBE = (
    "import contextlib, io, json, sys; from mi.cli import main; "
    "out = io.StringIO(); "
    "ctx = contextlib.redirect_stdout(out); ctx.__enter__(); code = main(sys.argv[1:]); "
    "ctx.__exit__(None, None, None); "
    "print(json.dumps({'code': code, 'out': out.getvalue(), "
    f"'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))"
)


def _list(*args: str) -> dict:
    env = {**os.environ, "TERM": "dumb"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("features", "presets"), ("magpie", "magnet", "ElementProperty")),
        (("datasets", "list"), ("curie_tc", "supercon", "16,414", "local")),
    ],
)
def test_listing_imports_nothing_heavy(args, expected):
    result = _list(*args)
    assert result["code"] == 0
    assert all(word in result["out"] for word in expected), result["out"]
    assert result["heavy"] == []
