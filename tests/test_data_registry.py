import shutil

import numpy as np
import pandas as pd
import pytest

from mi.config import get_settings
from mi.data import get_manifest, list_datasets, load_dataset
from mi.data.formulas import check_formulas
from mi.data.manifest import read_manifest
from mi.exceptions import (
    ChecksumError,
    DataError,
    DatasetNotFoundError,
    DataUnavailableError,
    SpecError,
)

REAL = ["supercon", "expt_gap", "curie_tc", "novamag", "mp_magnetism", "obelix"]


def test_registry_lists_the_real_datasets_and_sources():
    df = list_datasets()
    names = set(df["name"])
    assert set(REAL) <= names
    assert {"matbench_expt_gap", "matbench_expt_is_metal", "mp_magnets", "optimade_mp"} <= names
    kinds = df.set_index("name")["kind"]
    assert kinds["matbench_expt_gap"] == "matminer" and kinds["optimade_mp"] == "optimade"
    assert kinds["mp_magnets"] == "materials_project"
    for name in REAL:
        m = get_manifest(name)
        assert m.licence and m.citation
        for f in m.files:
            assert f.download_url.startswith("https://raw.githubusercontent.com/")
            assert f.commit and len(f.commit) == 40


def test_unknown_dataset_suggests_the_closest():
    with pytest.raises(DatasetNotFoundError, match="Did you mean 'supercon'"):
        load_dataset("supercn")


def test_unknown_option_is_refused(shared_datasets):
    with pytest.raises(DataError, match="unknown options"):
        load_dataset("supercon", filter="x")


@pytest.mark.parametrize("name", REAL)
def test_real_dataset_row_accounting(shared_datasets, name):
    ds = load_dataset(name)
    r = ds.report
    m = get_manifest(name)
    assert r.n_input == sum(f.rows for f in m.files)
    assert r.n_input == r.n_accepted + r.n_rejected
    assert len(ds.df) == r.n_output
    t = ds.targets[0]
    # every accepted row went into exactly one output row
    assert int(r.merged["n_rows"].sum()) - len(r.merged) == r.n_accepted - r.n_output
    spec = m.table.targets[0]
    if spec.kind == "float" and spec.missing_value is None and not spec.censored:
        assert int(ds.df[f"{t}_n"].sum()) == r.n_accepted  # every value entered one median
    assert ds.composition_col == "composition"
    assert ds.df["composition"].notna().all()
    assert np.isfinite(ds.df[t]).all()
    assert set(ds.meta.sha256) == {f.name for f in m.files}
    assert ds.meta.units[t] == m.table.targets[0].unit


def test_supercon_quirks(shared_datasets):
    ds = load_dataset("supercon")
    df = ds.df
    assert ds.targets == ["Tc"] and ds.meta.units["Tc"] == "K"
    assert df["tc_reported"].dtype == bool
    assert (df.loc[~df["tc_reported"], "Tc"] == 0).all()
    assert (df.loc[df["tc_reported"], "Tc"] > 0).all()
    # Tc = 0 rows are kept, not dropped: 3,966 in the file, 3,960 after formula validation
    assert (~df["tc_reported"]).sum() > 3800
    assert ds.report.n_input == 16414
    rej = ds.report.rejected
    assert "Xx" not in "".join(rej["value"])
    assert (rej["column"] == "name").all()
    assert rej["reason"].str.contains("zero amount 0.0 for Sr").any()


def test_expt_gap_is_metal(shared_datasets):
    ds = load_dataset("expt_gap")
    assert ds.df["is_metal"].dtype == bool
    assert (ds.df["is_metal"] == (ds.df["Eg"] == 0)).all()
    assert ds.report.n_input == 6354 and ds.report.n_output < 4941 + 1


def test_curie_median_of_mined_array(shared_datasets):
    ds = load_dataset("curie_tc", audit=False)  # the plain median (the audit: test_data_audit)
    raw = pd.read_csv(shared_datasets / "curie_bert_psie_tc" / "Tc_dataset.csv")
    keys = check_formulas(raw["compound"].tolist()).keys
    ni_key = check_formulas(["Ni"]).keys[0]
    cells = [cell for cell, key in zip(raw["Tc"], keys, strict=True) if key == ni_key]
    assert len(cells) >= 1
    ni_values = np.concatenate([np.array(c.strip("[]").split(), dtype=float) for c in cells])
    ni = ds.df.set_index("composition").loc["Ni"]
    assert ni["Tc"] == pytest.approx(np.median(ni_values))
    assert ni["Tc_n"] == ni_values.size and ni["Tc_std"] == pytest.approx(ni_values.std())
    assert (ds.df["Tc_n"] >= 1).all() and (ds.df["Tc"] <= 1450).all()
    assert ds.report.rejected["reason"].str.startswith("above the valid maximum 1450").all()


def test_obelix_censored_split_and_log(shared_datasets):
    ds = load_dataset("obelix")
    df = ds.df
    assert set(df["split"]) == {"train", "test"}
    assert df["log10_sigma_censored"].dtype == bool
    cens = df[df["log10_sigma_censored"]]
    assert len(cens) >= 30 and set(cens["log10_sigma"].round(6)) <= {-10.0, -8.0}
    assert (df["log10_sigma"] < 0).all()
    # merged only within a split: a composition may appear once per split at most
    assert not df.duplicated(["composition", "split"]).any()
    assert (df.groupby("split").size() > 50).all()


