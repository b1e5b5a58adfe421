from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from mi.chem import CompositionMatrix, parse_formulas
from mi.config import get_settings
from mi.exceptions import (
    FallbackWarning,
    FeaturizationError,
    FormulaError,
    RegistryKeyError,
    SpecError,
)
from mi.features import featurize, featurize_to_parquet, get_preset, list_presets
from mi.features.cache import FeatureCache

# Edge cases: single elements, equal amounts (mode ties), amounts tied within np.isclose,
# elements whose Magpie data is imputed (He, Fr, Lr, noble gases), >= 8 elements (numpy's
# pairwise summation), parentheses, fractional amounts.
EDGE = [
    "Fe",
    "He",
    "NaCl",
    "Fe1O1.000001",
    "Fe2O3",
    "(Nd0.8Dy0.2)2Fe14B",
    "Ba0.4K0.6Fe2As2",
    "FrLr2",
    "ArKrXe",
    "LiBeBCNOFNaMgAl",
    "HLiNaKRbCsFrBeMgCaSrBaRa",
    "Li7La3Zr2O12",
    "Ti0.1Y0.9C1.35",
    "O3Fe2",
]
COMPOSITION_PRESETS = ["magpie", "magnet", "conductor"]


def _use_search_path(monkeypatch, tmp_path, files: dict[str, str]):
    folder = tmp_path / "user"
    (folder / "featurizers").mkdir(parents=True)
    for name, text in files.items():
        (folder / "featurizers" / f"{name}.toml").write_text(text)
    monkeypatch.setenv("MI_SEARCH_PATH", json.dumps([str(folder)]))
    get_settings(refresh=True)


def assert_same(fast: pd.DataFrame, slow: pd.DataFrame, rtol: float = 1e-9):
    assert list(fast.columns) == list(slow.columns)
    a, b = fast.to_numpy(np.float64), slow.to_numpy(np.float64)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(b)
    np.testing.assert_allclose(a[ok], b[ok], rtol=rtol, atol=0)


def test_presets_registry():
    names = set(list_presets()["name"])
    assert {"magpie", "magnet", "conductor", "structure_basic"} <= names
    with pytest.raises(RegistryKeyError, match="Did you mean 'magpie'"):
        get_preset("magpi")


def test_magpie_labels_are_matminers():
    from matminer.featurizers.composition import ElementProperty

    labels = get_preset("magpie").feature_labels()
    assert labels == ElementProperty.from_preset("magpie").feature_labels()
    assert len(labels) == 132
    assert "MagpieData mean Number" in labels


@pytest.mark.parametrize("preset", COMPOSITION_PRESETS)
def test_fast_equals_matminer_on_edge_cases(preset):
    fast = featurize(EDGE, preset=preset)
    slow = featurize(EDGE, preset=preset, backend="matminer")
    assert fast.shape == (len(EDGE), get_preset(preset).n_features)
    assert_same(fast, slow)


def test_magpie_is_bit_identical_on_edge_cases():
    fast = featurize(EDGE, preset="magpie").to_numpy()
    slow = featurize(EDGE, preset="magpie", backend="matminer").to_numpy()
    np.testing.assert_array_equal(fast, slow)


def test_mode_breaks_ties_with_the_smallest_value():
    df = featurize(["NaCl", "Fe1O1.000001", "Fe1O1.1"], preset="magpie")
    col = "MagpieData mode Number"
    assert df.loc[0, col] == 11  # Na (11) and Cl (17) tie -> smallest
    assert df.loc[1, col] == 8  # amounts within np.isclose(rtol=1e-5) tie -> O (8)
    assert df.loc[2, col] == 8  # O is the majority


def test_missing_element_data_is_imputed_with_the_all_element_mean():
    from matminer.utils.data import MagpieData

    from mi.features.element_data import imputed_elements

    assert imputed_elements("magpie", "MeltingT") == ["He", "Fr"]
    values = [v for v in MagpieData(impute_nan=False).all_elemental_props["MeltingT"].values()]
    expected = float(np.nanmean(values))
    df = featurize(["He"], preset="magpie")
    assert df.loc[0, "MagpieData mean MeltingT"] == pytest.approx(expected, rel=1e-15)


