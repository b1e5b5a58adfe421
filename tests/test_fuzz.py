"""Fuzz suite of issue 18 (formulas, CSV cells, workflow and campaign specs, model folders).

Complements ``tests/test_data_fuzz.py`` (tables and structure files). Budgets are small
(hypothesis ``max_examples`` per test, no deadline) so CI stays quick; ``benchmarks/fuzz.py``
runs the same kinds of inputs by the ten thousand and prints the table.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mi.chem import parse_formulas
from mi.data import read_table
from mi.exceptions import MIError, ModelError

SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
}

_pieces = st.sampled_from(
    ["Fe", "O", "Nd", "Dy", "B", "Co", "Xx", "H2O", "Cu", "S", "(", ")", "[", "]", "{", "}",
     ".", "5", "2", "14", "0.5", "1e13", "1e-9", "e", "-", " ", "\x00", "\r", "\n", "·", "*",
     "@", "Na", "Cl", "D", "T", "NaN", "0"]
)  # fmt: skip
formulas = st.one_of(
    st.lists(_pieces, min_size=0, max_size=12).map("".join),
    st.text(max_size=16),
    st.tuples(_pieces, st.integers(1, 400)).map(lambda t: t[0] * t[1]),
)


@settings(max_examples=400, **SETTINGS)
@given(cells=st.lists(formulas, min_size=1, max_size=20))
def test_fuzz_formulas_accept_or_report_every_row(cells):
    result = parse_formulas(cells, on_error="report")  # only MIError may escape: none here
    valid = np.asarray(result.valid)
    assert valid.shape == (len(cells),)
    assert sorted(i for i, _, _ in result.errors) == np.flatnonzero(~valid).tolist()
    ok = [c for c, v in zip(cells, valid, strict=True) if v]
    if not ok:
        return
    for cell in ok:  # wrong acceptances: things that are never a composition
        assert "\x00" not in cell and "Xx" not in cell and len(cell) <= 1000
    matrix = parse_formulas(ok, on_error="raise")
    keys = matrix.canonical_keys()
    again = parse_formulas(matrix.formulas(), on_error="raise").canonical_keys()
    assert again == keys  # the clean formula means the same composition


@settings(max_examples=80, **SETTINGS)
@given(
    cells=st.lists(
        st.tuples(formulas, st.one_of(st.floats(-1e3, 1e3).map(str), formulas)),
        min_size=1,
        max_size=15,
    )
)
def test_fuzz_csv_cells_with_control_bytes_are_never_lost_or_truncated(tmp_path, cells):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["formula", "y"])
    writer.writerows(cells)
    path = tmp_path / "t.csv"
    path.write_bytes(buf.getvalue().encode("utf-8", "surrogatepass"))
    try:
        ds = read_table(path, composition_col="formula", targets=["y"], merge="none")
    except MIError:
        return
    r = ds.report
    assert r.n_input == r.n_accepted + r.n_rejected
    assert len(ds.df) == r.n_accepted
    accepted = set(ds.df["composition"])
    for composition in accepted:  # nothing accepted that no input cell spells in full
        assert "\\x00" not in composition


BASE = {
    "version": 1,
    "name": "fuzz",
    "targets": [{"name": "Tc", "dataset": "curie_tc", "column": "Tc"}],
    "candidates": {"templates": [{"formula": "Fe{1-x}Co{x}", "ranges": {"x": [0, 1, 0.1]}}]},
}
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["/abs", "../../x", "a/b", "..", "a\x00b", "os.system", "1e-15"]),
    st.lists(st.floats(allow_nan=True), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
_paths = st.sampled_from(
    [
        ("name",),
        ("seed",),
        ("targets", 0, "name"),
        ("targets", 0, "dataset"),
        ("targets", 0, "preset"),
        ("targets", 0, "min_value"),
        ("targets", 0, "max_rows"),
        ("targets", 0, "model_params"),
        ("candidates", "templates", 0, "formula"),
        ("candidates", "templates", 0, "ranges"),
        ("candidates", "templates", 0, "ranges", "x"),
        ("candidates", "max_candidates"),
        ("execution", "chunk_size"),
        ("execution", "max_grid_points"),
        ("outputs", "top_n"),
        ("acquisition", "params"),
        ("unknown_key",),
    ]
)


def _set(data, path, value):
    node = data
    for part in path[:-1]:
        if isinstance(part, str):
            if not isinstance(node, dict):
                return  # an earlier edit replaced the table: nothing to edit below it
            if not isinstance(node.get(part), dict | list):
                node[part] = {}
        elif not isinstance(node, list) or len(node) <= part:
            return  # an earlier edit replaced the list: nothing to edit below it
        node = node[part]
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and len(node) > last:
        node[last] = value


@settings(max_examples=300, **SETTINGS)
@given(edits=st.lists(st.tuples(_paths, _values), min_size=1, max_size=3))
def test_fuzz_workflow_specs_fail_only_with_spec_errors(edits):
    from mi.runner.bounds import check_work_bounds
    from mi.runner.spec import parse_spec

    data = copy.deepcopy(BASE)
    for path, value in edits:
        _set(data, path, value)
    try:
        spec = parse_spec(data, "fuzz.toml")
        est = check_work_bounds(spec)
    except MIError as exc:
        assert "\n" not in str(exc)
        return
    # accepted: names are safe, sizes bounded
    from mi._paths import is_safe_name

    assert all(is_safe_name(t.name) and is_safe_name(t.dataset) for t in spec.targets)
    assert est.grid_points <= spec.execution.max_grid_points


CAMPAIGN = {
    "name": "fuzz",
    "target": "Ms",
    "candidates": {"formulas": ["Fe", "Co", "FeCo"]},
    "features": {"preset": "fractions"},
}
_campaign_paths = st.sampled_from(
    [
        ("name",),
        ("target",),
        ("seed",),
        ("min_observations",),
        ("candidates", "formulas"),
        ("candidates", "file"),
        ("candidates", "template"),
        ("model", "name"),
        ("model", "params"),
        ("acquisition", "name"),
        ("batch", "min_distance"),
        ("version",),
        ("extra",),
    ]
)


@settings(max_examples=200, **SETTINGS)
@given(edits=st.lists(st.tuples(_campaign_paths, _values), min_size=1, max_size=3))
def test_fuzz_campaign_specs_fail_only_with_mi_errors(edits):
    from mi.active.spec import load_spec

    data = copy.deepcopy(CAMPAIGN)
    for path, value in edits:
        _set(data, path, value)
    try:
        load_spec(data)
    except MIError:
        return


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    from mi.models import RandomForestUncertaintyRegressor, XGBEnsembleRegressor, save_model

    root = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X[:, 0]
    forest = RandomForestUncertaintyRegressor(n_estimators=3, random_state=0, n_jobs=1)
    xgb = XGBEnsembleRegressor(n_members=2, n_estimators=4, n_jobs=1, random_state=0)
    return {
        "forest": save_model(forest.fit(X, y), root / "forest"),
        "xgb": save_model(xgb.fit(X, y), root / "xgb"),
    }


@settings(max_examples=150, **SETTINGS)
@given(
    which=st.sampled_from(["forest", "xgb"]),
    field=st.sampled_from(
        ["left_child", "right_child", "feature", "threshold", "values", "inbag", "counts"]
    ),
    index=st.integers(0, 10_000),
    value=st.one_of(st.integers(-(2**40), 2**40), st.floats(allow_nan=True, allow_infinity=True)),
    json_edit=st.one_of(
        st.none(), st.tuples(st.integers(0, 4000), st.binary(min_size=1, max_size=3))
    ),
)
def test_fuzz_model_folders_load_or_raise_model_errors(
    tmp_path, saved_models, which, field, index, value, json_edit
):
    folder = tmp_path / "m"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(saved_models[which], folder)
    _mutate_and_load(folder, which, field, index, value, json_edit)


def _mutate_and_load(folder, which, field, index, value, json_edit):
    from mi.models import load_model

    doc = json.loads((folder / "model.json").read_text())
    fitted = doc["model"]["fitted"]
    if which == "forest":
        with np.load(folder / "arrays.npz", allow_pickle=False) as z:
            arrays = {k: z[k].copy() for k in z.files}
        trees = fitted["trees"]
        if field == "counts":
            trees["node_counts"][0] = (
                int(np.clip(value, -(2**31), 2**31)) if np.isfinite(value) else 0
            )
        else:
            key = (
                fitted["inbag"]
                if field == "inbag"
                else trees["values" if field == "values" else "nodes"]
            )
            key = key if isinstance(key, str) else key[field]
            arr = arrays[key].reshape(-1)
            if arr.dtype.kind == "f":
                arr[index % arr.size] = value
            elif np.isfinite(value):
                info = np.iinfo(arr.dtype)
                arr[index % arr.size] = int(
                    np.clip(value, max(info.min, -(2**62)), min(info.max, 2**62))
                )
            arrays[key] = arr.reshape(arrays[key].shape)
        with open(folder / "arrays.npz", "wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)
    else:
        member = fitted["members"][index % len(fitted["members"])]
        blob = (folder / member).read_bytes()
        # truncations keep the UBJSON framing visible to the checks; xgboost parses the rest
        (folder / member).write_bytes(blob[: index % (len(blob) + 1)])
    text = json.dumps(doc).encode()
    if json_edit is not None:
        at, junk = json_edit
        at %= len(text)
        text = text[:at] + junk + text[at + len(junk) :]
    (folder / "model.json").write_bytes(text)
    try:
        model = load_model(folder)
    except ModelError as exc:
        assert "\n" not in str(exc)
        return
    assert model.predict(np.zeros((2, 3))).shape == (2,)


def _cif_bases() -> dict[str, str]:
    from pymatgen.core import Lattice, Structure

    nacl = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    fe2o3 = Structure(
        Lattice.hexagonal(5.03, 13.7),
        ["Fe", "Fe", "O", "O", "O"],
        [[0, 0, 0.35], [0, 0, 0.65], [0.3, 0, 0.25], [0, 0.3, 0.25], [0.7, 0.7, 0.25]],
    )
    return {"NaCl": nacl.to(fmt="cif"), "Fe2O3": fe2o3.to(fmt="cif")}


_CIFS = _cif_bases()


@settings(max_examples=150, **SETTINGS)
@given(
    base=st.sampled_from(sorted(_CIFS)),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=4),
)
def test_fuzz_byte_flipped_cif_is_never_read_as_another_compound(tmp_path, base, flips):
    """D10: a damaged CIF is refused or read as its own compound (never Na3NCl4 for NaCl)."""
    from mi.data import read_structures

    data = bytearray(_CIFS[base].encode())
    for where, value in flips:
        data[int(where * len(data))] = value
    path = tmp_path / "x.cif"
    path.write_bytes(bytes(data))
    result = read_structures([path])  # only MIError may escape: none with on_error="report"
    r = result.report
    assert r.n_input == r.n_accepted + r.n_rejected
    assert all(s.composition.reduced_formula == base for s in result)
