"""Tests of mi.report: the page holds every figure and table, and Chromium renders it."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mi.report import DataReport, ReportData, TargetReport, render_html, write_report

_IMG = re.compile(r"<img src='data:image/(png|svg\+xml);base64,([A-Za-z0-9+/=]+)'")


def _report_data(n: int = 60) -> ReportData:
    rng = np.random.default_rng(1)
    y = rng.uniform(0.5, 1.6, n)
    cv = pd.DataFrame(
        {"y_true": y, "y_pred": y + rng.normal(0, 0.05, n), "y_std": rng.uniform(0.02, 0.1, n)}
    )
    cal = pd.DataFrame({"expected": [0.5, 0.68, 0.9, 0.95], "observed": [0.45, 0.6, 0.84, 0.9]})
    cands = pd.DataFrame(
        {
            "formula": [f"Nd{2 - i / 20:.2f}Dy{i / 20:.2f}Fe14B" for i in range(12)] + ["A<b>&"],
            "Ms_mean": np.linspace(1.6, 1.2, 13),
            "Ms_std": np.full(13, 0.04),
            "supply_risk": np.linspace(0.7, 0.3, 13),
            "dytb_mass_fraction": np.linspace(0.05, 0.0, 13),
            "on_front": [True, False] * 6 + [True],
        }
    )
    rejected = pd.DataFrame(
        {
            "file": ["novamag-raw.csv"] * 3,
            "row": [4, 17, 230],
            "column": ["chemical formula"] * 3,
            "value": ["Xx2O3", "", "Fe-1"],
            "reason": ["unknown element 'Xx'", "empty formula", "negative amount"],
        }
    )
    history = pd.DataFrame(
        [
            {"strategy": s, "seed": seed, "n_evaluated": k, "best": k * (2 if s == "ei" else 1)}
            for s in ("ei", "random")
            for seed in range(3)
            for k in (5, 10, 15)
        ]
    )
    return ReportData(
        title="ndfeb_hree_reduction",
        description="Keep Ms while cutting Dy+Tb.",
        created="2026-11-22T21:00:00Z",
        spec={"version": 1, "name": "ndfeb_hree_reduction"},
        spec_hash="0123456789abcdef",
        targets=[
            TargetReport(
                name="Ms",
                dataset="novamag",
                units="T",
                model="xgb_ensemble",
                metrics={"MAE": 0.041, "RMSE": 0.05, "R2": 0.91},
                cv_predictions=cv,
                calibration=cal,
                feature_importance=pd.Series({"MagpieData mean Number": 0.3, "frac Fe": 0.2}),
                n_train=n,
                cv_method="kfold x5",
            )
        ],
        candidates=cands,
        candidate_columns={
            "formula": "formula",
            "objective": "Ms_mean",
            "std": "Ms_std",
            "risk": "supply_risk",
            "color": "dytb_mass_fraction",
            "front": "on_front",
        },
        n_candidates={"generated": 1000, "passed_constraints": 400, "scored": 400},
        constraints=["Dy+Tb mass fraction <= 0.01"],
        data=[
            DataReport(
                name="novamag",
                n_input=1662,
                n_accepted=1500,
                rejected=rejected,
                sha256={"novamag-raw.csv": "ab" * 32},
                source="https://example.org/novamag",
                licence="CC-BY-4.0",
            )
        ],
        element_criticality=pd.DataFrame(
            {
                "element": ["Dy", "Tb", "Nd", "Fe", "Co", "B"],
                "supply_risk": [0.95, 0.97, 0.8, 0.1, 0.7, 0.3],
            }
        ),
        discovery=history,
        timings={"load": 1.2, "train": 3.4},
        versions={"mi": "0.1.0", "numpy": np.__version__},
    )


def _images(text: str) -> list[Image.Image]:
    return [Image.open(io.BytesIO(base64.b64decode(m.group(2)))) for m in _IMG.finditer(text)]


def test_render_embeds_every_figure_and_table():
    text = render_html(_report_data())
    images = _images(text)
    # pareto + parity + calibration + importance + discovery + periodic table
    assert len(images) == 6 == text.count("<img ")
    for img in images:
        w, h = img.size
        assert w >= 250 and h >= 150, img.size
    names = re.findall(r"data-figure='([^']+)'", text)
    assert names == [
        "pareto-Ms",
        "parity-Ms",
        "calibration-Ms",
        "importance-Ms",
        "discovery",
        "element-criticality",
    ]
    assert "1.600 ± 0.040" in text  # mean ± std column, std to two significant digits
    assert "Ms (mean ± std)" in text
    assert "A&lt;b&gt;&amp;" in text and "A<b>&" not in text  # escaped
    assert "unknown element &#x27;Xx&#x27;" in text  # rejection reasons listed
    assert "ab" * 32 in text and "CC-BY-4.0" in text  # hashes and licence
    assert "could not be drawn" not in text
    assert "http://" not in text.replace("http://www.w3.org", "")  # nothing fetched


def _picks() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "batch": [1, 2, 3],
            "rank": [1, 4, 9],
            "formula": ["Nd2Fe14B", "A<b>&", "Nd1.9Dy0.1Fe13GaB"],
            "family": ["R2(Fe,Co)14B"] * 3,
            "Ms_mean": [1.6, 1.5, 1.3],
            "Ms_std": [0.04, 0.05, 0.2],
            "supply_risk": [0.7, 0.5, 0.35],
            "acquisition": [1.66, 1.58, 1.41],
            "pareto_rank": [1, 1, 2],
            "Ms_nearest": ["Nd2Fe14B", "Nd2Fe14B", "Nd2Fe14B"],
            "Ms_nearest_l1": [0.0, 0.3, 0.2],
            "Ms_known": [True, False, False],
            "Ms_unseen_elements": ["", "", "Ga"],
            "Ms_domain_score": [0.4, 1.7, 0.9],
            "Ms_in_domain": [True, False, False],
        }
    )


def test_what_to_make_next_leads_with_the_batch_and_its_flags():
    data = _report_data()
    data.picks, data.picks_kind = _picks(), "batch"
    data.notes = ["a note"]
    data.data[0].audit_counts = [
        {"target": "Tc", "rule": "r2fe14b_floor", "changed": 0, "dropped": 4, "values_dropped": 28}
    ]
    data.data[0].audit = pd.DataFrame(
        {
            "composition": ["BDy2Fe14"],
            "target": ["Tc"],
            "action": ["dropped"],
            "rule": ["r2fe14b_floor"],
            "raw_median": [4.2],
            "label": [np.nan],
            "reason": ["every value fails a rule: R2Fe14B orders above 400 K"],
        }
    )
    text = render_html(data)
    start = text.index("<section id='next'>")
    assert start < text.index("a note") < text.index("<section id='candidates'>")
    section = text[start : text.index("</section>", start)]
    assert "What to make next" in section and "batch.csv" in section
    for formula in ("Nd2Fe14B", "A&lt;b&gt;&amp;", "Nd1.9Dy0.1Fe13GaB"):
        assert formula in section
    assert "A<b>&" not in section  # escaped
    assert "1.600 ± 0.040" in section and "1.30 ± 0.20" in section  # prediction ± std per pick
    assert "1.30 ± 0.20 †" in section  # not shown as a confident number
    assert "1.600 ± 0.040 †" not in section
    assert "† outside the model's applicability domain" in section
    assert "on the Pareto front" in section and "acquisition 1.66" in section  # why chosen
    # adjacent predictions 0.033 apart with std 0.04 each: the order is noise, and it says so
    assert "Ranking not resolved" in section and "9 of 9 adjacent pairs" in section
    assert "Ms: Nd2Fe14B (L1 0.000) KNOWN" in section and "Known compounds:</b> 1 of 3" in section
    assert "KNOWN (Ms data)" in section  # the at-a-glance table says it too
    assert "OUTSIDE: unseen Ga" in section and "feature distance 1.70 × the training" in section
    assert "Outside the applicability domain:</b> 2 of 3" in section
    # the label audit in the data section
    data_part = text[text.index("<section id='data'>") :]
    assert "novamag: label audit" in data_part and "r2fe14b_floor" in data_part
    assert "BDy2Fe14" in data_part and "single values removed" in data_part


def test_render_survives_missing_sections():
    text = render_html(ReportData(title="empty run"))
    assert "No candidates in this run." in text
    assert "No cross-validation results" in text
    assert "<img" not in text


def test_broken_figure_input_is_reported_not_raised():
    data = _report_data()
    data.targets[0].calibration = pd.DataFrame({"wrong": [1.0]})
    text = render_html(data)
    assert "Figure calibration-Ms could not be drawn" in text
    assert text.count("<img ") == 5


def test_write_report_svg_and_paths(tmp_path: Path):
    data = _report_data()
    out = write_report(data, tmp_path, fmt="svg")
    assert out == tmp_path / "report.html"
    assert "data:image/svg+xml;base64," in out.read_text()
    with pytest.raises(TypeError, match="explicit path"):
        write_report(data)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html_path: Path, png_path: Path, tmp_dir: Path, height: int = 2000) -> Path:
    """Render ``html_path`` headless in Chromium and write a PNG screenshot."""
    exe = _chromium()
    assert exe is not None
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_dir}",
        f"--screenshot={png_path}",
        f"--window-size=1280,{height}",
        html_path.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)  # hang guard only
    assert png_path.is_file(), f"chromium wrote no screenshot: {proc.stderr[-2000:]}"
    return png_path


def test_report_renders_in_headless_chromium(tmp_path: Path):
    if _chromium() is None:
        pytest.skip(
            "chromium is not installed (apt-get install chromium; .ci/run installs it): "
            "report screenshot not checked"
        )
    html_path = write_report(_report_data(), tmp_path / "report.html")
    png = screenshot(html_path, tmp_path / "report.png", tmp_path / "profile")
    img = np.asarray(Image.open(png).convert("RGB"), dtype=np.float64)
    assert img.shape[:2] == (2000, 1280)
    assert img.std() > 20.0, "screenshot is blank"
    # the figures put colour on the page (a text-only page is grey/white and the header navy)
    rgb = img.reshape(-1, 3)
    saturation = rgb.max(axis=1) - rgb.min(axis=1)
    # colour bars and markers alone cover > 0.1 % of the page; a page without figures has none
    assert (saturation > 80).mean() > 0.001, "no coloured figure pixels in the screenshot"


# ------------------------------------------------------- real run folders
_TINY_SPEC = {
    "version": 1,
    "name": "tiny_magnet_screen",
    "description": "Report test: a very small magnet screen.",
    "seed": 0,
    "targets": [
        {
            "name": "Ms",
            "dataset": "novamag",
            "column": "Ms",
            "preset": "magnet",
            "model": "xgb_ensemble",
            "max_rows": 150,
            "model_params": {"n_members": 2, "n_estimators": 20, "max_depth": 3, "n_jobs": 1},
            "cv": {"n_splits": 3, "method": "kfold"},
        }
    ],
    "candidates": {
        "templates": [
            {
                "family": "(Nd,Dy)2(Fe,Co)14B",
                "formula": "(Nd{1-d}Dy{d})2(Fe{1-z}Co{z})14B",
                "ranges": {"d": [0.0, 0.1, 0.02], "z": [0.0, 0.3, 0.05]},
            }
        ]
    },
    "constraints": [{"kind": "max_mass_fraction", "elements": ["Dy", "Tb"], "limit": 0.03}],
    "acquisition": {"name": "ucb"},
    "outputs": {"top_n": 10, "report": False, "batch_size": 2},
}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, shared_datasets: Path) -> Path:
    """A real (very small) run of the runner, without its report (offline, private cache)."""
    runner = pytest.importorskip("mi.runner")
    from mi.config import get_settings
    from mi.runner.progress import Progress

    out = tmp_path_factory.mktemp("tiny-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MI_CACHE_DIR", str(tmp_path_factory.mktemp("tiny-run-cache")))
        mp.setenv("MI_OFFLINE", "true")
        mp.setenv("MI_DATA_DIR", str(shared_datasets))
        get_settings(refresh=True)
        quiet = Progress(stream=io.StringIO(), tty=False)
        runner.run_workflow(runner.parse_spec(_TINY_SPEC), out, progress=quiet)
    get_settings(refresh=True)
    return out


def test_report_from_real_run_folder(tiny_run: Path, tmp_path: Path):
    from mi.report import collect_run

    data = collect_run(tiny_run)
    assert data.title == "tiny_magnet_screen"
    assert [t.name for t in data.targets] == ["Ms"]
    t = data.targets[0]
    assert {"MAE", "RMSE", "R2"} <= set(t.metrics)
    assert len(t.cv_predictions) == 150
    assert set(t.calibration["std"]) >= {"raw"}
    assert t.feature_importance is not None and len(t.feature_importance) > 10
    assert data.candidates is not None and 0 < len(data.candidates) <= 10
    assert {"rank", "formula", "Ms_mean", "Ms_std", "supply_risk"} <= set(data.candidates.columns)
    assert {"Ms_in_domain", "Ms_known"} <= set(data.candidates.columns)  # flags in the ranked list
    assert data.n_candidates["generated"] == 6 * 7
    # the Dy cap removed the Dy-rich rows, and the report says how many
    assert "removed" in data.constraints[0] and "Dy+Tb" in data.constraints[0]
    assert data.data[0].name == "novamag" and data.data[0].sha256
    assert data.element_criticality is not None
    crit = data.element_criticality.set_index("element")["supply_risk"]
    assert crit["Dy"] > crit["Fe"]
    # what to make next: the batch of batch.csv, each pick with its novelty and domain flags
    batch = pd.read_csv(tiny_run / "batch.csv")
    assert data.picks_kind == "batch" and len(data.picks) == len(batch) == 2
    assert data.picks["formula"].tolist() == batch["formula"].tolist()
    for col in ("Ms_nearest", "Ms_nearest_l1", "Ms_known", "Ms_in_domain", "Ms_domain_score"):
        assert data.picks[col].notna().all(), col
    assert (data.picks["Ms_nearest_l1"] >= 0).all()

    path = write_report(tiny_run)
    assert path == tiny_run / "report.html"
    text = path.read_text()
    names = re.findall(r"data-figure='([^']+)'", text)
    assert names == [
        "pareto-Ms",
        "parity-Ms",
        "calibration-Ms",
        "importance-Ms",
        "element-criticality",
    ]
    assert "could not be drawn" not in text
    next_part = text[text.index("<section id='next'>") : text.index("<section id='candidates'>")]
    for formula in batch["formula"]:
        assert formula in next_part
    assert "novamag-raw.csv" in text  # dataset hash table
    assert "error bars ±1 predictive std (recalibrated, cross-fit)" in text
    for img in _images(text):
        assert min(img.size) > 150
    if _chromium() is not None:
        png = screenshot(path, tmp_path / "run-report.png", tmp_path / "profile")
        arr = np.asarray(Image.open(png).convert("L"), dtype=np.float64)
        assert arr.std() > 20.0


def test_run_summary_is_one_typed_record(tiny_run: Path, tmp_path: Path):
    """summary.json is written and read by RunSummary; load_result hands back the same object."""
    import json

    from mi.report.summary import SUMMARY_VERSION, RunSummary
    from mi.runner import load_result

    summary = RunSummary.read(tiny_run / "summary.json")
    assert summary.version == SUMMARY_VERSION and not summary.train_only
    assert summary.counts is not None and summary.counts.generated == 6 * 7
    assert summary.counts.ranked <= summary.counts.passed_constraints <= summary.counts.generated
    (cap,) = summary.constraints
    assert "Dy+Tb" in cap.description
    assert cap.removed == summary.counts.generated - summary.counts.passed_constraints
    assert summary.target("Ms").metrics["mae"].n_folds == 3
    assert summary.datasets[0].name == "novamag" and summary.datasets[0].sha256
    assert summary.acquisition is not None and summary.acquisition.name == "ucb"
    assert summary.criticality is not None and summary.criticality.as_of
    assert summary.paths.batch == "batch.csv" and summary.paths.campaign is None
    assert load_result(tiny_run).summary == summary
    # written by the same class: a round trip is lossless
    again = RunSummary.read(summary.write(tmp_path / "summary.json"))
    assert again == summary
    assert json.loads((tmp_path / "summary.json").read_text())["version"] == SUMMARY_VERSION


def _summary_json(tiny_run: Path) -> dict:
    import json

    return json.loads((tiny_run / "summary.json").read_text())


def test_summary_of_the_previous_version_is_converted(tiny_run: Path, tmp_path: Path):
    """Summaries written before the typed record (no version; train-only: counts = {})."""
    from mi.report.summary import RunSummary

    current = RunSummary.read(tiny_run / "summary.json")
    old = _summary_json(tiny_run)
    del old["version"], old["train_only"]
    del old["paths"]["campaign"]
    del old["counts"]["conditions_per_composition"]  # written since conditions exist
    (tmp_path / "summary.json").write_text(__import__("json").dumps(old))
    converted = RunSummary.read(tmp_path / "summary.json")
    assert converted == current
    # a train-only summary of that version: empty counts, none of the screen's keys
    train = {
        k: v
        for k, v in old.items()
        if k
        not in {
            "executor",
            "acquisition",
            "coercivity",
            "criticality",
            "candidate_columns",
            "worker_seconds",
            "workers_memory_peak_bytes",
        }
    }
    train |= {
        "train_only": True,
        "counts": {},
        "constraints": [],
        "paths": {"cv": "cv/", "models": "models/", "report": "report.html"},
    }
    (tmp_path / "summary.json").write_text(__import__("json").dumps(train))
    converted = RunSummary.read(tmp_path / "summary.json")
    assert converted.train_only and converted.counts is None and converted.acquisition is None
    assert converted.targets == current.targets and converted.paths.results is None


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda d: d.update(count=d.pop("counts")),
            r"field 'count': Extra inputs are not permitted",
        ),
        (lambda d: d["targets"][0].pop("n_train"), r"field 'targets\.0\.n_train': Field required"),
        (lambda d: d.update(version=99), r"summary version 99, this mi reads version 1; upgrade"),
        (lambda d: d["counts"].update(generated="many"), r"field 'counts\.generated'"),
    ],
    ids=["renamed-key", "missing-key", "newer-version", "wrong-type"],
)
def test_damaged_summary_is_one_clear_line(tiny_run: Path, tmp_path: Path, damage, message):
    import json

    from mi.exceptions import DataError
    from mi.report.summary import RunSummary

    data = _summary_json(tiny_run)
    damage(data)
    (tmp_path / "summary.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match=message) as err:
        RunSummary.read(tmp_path / "summary.json")
    text = str(err.value)
    assert "\n" not in text and str(tmp_path / "summary.json") in text
    assert f"mi run <workflow> --out {tmp_path}" in text  # the fix


def test_load_result_and_report_refuse_a_corrupt_summary(tiny_run: Path, tmp_path: Path):
    from mi.exceptions import DataError
    from mi.runner import load_result

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    (run / "summary.json").write_text('{"name": "tiny_magnet_screen", "counts": ')
    with pytest.raises(DataError, match=r"summary\.json: not readable as JSON"):
        load_result(run)
    with pytest.raises(DataError, match=r"not readable as JSON"):
        write_report(run)


def test_data_step_record_of_the_previous_layout_redoes_only_that_step(
    tmp_path: Path, shared_datasets: Path, monkeypatch
):
    """A checkpointed training record in the flat layout of earlier mi: the data step is
    redone on resume, the features, CV and model are read back, the summary is the same."""
    import json

    from mi.config import get_settings
    from mi.report.summary import RunSummary
    from mi.runner import parse_spec, run_workflow
    from mi.runner.progress import Progress

    monkeypatch.setenv("MI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MI_OFFLINE", "true")
    monkeypatch.setenv("MI_DATA_DIR", str(shared_datasets))
    get_settings(refresh=True)
    out = tmp_path / "run"
    spec = parse_spec(_TINY_SPEC)
    run_workflow(spec, out, progress=Progress(stream=io.StringIO(), tty=False))
    first = RunSummary.read(out / "summary.json")
    path = out / "steps" / "data_Ms" / "record.json"
    record = json.loads(path.read_text())
    flat = {k: v for k, v in record.items() if k != "dataset"} | record["dataset"]
    path.write_text(json.dumps(flat))
    log = io.StringIO()
    run_workflow(spec, out, progress=Progress(stream=log, tty=False))
    get_settings(refresh=True)
    lines = log.getvalue().splitlines()
    load = next(line for line in lines if "load Ms" in line and "finished" in line)
    assert "from checkpoint" not in load
    for stage in ("featurize Ms", "cross-validate Ms", "train Ms"):
        line = next(line for line in lines if stage in line and "finished" in line)
        assert "from checkpoint" in line, line
    again = RunSummary.read(out / "summary.json")
    assert again.targets == first.targets and again.datasets == first.datasets
    assert json.loads(path.read_text())["dataset"]["name"] == "novamag"


def test_write_report_on_missing_run(tmp_path: Path):
    from mi.exceptions import DataError

    with pytest.raises(DataError, match="does not exist"):
        write_report(tmp_path / "nope")
    with pytest.raises(DataError, match=r"no summary\.json"):
        write_report(tmp_path)


def test_coverage_curve_matches_gaussian_levels():
    from mi.report import coverage_curve

    rng = np.random.default_rng(3)
    y = rng.normal(size=40000)
    curve = coverage_curve(y, np.zeros_like(y), np.full_like(y, 2.0), [0.5, 0.9])
    # std twice the truth: a nominal 50 % interval covers P(|z| < 2 * 0.674) = 0.82
    np.testing.assert_allclose(curve["observed"], [0.82, 0.999], atol=0.01)
    y[0] = np.nan
    assert len(coverage_curve(y, np.zeros_like(y), np.ones_like(y))) == 20


def test_cli_report_rewrites_the_page(tiny_run: Path, tmp_path: Path, capsys):
    from mi.cli import main

    target = tmp_path / "again.html"
    assert main(["report", str(tiny_run), "--out", str(target)]) == 0
    assert f"report: {target.resolve()}" in capsys.readouterr().out
    assert target.read_text().count("<img ") == 5
    assert main(["report", str(tmp_path / "missing")]) == 1
    assert "does not exist" in capsys.readouterr().err
