"""``mi demo``: the flagship workflow end to end (quick sizes here)."""

from __future__ import annotations

import json

import pandas as pd

from mi.cli import main


def test_demo_runs_flagship_and_says_where_results_are(tmp_path, capsys, shared_datasets):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--quick"]) == 0
    text = capsys.readouterr().out
    assert "mi demo: workflow 'ndfeb_hree_reduction' (quick sizes)" in text
    assert "dataset  : curie_tc" in text and "dataset  : novamag" in text  # row accounting
    assert "constraint mass fraction of Dy+Tb <= 0.01: removed" in text
    assert f"top 50: {out / 'top.csv'}" in text
    assert ("Open the report: " in text) or ("Results are in " in text)
    summary = json.loads((out / "summary.json").read_text())
    families = set(pd.read_parquet(out / "results.parquet")["family"])
    assert len(families) >= 4  # the quick grid still covers the families
    assert summary["name"] == "ndfeb_hree_reduction"
    # the mined Curie labels were audited; the changes are listed with their rule
    curie = next(d for d in summary["datasets"] if d["name"] == "curie_tc")
    rules = {row["rule"] for row in curie["label_audit"]}
    assert {"r2fe14b_floor", "consensus", "not_positive"} <= rules
    audit = pd.read_parquet(out / curie["audit_file"])
    assert (audit["composition"] == "BDy2Fe14").any()
    # every retained candidate carries novelty and applicability flags per target
    results = pd.read_parquet(out / "results.parquet")
    for target in ("Tc", "Ms"):
        for col in ("nearest", "nearest_l1", "known", "in_domain", "domain_score"):
            assert results[f"{target}_{col}"].notna().all(), f"{target}_{col}"
    report = out / "report.html"
    if report.is_file():
        text = report.read_text()
        assert text.index("What to make next") < text.index("Top candidates")
        assert "curie_tc: label audit" in text
