"""mi.data.targets: which rows train a target, and every left-out row counted by reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mi.data.targets import target_rows
from mi.exceptions import DataError, TableError


def test_regression_rows_drop_missing_censored_and_out_of_window_values():
    df = pd.DataFrame(
        {
            "Tc": [585.0, np.nan, 1400.0, 0.5, 300.0, 700.0],
            "Tc_censored": [False, False, False, False, True, None],
        }
    )
    rows = target_rows(df, "Tc", min_value=1.0, max_value=1388.0)
    assert rows.keep.tolist() == [True, False, False, False, False, True]
    assert rows.excluded == {
        "target missing": 1,
        "censored value (not a measurement)": 1,
        "Tc < 1": 1,
        "Tc > 1388": 1,
    }
    assert int(rows.keep.sum()) + sum(rows.excluded.values()) == len(df)  # every row accounted


def test_classification_from_a_rule_leaves_out_rows_without_a_label():
    df = pd.DataFrame({"Eg": [0.0, 1.2, np.nan, 0.0], "phase": ["a", "b", "c", "d"]})
    rows = target_rows(df, "is_metal", positive="Eg == 0")
    assert rows.y.tolist() == [1, 0, 0, 1]
    assert rows.keep.tolist() == [True, True, False, True]
    assert rows.excluded == {"Eg missing (no label)": 1}
    # the rule grammar of mi.data.where: two conditions
    both = target_rows(df, "x", positive="Eg == 0 and phase == 'd'")
    assert both.y.tolist() == [0, 0, 0, 1]


def test_classification_on_a_boolean_column_and_its_errors():
    df = pd.DataFrame({"is_metal": [True, False, True], "Eg": [0.0, 1.0, 0.0]})
    rows = target_rows(df, "is_metal", classification=True)
    assert rows.y.tolist() == [1, 0, 1] and rows.keep.all() and rows.excluded == {}
    with pytest.raises(DataError, match="non-boolean column 'Eg'"):
        target_rows(df, "Eg", classification=True)
    with pytest.raises(TableError, match="Did you mean 'Eg'"):
        target_rows(df, "x", positive="eg == 0")
