"""The progress= switch of the Python API (evaluate, featurize) and its reporter."""

from __future__ import annotations

import numpy as np
import pytest

import mi._progress as progress_mod
from mi._progress import StageProgress


def test_evaluate_reports_each_fold_to_a_callable(capsys: pytest.CaptureFixture[str]) -> None:
    from mi.models import XGBEnsembleRegressor, evaluate

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X[:, 0] + 0.1 * rng.normal(size=60)
    seen: list[int] = []
    model = XGBEnsembleRegressor(n_members=2, n_estimators=10, n_jobs=1, random_state=0)
    evaluate(model, X, y, n_splits=3, progress=seen.append)
    assert seen == [1, 1, 1]
    evaluate(model, X, y, n_splits=3, progress=False)
    assert capsys.readouterr().err == ""


def test_featurize_can_be_silenced(capsys: pytest.CaptureFixture[str]) -> None:
    from mi.features import featurize

    df = featurize(["Fe2O3", "NaCl"], preset="magpie", progress=False)
    assert len(df) == 2
    assert capsys.readouterr().err == ""


def test_one_line_per_slow_stage_in_a_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(progress_mod, "DELAY_S", 0.0)  # every stage counts as slow
    monkeypatch.setattr(progress_mod, "_interactive", lambda: False)
    with StageProgress(True, "cross-validate (3 folds)", 3, "folds") as st:
        for _ in range(3):
            st.update(1)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cross-validate (3 folds): 3 folds in" in err[0]