def test_impute_nan_false_gives_nan(monkeypatch, tmp_path):
    _use_search_path(
        monkeypatch,
        tmp_path,
        {
            "raw": 'name = "raw"\n[[featurizer]]\nclass = "ElementProperty"\npreset = "magpie"\n'
            "params = { impute_nan = false }\n"
        },
    )
    fast = featurize(["He", "Fe2O3", "HeFe"], preset="raw")
    slow = featurize(["He", "Fe2O3", "HeFe"], preset="raw", backend="matminer")
    assert np.isnan(fast.loc[0, "MagpieData mean MeltingT"])
    assert np.isnan(fast.loc[2, "MagpieData minimum MeltingT"])
    assert not np.isnan(fast.loc[1, "MagpieData mean MeltingT"])
    assert_same(fast, slow)


def test_user_preset_overrides_and_validation(monkeypatch, tmp_path):
    _use_search_path(
        monkeypatch,
        tmp_path,
        {
            "bad_kind": 'kind = "gas"\n[[featurizer]]\nclass = "Stoichiometry"\n',
            "bad_key": 'colour = 1\n[[featurizer]]\nclass = "Stoichiometry"\n',
            "no_class": '[[featurizer]]\nclass = "NoSuchFeaturizer"\n',
            "dupes": '[[featurizer]]\nclass = "Stoichiometry"\n' * 2,
            "loop": 'include = ["loop"]\n[[featurizer]]\nclass = "Stoichiometry"\n',
        },
    )
    with pytest.raises(SpecError, match="kind"):
        get_preset("bad_kind")
    with pytest.raises(SpecError, match="colour"):
        get_preset("bad_key")
    with pytest.raises(SpecError, match="NoSuchFeaturizer"):
        get_preset("no_class").feature_labels()
    with pytest.raises(SpecError, match="duplicate columns"):
        get_preset("dupes").feature_labels()
    with pytest.raises(SpecError, match="cycle"):
        get_preset("loop")


def test_featurizer_without_fast_version_falls_back_with_warning(monkeypatch, tmp_path):
    _use_search_path(
        monkeypatch,
        tmp_path,
        {
            "natoms": '[[featurizer]]\nclass = "Stoichiometry"\n'
            "params = { p_list = [2], num_atoms = true }\n"
            '[[featurizer]]\nclass = "TMetalFraction"\n'
        },
    )
    with pytest.warns(FallbackWarning, match="Stoichiometry"):
        fast = featurize(["Fe2O3", "Fe4O6", "NaCl"], preset="natoms")
    slow = featurize(["Fe2O3", "Fe4O6", "NaCl"], preset="natoms", backend="matminer")
    assert list(fast.columns) == ["num atoms", "2-norm", "transition metal fraction"]
    assert_same(fast, slow)


def test_on_error_modes_never_drop_rows():
    formulas = ["Fe2O3", "Xx2O3", "", "NaCl"]
    with pytest.raises(FormulaError, match="row 1"):
        featurize(formulas)
    df = featurize(formulas, on_error="nan")
    assert len(df) == 4
    assert df.iloc[[1, 2]].isna().all().all()
    assert df.iloc[[0, 3]].notna().all().all()
    rep = featurize(formulas, on_error="report", backend="matminer")
    assert [e[0] for e in rep.attrs["errors"]] == [1, 2]
    assert "unknown element symbol 'Xx'" in rep.attrs["errors"][0][2]
    assert_same(df, rep)
    with pytest.raises(FormulaError, match="wrap it in a list"):
        featurize("Fe2O3")
    with pytest.raises(ValueError, match="backend"):
        featurize(["Fe"], backend="gpu")  # type: ignore[arg-type]


def test_matminer_row_failure_is_reported(monkeypatch, tmp_path):
    # ElectronegativityDiff needs oxidation states: matminer raises on plain compositions.
    _use_search_path(
        monkeypatch,
        tmp_path,
        {"oxi": '[[featurizer]]\nclass = "ElectronegativityDiff"\n'},
    )
    with pytest.raises(FeaturizationError, match="Row 0"):
        featurize(["Fe2O3"], preset="oxi", backend="matminer")
    rep = featurize(["Fe2O3", "NaCl"], preset="oxi", backend="matminer", on_error="report")
    assert [e[0] for e in rep.attrs["errors"]] == [0, 1]
    assert rep.isna().all().all()


