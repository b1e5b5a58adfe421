"""A run records the supply-risk date; the report shows it with the measures on the candidates."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

_SPEC = {
    "version": 1,
    "name": "tiny_dated_screen",
    "description": "Supply risk as of a date in a run.",
    "seed": 0,
    "targets": [
        {
            "name": "Ms",
            "dataset": "novamag",
            "column": "Ms",
            "preset": "magnet",
            "model": "xgb_ensemble",
            "max_rows": 120,
            "model_params": {"n_members": 2, "n_estimators": 10, "max_depth": 3, "n_jobs": 1},
            "cv": {"n_splits": 3, "method": "kfold"},
        }
    ],
    "candidates": {
        "templates": [
            {
                "family": "(Nd,Dy)2Fe14B",
                "formula": "(Nd{1-d}Dy{d})2Fe14B",
                "ranges": {"d": [0.0, 0.5, 0.1]},
            }
        ]
    },
    "criticality": {"as_of": "2026-12-01"},
    "acquisition": {"name": "ucb"},
    "outputs": {"top_n": 6, "report": False},
}


@pytest.fixture(scope="module")
def dated_run(tmp_path_factory: pytest.TempPathFactory, shared_datasets: Path) -> Path:
    runner = pytest.importorskip("mi.runner")
    from mi.config import get_settings
    from mi.runner.progress import Progress

    out = tmp_path_factory.mktemp("dated-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MI_CACHE_DIR", str(tmp_path_factory.mktemp("dated-run-cache")))
        mp.setenv("MI_OFFLINE", "true")
        mp.setenv("MI_DATA_DIR", str(shared_datasets))
        get_settings(refresh=True)
        quiet = Progress(stream=io.StringIO(), tty=False)
        runner.run_workflow(runner.parse_spec(_SPEC), out, progress=quiet)
    get_settings(refresh=True)
    return out


def test_summary_results_and_report_state_the_date(dated_run: Path):
    from mi.report import collect_run, write_report

    summary = json.loads((dated_run / "summary.json").read_text())
    crit = summary["criticality"]
    assert crit["as_of"] == "2026-12-01"
    assert crit["tables"]["usgs"] == "usgs_2025"
    assert crit["risk_model"]["sha256"] and "Y" in crit["unverified_elements"]
    top = pd.read_csv(dated_run / "top.csv")
    dy = top["formula"].str.contains("Dy")
    assert dy.any() and (top.loc[dy, "export_control"] > 0).all()
    assert (top.loc[~dy, "export_control"] == 0).all()

    data = collect_run(dated_run)
    info = data.extra["criticality"]
    assert info["as_of"] == "2026-12-01"
    assert info["unverified_elements"] == []  # no Y, Gd ... among the candidates
    assert any(m.startswith("Dy: China export licence since 2025-04-04") for m in info["measures"])
    html = write_report(dated_run).read_text()
    assert "Element supply risk as of 2026-12-01" in html
    assert "Dy: China export licence since 2025-04-04" in html


def test_a_bad_as_of_in_a_spec_is_refused_before_work():
    from mi.exceptions import SpecError
    from mi.runner.spec import parse_spec
    from mi.runner.validate import check_spec

    spec = parse_spec({**_SPEC, "criticality": {"as_of": "01/12/2026"}})
    with pytest.raises(SpecError, match="Unknown as-of date format '01/12/2026'"):
        check_spec(spec)


def test_default_date_is_kept_when_a_run_resumes(tmp_path: Path, monkeypatch):
    import datetime as dt

    import mi.criticality.asof as asof
    from mi.runner.checkpoint import Checkpoint
    from mi.runner.screening import criticality_as_of
    from mi.runner.spec import parse_spec

    spec = parse_spec({**_SPEC, "criticality": {}})
    monkeypatch.setattr(asof, "today", lambda: dt.date(2026, 12, 1))
    first = criticality_as_of(spec, Checkpoint(tmp_path, spec.digest(), None))
    monkeypatch.setattr(asof, "today", lambda: dt.date(2026, 12, 3))
    resumed = criticality_as_of(spec, Checkpoint(tmp_path, spec.digest(), None))
    assert first == resumed == "2026-12-01"
    restarted = Checkpoint(tmp_path, spec.digest(), None, resume=False)
    assert criticality_as_of(spec, restarted) == "2026-12-03"