def test_novamag_units_are_flagged_as_not_stated(shared_datasets):
    ds = load_dataset("novamag")
    assert "not stated" in ds.meta.units["Ms"]
    assert any("UNITS NOT STATED" in n for n in ds.meta.notes)
    assert ds.report.rejected["reason"].eq("missing value").all()


def test_load_is_memoised_but_returns_copies(shared_datasets):
    a = load_dataset("obelix")
    a.df.loc[0, "log10_sigma"] = 99.0
    b = load_dataset("obelix")
    assert b.df.loc[0, "log10_sigma"] != 99.0


def _mirror(tmp_path, shared_datasets, folder="supercon_stanev2018"):
    mirror = tmp_path / "mirror"
    (mirror / folder).mkdir(parents=True)
    for f in (shared_datasets / folder).iterdir():
        shutil.copy(f, mirror / folder / f.name)
    return mirror


def test_checksum_mismatch_refuses_the_file(tmp_path, monkeypatch, shared_datasets):
    mirror = _mirror(tmp_path, shared_datasets)
    target = mirror / "supercon_stanev2018" / "Supercon_data.csv"
    target.write_bytes(target.read_bytes().replace(b"31.2", b"99.9", 1))
    monkeypatch.setenv("MI_DATA_DIR", str(mirror))
    get_settings(refresh=True)
    with pytest.raises(ChecksumError, match="expected sha256 b34a955c"):
        load_dataset("supercon")


def test_offline_error_says_which_file_to_put_where(tmp_path, monkeypatch):
    monkeypatch.setenv("MI_DATA_DIR", str(tmp_path / "empty"))
    get_settings(refresh=True)
    with pytest.raises(DataUnavailableError) as info:
        load_dataset("expt_gap")
    msg = str(info.value)
    assert "expt_gap_zhuo2018_roost/expt-bandgaps.csv" in msg
    assert "08b7bdd853c7a185e9f022f7a68cfb780d009219" in msg
    assert str(tmp_path / "empty" / "expt_gap_zhuo2018_roost" / "expt-bandgaps.csv") in msg
    assert "offline" in msg


def _user_manifest(tmp_path, url, sha):
    user = tmp_path / "user"
    (user / "datasets").mkdir(parents=True)
    (user / "datasets" / "tiny.toml").write_text(
        f"""
name = "tiny"
title = "tiny test set"
kind = "files"
folder = "tiny_folder"
licence = "CC0"
citation = "none"

[[files]]
name = "tiny.csv"
url = "{url}"
sha256 = "{sha}"
rows = 3

[table]
composition_col = "f"

[[targets]]
name = "y"
unit = "K"
"""
    )
    return user


def test_download_into_cache_with_checksum(tmp_path, monkeypatch):
    import hashlib

    src = tmp_path / "src.csv"
    src.write_text("f,y\nFe,1\nCo,2\nXx,3\n")
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    user = _user_manifest(tmp_path, src.as_uri(), sha)
    monkeypatch.setenv("MI_SEARCH_PATH", f'["{user}"]')
    monkeypatch.setenv("MI_OFFLINE", "false")
    monkeypatch.setenv("MI_DATA_DIR", str(tmp_path / "nomirror"))
    settings = get_settings(refresh=True)
    ds = load_dataset("tiny")
    cached = settings.cache_dir / "datasets" / "tiny_folder" / "tiny.csv"
    assert cached.read_bytes() == src.read_bytes()
    assert ds.compositions() == ["Fe", "Co"] and ds.report.n_rejected == 1
    assert "tiny" in set(list_datasets()["name"])

    # a download whose bytes do not match is refused and not kept
    cached.unlink()
    user2 = _user_manifest(tmp_path / "b", src.as_uri(), "0" * 64)
    monkeypatch.setenv("MI_SEARCH_PATH", f'["{user2}"]')
    get_settings(refresh=True)
    with pytest.raises(ChecksumError):
        load_dataset("tiny")
    assert not cached.exists()
    assert not list(cached.parent.glob("*.part"))


def test_invalid_manifest_names_the_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "bad"\ntitle = "t"\nkind = "files"\nlicence = "x"\ncitation = "y"\n'
        'folder = "f"\n[[files]]\nname = "a.csv"\nsha256 = "zz"\nurl = "u"\n'
        '[table]\ncomposition_col = "c"\n'
    )
    with pytest.raises(SpecError, match=r"files\[0\]\.sha256"):
        read_manifest(bad)


@pytest.mark.parametrize("name", ["matbench_expt_gap", "mp_magnets", "optimade_mp"])
def test_network_sources_offline_say_so(name, tmp_path, monkeypatch):
    monkeypatch.setenv("MI_CACHE_DIR", str(tmp_path / "empty-cache"))
    get_settings(refresh=True)
    with pytest.raises(DataUnavailableError, match="offline"):
        load_dataset(name)


def test_materials_project_needs_a_key(monkeypatch):
    monkeypatch.setenv("MI_OFFLINE", "false")
    monkeypatch.delenv("MP_API_KEY", raising=False)
    get_settings(refresh=True)
    with pytest.raises(DataUnavailableError, match="MP_API_KEY"):
        load_dataset("mp_magnets")
