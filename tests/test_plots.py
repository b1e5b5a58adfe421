"""Tests of mi.plots: every figure draws the data it is given, and bad input fails clearly."""

from __future__ import annotations

import io

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import mi.plots as mp
from mi.exceptions import DataError


def _png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    return buf.getvalue()


def _scatter_offsets(ax) -> list[np.ndarray]:
    return [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]


# ---------------------------------------------------------------- parity
def test_parity_draws_points_error_bars_and_metrics():
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    pred = y + rng.normal(scale=0.1, size=50)
    std = np.full(50, 0.2)
    fig = mp.parity(y, pred, std, label="Tc", units="K", metrics={"MAE": 0.0812, "R2": 0.99})
    ax = fig.axes[0]
    offsets = _scatter_offsets(ax)[0]
    np.testing.assert_allclose(offsets[:, 0], y)
    np.testing.assert_allclose(offsets[:, 1], pred)
    # error bars: one vertical segment per point, length 2 std
    segs = [c for c in ax.collections if c.__class__.__name__ == "LineCollection"][0].get_segments()
    assert len(segs) == 50
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in segs], 0.4)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "MAE = 0.0812" in texts and "n = 50" in texts
    assert ax.get_xlabel() == "observed Tc (K)"
    assert _png_bytes(fig).startswith(b"\x89PNG")


def test_parity_accepts_prediction_like_object():
    class Pred:  # the two attributes mi.models.Prediction has
        mean = np.array([1.0, 2.0])
        std = np.array([0.5, 0.1])

    fig = mp.parity([1.0, 2.5], Pred())
    ax = fig.axes[0]
    np.testing.assert_allclose(_scatter_offsets(ax)[0][:, 1], [1.0, 2.0])
    assert "± 1σ" in ax.get_ylabel()


def test_parity_with_real_prediction_class():
    pytest.importorskip("mi.models")
    from mi.models import Prediction

    fig = mp.parity([0.0, 1.0, 2.0], Prediction(np.array([0.1, 1.1, 1.8]), np.array([1, 1, 1.0])))
    assert len(_scatter_offsets(fig.axes[0])[0]) == 3


def test_parity_rejects_length_mismatch():
    with pytest.raises(DataError, match="y_pred has 2 values but 3 were expected"):
        mp.parity([1, 2, 3], [1, 2])


def test_parity_accepts_series():
    fig = mp.parity(pd.Series([1.0, 2.0]), pd.Series([1.5, 2.5]), pd.Series([0.1, 0.1]))
    np.testing.assert_allclose(_scatter_offsets(fig.axes[0])[0][:, 1], [1.5, 2.5])


def test_parity_draws_into_given_axes():
    fig = Figure()
    ax = fig.add_subplot(1, 2, 2)
    assert mp.parity([1, 2], [1, 2], ax=ax) is fig


# ----------------------------------------------------------- calibration
def test_calibration_single_and_grouped():
    fig = mp.calibration([0.5, 0.9], [0.4, 0.8], label="xgb")
    line = [ln for ln in fig.axes[0].lines if ln.get_label() == "xgb"][0]
    np.testing.assert_allclose(line.get_ydata(), [0.4, 0.8])

    table = pd.DataFrame(
        {
            "model": ["a", "a", "b", "b"],
            "expected": [0.9, 0.5, 0.5, 0.9],
            "observed": [0.85, 0.45, 0.6, 0.95],
        }
    )
    fig = mp.calibration(table, by="model")
    labels = {ln.get_label(): ln for ln in fig.axes[0].lines}
    assert {"a", "b", "ideal"} <= set(labels)
    np.testing.assert_allclose(labels["a"].get_xdata(), [0.5, 0.9])  # sorted by expected
    np.testing.assert_allclose(labels["a"].get_ydata(), [0.45, 0.85])


def test_calibration_missing_column():
    with pytest.raises(DataError, match="lacks column"):
        mp.calibration(pd.DataFrame({"expected": [0.5]}))


# ------------------------------------------------------------- discovery
def _history() -> pd.DataFrame:
    rows = []
    for strategy, slope in (("ei", 2.0), ("random", 1.0)):
        for seed in range(3):
            for n in (10, 20, 30):
                rows.append(
                    {"strategy": strategy, "seed": seed, "n_evaluated": n, "best": slope * n + seed}
                )
    return pd.DataFrame(rows)