def test_inputs_dtype_index_and_matrix():
    s = pd.Series(["Fe2O3", "NaCl"], index=["a", "b"])
    df = featurize(s, dtype=np.float32)
    assert list(df.index) == ["a", "b"]
    assert (df.dtypes == np.float32).all()
    m = parse_formulas(["Fe2O3", "NaCl"])
    dense = CompositionMatrix.from_amounts(m.to_dense())  # Z order, not formula order
    ref = featurize(["Fe2O3", "NaCl"])
    assert_same(featurize(m), ref)
    assert_same(featurize(dense), ref, rtol=1e-12)
    from pymatgen.core import Composition

    assert_same(featurize([Composition("Fe2O3"), Composition("NaCl")]), ref)


def test_threads_and_chunks_do_not_change_results():
    rng = np.random.default_rng(0)
    formulas = [EDGE[i] for i in rng.integers(0, len(EDGE), 400)]
    one = featurize(formulas, preset="magnet", n_jobs=1)
    two = featurize(formulas, preset="magnet", n_jobs=2, chunk_size=37)
    pd.testing.assert_frame_equal(one, two)


def test_feature_cache_is_read_back(tmp_path):
    formulas = ["Fe2O3", "NaCl", "Xx"]
    first = featurize(formulas, cache=True, on_error="nan")
    cache = FeatureCache(get_preset("magpie"), "fast")
    parts = list(cache.path.glob("part-*.parquet"))
    assert len(parts) == 1
    stored = pd.read_parquet(parts[0])
    assert stored["key"].tolist() == ["Fe2.0O3.0", "Cl1.0Na1.0"]
    # tamper with the cache: a second call must return the cached (tampered) values
    stored["MagpieData mean Number"] = -1.0
    stored.to_parquet(parts[0], index=False)
    second = featurize(["O3Fe2", "NaCl", "Xx", "KCl"], cache=True, on_error="nan")
    assert second.loc[0, "MagpieData mean Number"] == -1.0
    assert np.isnan(second.loc[2, "MagpieData mean Number"])
    assert second.loc[3, "MagpieData mean Number"] == pytest.approx(18.0)
    assert len(list(cache.path.glob("part-*.parquet"))) == 2  # only KCl was computed
    assert first.loc[0, "MagpieData mean Number"] != -1.0
    assert "magpie-fast-" in cache.path.name


def test_featurize_to_parquet_streams_chunks(tmp_path):
    formulas = (f for f in EDGE * 3)
    path = featurize_to_parquet(formulas, tmp_path / "f.parquet", chunk_size=10)
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == len(EDGE) * 3 and meta.num_row_groups == 5
    back = pd.read_parquet(path)
    assert back["composition"].tolist() == EDGE * 3
    ref = featurize(EDGE * 3, dtype=np.float32)
    np.testing.assert_array_equal(back.drop(columns="composition").to_numpy(), ref.to_numpy())


def test_structure_preset_runs_matminer_with_fallback_warning():
    from pymatgen.core import Lattice, Structure

    nacl = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    fe = Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.warns(FallbackWarning):
        df = featurize([nacl, fe], preset="structure_basic")
    slow = featurize([nacl, fe], preset="structure_basic", backend="matminer")
    assert_same(df, slow)
    assert df.loc[0, "spacegroup_num"] == 225
    assert df.loc[1, "spacegroup_num"] == 229
    assert df.loc[0, "density"] == pytest.approx(nacl.density)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        rep = featurize([nacl, "NaCl"], preset="structure_basic", on_error="report")
    assert rep.attrs["errors"][0][0] == 1
    with pytest.raises(FeaturizationError, match="Structure"):
        featurize(parse_formulas(["NaCl"]), preset="structure_basic")


def test_thread_count_respects_quota_and_a_saturated_machine(monkeypatch):
    import os

    from mi.config import cpu_quota
    from mi.features.core import _threads

    assert _threads(1) == 1
    assert 1 <= _threads(64) <= cpu_quota()
    monkeypatch.delenv("MI_N_JOBS")
    get_settings(refresh=True)
    monkeypatch.setattr(os, "getloadavg", lambda: (1000.0, 0.0, 0.0))
    assert _threads(None) == 1  # default on a saturated machine: one thread
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert _threads(None) == cpu_quota()
