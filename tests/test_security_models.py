"""Crafted model folders are refused with ModelLoadError, never a crash (issue 18, D6).

Each crafted folder is loaded in a child process: on code without the checks, a folder like
these segfaults or aborts the interpreter, which must fail this test rather than end pytest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mi.models import (
    GPRegressor,
    RandomForestUncertaintyRegressor,
    XGBEnsembleRegressor,
    load_model,
    save_model,
)

LOADER = """
import sys
from mi.exceptions import ModelLoadError
from mi.models import load_model
for folder in sys.argv[1:]:
    try:
        load_model(folder)
    except ModelLoadError as exc:
        print("REFUSED", folder, str(exc).count("\\n"), flush=True)
    except BaseException as exc:
        print("ESCAPED", folder, type(exc).__name__, flush=True)
    else:
        print("LOADED", folder, flush=True)
"""


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    return X, X[:, 0] + 0.1 * rng.normal(size=60)


def _forest(tmp: Path) -> Path:
    X, y = _data()
    model = RandomForestUncertaintyRegressor(n_estimators=4, random_state=0, n_jobs=1).fit(X, y)
    return save_model(model, tmp / "forest")


def _edit_npz(folder: Path, edit) -> None:
    with np.load(folder / "arrays.npz", allow_pickle=False) as z:
        arrays = {k: z[k].copy() for k in z.files}
    doc = json.loads((folder / "model.json").read_text())
    edit(arrays, doc["model"]["fitted"])
    with open(folder / "arrays.npz", "wb") as fh:
        np.savez(fh, allow_pickle=False, **arrays)
    (folder / "model.json").write_text(json.dumps(doc))


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def _crafted(tmp: Path) -> list[Path]:
    forest = _forest(tmp)
    cases = []

    def child_out_of_range(arrays, fitted):
        key = fitted["trees"]["nodes"]["left_child"]
        arrays[key][0] = 10**9

    def feature_out_of_range(arrays, fitted):
        key = fitted["trees"]["nodes"]["feature"]
        arrays[key][0] = 10**6

    def child_cycle(arrays, fitted):
        nodes = fitted["trees"]["nodes"]
        arrays[nodes["left_child"]][0] = 0
        arrays[nodes["right_child"]][0] = 0

    def counts_too_big(arrays, fitted):
        fitted["trees"]["node_counts"][0] += 1000

    def values_wrong_shape(arrays, fitted):
        key = fitted["trees"]["values"]
        arrays[key] = arrays[key].reshape(arrays[key].shape[0], 1)

    def inbag_wrong(arrays, fitted):
        arrays[fitted["inbag"]] = np.zeros(3)

    for edit in (
        child_out_of_range,
        feature_out_of_range,
        child_cycle,
        counts_too_big,
        values_wrong_shape,
        inbag_wrong,
    ):
        folder = _copy(forest, tmp / edit.__name__)
        _edit_npz(folder, edit)
        cases.append(folder)

    X, y = _data()
    xgb = save_model(
        XGBEnsembleRegressor(n_members=2, n_estimators=5, n_jobs=1, random_state=0).fit(X, y),
        tmp / "xgb",
    )
    empty = _copy(xgb, tmp / "empty_booster")
    member = json.loads((empty / "model.json").read_text())["model"]["fitted"]["members"][0]
    (empty / member).write_bytes(b"")
    garbage = _copy(xgb, tmp / "garbage_booster")
    (garbage / member).write_bytes(b"{" + os.urandom(64))
    no_members = _copy(xgb, tmp / "no_members")
    doc = json.loads((no_members / "model.json").read_text())
    doc["model"]["fitted"]["members"] = []
    (no_members / "model.json").write_text(json.dumps(doc))
    cases += [empty, garbage, no_members]
    for cut in (0.3, 0.6, 0.95):  # truncated blobs made xgboost's UBJSON parser segfault
        truncated = _copy(xgb, tmp / f"truncated_{int(cut * 100)}")
        blob = (xgb / member).read_bytes()
        (truncated / member).write_bytes(blob[: int(len(blob) * cut)])
        cases.append(truncated)

    parents = _copy(xgb, tmp / "bad_parent_link")  # crashed xgboost in the fuzz benchmark
    blob = bytearray((xgb / member).read_bytes())
    at = blob.index(b"parents") + len(b"parents")
    assert blob[at : at + 3] == b"[$l" and blob[at + 3 : at + 5] == b"#L"
    first = at + 5 + 8  # after the int64 count: big-endian int32 node parents
    blob[first + 8 : first + 12] = (1000).to_bytes(4, "big")
    (parents / member).write_bytes(bytes(blob))
    cases.append(parents)

    gp = save_model(GPRegressor(n_restarts_optimizer=0, random_state=0).fit(X, y), tmp / "gp")
    gp_bad = _copy(gp, tmp / "gp_shape")
    _edit_npz(gp_bad, lambda a, f: a.__setitem__(f["X_train"], np.zeros((5, 7))))
    not_npz = _copy(forest, tmp / "not_npz")
    (not_npz / "arrays.npz").write_bytes(b"PK\x03\x04 not a zip")
    zip_method = _copy(forest, tmp / "unknown_zip_method")
    data = bytearray((forest / "arrays.npz").read_bytes())
    data[8:10] = (99).to_bytes(2, "little")  # local header compression method
    central = data.index(b"PK\x01\x02")
    data[central + 10 : central + 12] = (99).to_bytes(2, "little")
    (zip_method / "arrays.npz").write_bytes(bytes(data))
    deep = _copy(forest, tmp / "deep_json")
    (deep / "model.json").write_text("[" * 100_000 + "]" * 100_000)
    return [*cases, gp_bad, not_npz, zip_method, deep]


def test_crafted_model_folders_are_refused(tmp_path):
    cases = _crafted(tmp_path)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", LOADER, *map(str, cases)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    lines = proc.stdout.splitlines()
    assert len(lines) == len(cases)
    assert all(line.startswith("REFUSED") and line.endswith(" 0") for line in lines), lines


def test_intact_models_still_load(tmp_path):
    folder = _forest(tmp_path)
    X, _ = _data()
    model = load_model(folder)
    assert model.predict(X).shape == (60,)


@pytest.mark.parametrize("field", ["n_features_in_"])
def test_bad_scalars_refused_in_process(tmp_path, field):
    from mi.exceptions import ModelLoadError

    folder = _forest(tmp_path)
    doc = json.loads((folder / "model.json").read_text())
    doc["model"]["fitted"][field] = -3
    (folder / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ModelLoadError, match="n_features_in_ = -3"):
        load_model(folder)


def test_arrays_are_deflated_and_an_inflation_bomb_is_refused(tmp_path):
    """Saved arrays are zip-deflated; members claiming more than the cap once inflated are
    refused before anything is inflated."""
    import zipfile

    from mi.exceptions import ModelLoadError
    from mi.models.persistence import MAX_ARRAY_BYTES

    folder = _forest(tmp_path)
    with zipfile.ZipFile(folder / "arrays.npz") as z:
        infos = z.infolist()
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in infos)
        assert sum(i.compress_size for i in infos) < sum(i.file_size for i in infos)
    X, _ = _data()
    assert load_model(folder).predict(X).shape == (60,)
    # every central-directory entry claims almost 4 GiB uncompressed
    bomb = _copy(folder, tmp_path / "bomb")
    data = bytearray((bomb / "arrays.npz").read_bytes())
    start = 0
    claimed = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        data[start + 24 : start + 28] = (0xFFFFFF00).to_bytes(4, "little")
        claimed += 0xFFFFFF00
        start += 4
    assert claimed > MAX_ARRAY_BYTES
    (bomb / "arrays.npz").write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="claim .* GiB once inflated"):
        load_model(bomb)