def test_discovery_curves_median_and_band():
    fig = mp.discovery_curves(_history(), show_seeds=False)
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.lines}
    ei = lines["ei (n=3)"]
    rnd = lines["random (n=3)"]
    np.testing.assert_allclose(ei.get_ydata(), [21, 41, 61])  # median over seeds 0,1,2 is +1
    np.testing.assert_allclose(rnd.get_ydata(), [11, 21, 31])
    assert rnd.get_linestyle() == "--"
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    # band spans the 10-90 % quantiles: at n=10 for ei, 20.2 .. 21.8
    verts = bands[0].get_paths()[0].vertices
    assert verts[:, 1].min() == pytest.approx(20.2)


def test_discovery_curves_errors():
    with pytest.raises(DataError, match="lacks column"):
        mp.discovery_curves(_history().drop(columns="seed"))
    with pytest.raises(ValueError, match="band"):
        mp.discovery_curves(_history(), band=(0.9, 0.1))


# ---------------------------------------------------------------- pareto
def test_pareto_front_marks_given_front_and_highlight():
    df = pd.DataFrame(
        {
            "Ms": [1.0, 1.3, 0.8, 1.2],
            "supply_risk": [0.2, 0.6, 0.5, 0.3],
            "dytb_mass_fraction": [0.0, 0.04, 0.02, 0.0],
            "on_front": [True, True, False, True],
            "formula": ["A", "B", "C", "D"],
            "pick": [False, False, False, True],
        }
    )
    fig = mp.pareto_front(df, "Ms", front="on_front", label_col="formula", highlight="pick")
    ax = fig.axes[0]
    step = [ln for ln in ax.lines if ln.get_label() == "Pareto front"][0]
    np.testing.assert_allclose(step.get_xdata(), [0.2, 0.3, 0.6])  # sorted by risk
    np.testing.assert_allclose(step.get_ydata(), [1.0, 1.2, 1.3])
    assert {t.get_text() for t in ax.texts} == {"A", "B", "D"}
    # colour bar labelled with the colour column
    assert any("dytb mass fraction" in a.get_ylabel() for a in fig.axes[1:])
    assert _png_bytes(fig)


def test_pareto_front_bad_mask_length():
    df = pd.DataFrame({"Ms": [1.0, 2.0], "supply_risk": [0.1, 0.2]})
    with pytest.raises(DataError, match="one value per candidate"):
        mp.pareto_front(df, "Ms", color=None, front=np.array([True]))


# -------------------------------------------------------------- periodic
def _tile_colors(ax) -> list[tuple]:
    return [tuple(p.get_facecolor()) for p in ax.patches if isinstance(p, Rectangle)]


def test_periodic_table_layout_is_unique():
    from mi.chem import ELEMENTS

    positions = [mp.element_position(z) for z in range(1, len(ELEMENTS) + 1)]
    assert len(set(positions)) == len(ELEMENTS)
    assert mp.element_position(26) == (4, 8)  # Fe
    assert mp.element_position(72) == (6, 4)  # Hf after the lanthanides
    assert mp.element_position(66) == (9, 12)  # Dy


def test_periodic_table_heatmap_colours_given_elements():
    fig = mp.periodic_table_heatmap({"Dy": 1.0, "Fe": 0.0}, cmap="viridis", label="risk")
    ax = fig.axes[0]
    colors = _tile_colors(ax)
    from mi.chem import ELEMENTS

    assert len(colors) == len(ELEMENTS)
    import matplotlib

    cm = matplotlib.colormaps["viridis"]
    dy = colors[ELEMENTS.index("Dy")]
    fe = colors[ELEMENTS.index("Fe")]
    np.testing.assert_allclose(dy, cm(1.0))
    np.testing.assert_allclose(fe, cm(0.0))
    missing = colors[ELEMENTS.index("Cu")]
    np.testing.assert_allclose(missing, mcolors.to_rgba("#efefef"))
    assert fig.axes[-1].get_xlabel() == "risk"


def test_periodic_table_heatmap_rejects_non_element():
    with pytest.raises(DataError, match="'Dyy' is not an element symbol.*Did you mean 'Dy'"):
        mp.periodic_table_heatmap({"Dyy": 1.0})


def test_element_criticality_and_importance_heatmaps():
    table = pd.DataFrame({"element": ["Dy", "Tb", "Fe"], "supply_risk": [0.9, 0.95, 0.1]})
    fig = mp.element_criticality_heatmap(table)
    assert "supply risk" in fig.axes[-1].get_xlabel()
    imp = pd.Series({"frac Fe": 0.3, "Co": 0.2, "MagpieData mean Number": 0.5})
    fig = mp.feature_importance_heatmap(imp)
    from mi.chem import ELEMENTS

    colors = _tile_colors(fig.axes[0])
    assert colors[ELEMENTS.index("Fe")] != colors[ELEMENTS.index("Co")]
    with pytest.raises(DataError, match="no per-element feature"):
        mp.feature_importance_heatmap({"MagpieData mean Number": 1.0})


def test_feature_importance_bar_orders_largest_on_top():
    fig = mp.feature_importance_bar({"a": 0.1, "b": 0.5, "c": 0.3, "d": np.nan}, top=2)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "b"]


# --------------------------------------------------------------- ternary
def test_ternary_xy_corners():
    x, y = mp.ternary_xy(np.array([[1, 0, 0], [0, 2, 0], [0, 0, 5], [1, 1, 1]]))
    np.testing.assert_allclose(x, [0, 1, 0.5, 0.5])
    np.testing.assert_allclose(y, [0, 0, np.sqrt(3) / 2, np.sqrt(3) / 6])
    # rounding noise (1 - 0.8 - 0.2 < 0) is zero, a real negative amount is not
    x, _ = mp.ternary_xy(np.array([[1 - 0.8 - 0.2, 0.8, 0.2]]))
    np.testing.assert_allclose(x, [0.9])
    with pytest.raises(DataError, match="ternary row 0"):
        mp.ternary_xy(np.array([[-1e-6, 0.8, 0.2]]))


def test_ternary_map_scatter_contour_and_errors():
    df = pd.DataFrame(
        {
            "Fe": [1, 0, 0, 0.4, 0.2, 0.6, 0.1],
            "Co": [0, 1, 0, 0.3, 0.5, 0.2, 0.2],
            "Ni": [0, 0, 1, 0.3, 0.3, 0.2, 0.7],
            "Ms": [2.1, 1.8, 0.6, 1.9, 1.7, 2.0, 0.9],
            "seen": [1, 0, 0, 1, 0, 0, 0],
        }
    )
    fig = mp.ternary_map(df, "Ms", highlight="seen")
    ax = fig.axes[0]
    texts = {t.get_text() for t in ax.texts}
    assert {"Fe", "Co", "Ni"} <= texts
    stars = _scatter_offsets(ax)[-1]
    assert len(stars) == 2
    fig = mp.ternary_map(df, "Ms", components=["Fe", "Co", "Ni"], kind="contour")
    assert _png_bytes(fig)
    with pytest.raises(DataError, match="exactly 3 component"):
        mp.ternary_map(df, "Ms", components=["Fe", "Co"])
    bad = df.copy()
    bad.loc[2, "Ni"] = -1.0
    with pytest.raises(DataError, match="ternary row 2"):
        mp.ternary_map(bad, "Ms", highlight="seen")


# --------------------------------------------------------------- display
def test_figures_display_as_png_in_ipython():
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        mp._register_notebook_display()
        data, _ = shell.display_formatter.format(mp.parity([1.0, 2.0], [1.0, 2.0]))
        assert data["image/png"][:4] == b"\x89PNG"
    finally:
        InteractiveShell.clear_instance()


def test_discovery_curves_from_benchmark_result():
    from types import SimpleNamespace

    hits = {
        "ei": np.array([[0, 1, 1, 0], [1, 1, 0, 0]], dtype=bool),
        "random": np.array([[0, 0, 1, 0], [0, 0, 0, 1]], dtype=bool),
    }
    result = SimpleNamespace(hits=hits, n_targets=3, n_pool=40, budget=4)
    table = mp.benchmark_history(result)
    ei0 = table[(table.strategy == "ei") & (table.seed == 0)]
    assert ei0["found"].tolist() == [0, 1, 2, 2]
    assert ei0["n_evaluated"].tolist() == [1, 2, 3, 4]
    fig = mp.discovery_curves(result)
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.lines}
    np.testing.assert_allclose(lines["ei (n=2)"].get_ydata(), [0.5, 1.5, 2.0, 2.0])
    assert "all 3 targets" in lines and ax.get_ylabel() == "targets found"
    with pytest.raises(TypeError, match="hits"):
        mp.benchmark_history(object())


def test_pareto_front_constant_colour_gets_a_legend_not_a_colour_bar():
    df = pd.DataFrame({"Tc": [10.0, 20.0], "supply_risk": [0.1, 0.3], "hree": [0.0, 0.0]})
    fig = mp.pareto_front(df, "Tc", color="hree")
    assert len(fig.axes) == 1  # no colour bar
    assert fig.axes[0].get_legend_handles_labels()[1] == ["hree = 0 for all"]
