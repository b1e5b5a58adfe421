"""Tests of mi.candidates templates, streaming generation and deduplication."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest

import mi.candidates.template as template_mod
from mi.candidates import (
    ConstraintReport,
    DenyElements,
    ElementChoice,
    MaxElements,
    Substitution,
    Template,
    grid_values,
)
from mi.candidates._dedup import SeenHashes, row_hashes
from mi.chem import CompositionMatrix, element_index
from mi.exceptions import DataError, FormulaError, RegistryKeyError

NDFEB = "(Nd{1-x-y}Pr{x}Dy{y})2(Fe{1-z}Co{z})14B"


def _collect(t: Template, chunk: int = 97, **kw):
    mats = list(t.iter_chunks(chunk, **kw))
    return CompositionMatrix.concat(mats) if mats else CompositionMatrix.concat([])


def _brute_force_ndfeb(xs, ys, zs) -> CompositionMatrix:
    """Compositions the template must produce, built independently, point by point."""
    rows = []
    for x, y, z in itertools.product(xs, ys, zs):
        if 1 - x - y < -1e-9:
            continue
        row = {
            "Nd": 2 * (1 - x - y),
            "Pr": 2 * x,
            "Dy": 2 * y,
            "Fe": 14 * (1 - z),
            "Co": 14 * z,
            "B": 1.0,
        }
        rows.append({k: v for k, v in row.items() if v > 1e-9})
    return CompositionMatrix.from_dict_rows(rows)


def test_grid_values_include_stop_and_round():
    assert grid_values((0, 1, 0.1)).tolist() == [round(0.1 * i, 12) for i in range(11)]
    assert grid_values([0.3, 0.1, 0.3]).tolist() == [0.1, 0.3]
    assert grid_values(0.25).tolist() == [0.25]
    with pytest.raises(DataError, match="step > 0"):
        grid_values((0, 1, 0))
    with pytest.raises(DataError, match="stop >= start"):
        grid_values((1, 0, 0.1))


def test_size_and_amounts_match_an_independent_expansion():
    xs = grid_values((0, 1, 0.1))
    zs = grid_values((0, 0.2, 0.1))
    t = Template(NDFEB, ranges={"x": (0, 1, 0.1), "y": (0, 1, 0.1), "z": (0, 0.2, 0.1)})
    ref = _brute_force_ndfeb(xs, xs, zs)
    assert t.grid_size == 11 * 11 * 3
    assert t.size == ref.n == 66 * 3  # 1-x-y >= 0 leaves the 66 simplex points
    got = _collect(t, dedup=False)
    assert got.n == t.size
    # same multiset of compositions (order is the template's own)
    assert sorted(got.canonical_keys()) == sorted(ref.canonical_keys())
    # and the same amounts, row for row, once both are sorted by key
    g = got.to_dense()[np.argsort(got.canonical_keys(), kind="stable")]
    r = ref.to_dense()[np.argsort(ref.canonical_keys(), kind="stable")]
    np.testing.assert_allclose(g, r, atol=1e-9)


def test_untabulated_groups_give_the_same_candidates(monkeypatch):
    ranges = {"x": (0, 1, 0.1), "y": (0, 1, 0.1), "z": (0, 0.2, 0.1)}
    tab = Template(NDFEB, ranges=ranges)
    monkeypatch.setattr(template_mod, "TABLE_CAP", 5)  # force chunk-wise filtering
    raw = Template(NDFEB, ranges=ranges)
    assert any(g.table is None for g in raw._groups)
    assert raw.size == tab.size
    assert raw.n_positions == tab.grid_size > raw.size
    report = ConstraintReport()
    a = _collect(raw, dedup=False, report=report)
    b = _collect(tab, dedup=False)
    assert sorted(a.canonical_keys()) == sorted(b.canonical_keys())
    assert report.removed["amount < 0 or variable constraint unmet"] == tab.grid_size - tab.size


def test_dedup_hash_equals_exact_and_brute_force():
    # w = 0 makes the site choice irrelevant, and Pr as a choice merges with the Pr already there
    t = Template(
        "(Nd{1-x}Pr{x})2Fe{14-w}[M]{w}B",
        ranges={"x": (0, 0.5, 0.25), "w": (0, 1, 0.5)},
        sites={"M": ["Co", "Ni", "Fe"]},
    )
    everything = _collect(t, dedup=False)
    assert everything.n == t.size == 3 * 3 * 3
    unique_keys = list(dict.fromkeys(everything.canonical_keys()))
    hashed = _collect(t, chunk=4)
    exact = _collect(t, chunk=4, dedup="exact")
    assert hashed.canonical_keys() == unique_keys
    assert exact.canonical_keys() == unique_keys
    assert len(unique_keys) < everything.n


def test_row_hashes_follow_canonical_keys():
    rng = np.random.default_rng(0)
    base = rng.integers(1, 6, size=(200, 4)).astype(float)
    cols = np.array([element_index(e) for e in ("Fe", "O", "Co", "Nd")])
    dense = np.zeros((400, 103))
    dense[:200, cols] = base
    dense[200:, cols] = base * rng.integers(1, 4, size=(200, 1))  # proportional copies
    sub = dense[:, cols]
    sub[rng.random((400, 4)) < 0.2] = 0.0  # drop some elements
    dense[:, cols] = sub
    m = CompositionMatrix.from_amounts(dense)
    keys = m.canonical_keys()
    h = row_hashes(m.to_csr())
    valid = m.valid
    for i in range(400):
        for j in range(0, 400, 7):
            if valid[i] and valid[j]:
                assert (keys[i] == keys[j]) == (h[i] == h[j])


def test_seen_hashes_matches_a_python_set():
    rng = np.random.default_rng(1)
    seen, ref = SeenHashes(), set()
    for _ in range(30):
        h = rng.integers(0, 500, size=rng.integers(0, 60)).astype(np.uint64)
        keep = seen.add_new(h)
        expect = []
        for v in h.tolist():
            expect.append(v not in ref)
            ref.add(v)
        assert keep.tolist() == expect
    assert len(seen) == len(ref)
    assert seen.nbytes == 8 * len(ref)


def test_huge_space_size_is_instant_and_streams():
    tracemalloc.start()
    t = Template(
        "Fe{a}Co{b}Ni{c}Cu{d}Al{e}Ga{f}",
        ranges={k: (0.01, 1.0, 0.01) for k in "abcdef"},
    )
    assert t.size == t.grid_size == 10**12
    chunk = next(t.iter_chunks(1000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50e6, peak  # nothing of the 10^12 points was built (memory, not wall time)
    assert chunk.n == 1000
    # a coupled space of 3e15 points: the size is exact (simplex count), sampling works
    big = Template(
        "(Nd{1-x-y}Pr{x}Dy{y})[M]{u}[N]{v}Fe{w}",
        ranges={
            "x": (0, 1, 0.001),
            "y": (0, 1, 0.001),
            "u": (0.001, 1, 0.001),
            "v": (0.001, 1, 0.001),
            "w": (0.001, 1, 0.001),
        },
        sites={"M": ["Co", "Ni"], "N": ["Al", "Ga", "Cu"]},
    )
    assert big.size == (1001 * 1002 // 2) * 1000**3 * 6
    matrix, params = big.sample(50, random_state=3)
    assert matrix.n == 50 and len(set(matrix.canonical_keys())) == 50
    assert np.all(params["x"] + params["y"] <= 1 + 1e-9)


def test_space_beyond_int64_can_be_sampled_but_not_walked():
    t = Template(
        "".join(
            f"{el}{{{v}}}"
            for el, v in zip(
                ["Fe", "Co", "Ni", "Cu", "Al", "Ga", "Ti", "V", "Cr", "Mn"],
                "abcdefghij",
                strict=True,
            )
        ),
        ranges={v: (0.01, 1.0, 0.01) for v in "abcdefghij"},
    )
    assert t.size == 10**20
    with pytest.raises(DataError, match="sample"):
        next(t.iter_chunks(10))
    m, _ = t.sample(5, random_state=0)
    assert m.n == 5


def test_sample_is_reproducible_and_respects_constraints():
    t = Template(NDFEB, ranges={"x": (0, 1, 0.05), "y": (0, 1, 0.05), "z": (0, 0.3, 0.05)})
    a, pa = t.sample(40, random_state=7, constraints=[DenyElements(["Dy"])])
    b, _ = t.sample(40, random_state=7, constraints=[DenyElements(["Dy"])])
    assert a.canonical_keys() == b.canonical_keys()
    assert a.n == 40
    assert (pa["y"] == 0).all()
    assert a.to_dense()[:, element_index("Dy")].max() == 0


def test_substitution_site_replaces_dy():
    t = Template.from_substitutions(
        "(Nd0.8Dy0.2)2Fe14B", Substitution("Dy", ["Ce", "La", "Pr", "Y"], (0, 1, 0.05))
    )
    assert t.size == 21 * 4
    report = ConstraintReport()
    mats, params = zip(*t.iter_chunks(16, report=report, with_params=True), strict=True)
    m = CompositionMatrix.concat(list(mats))
    # f = 0 gives the base compound whatever the choice: 3 duplicates
    assert m.n == 84 - 3 == report.n_output
    assert report.removed["duplicate reduced composition"] == 3
    dy = m.to_dense()[:, element_index("Dy")]
    import pandas as pd

    par = pd.concat(params, ignore_index=True)
    np.testing.assert_allclose(dy, 0.4 * (1 - par["f_Dy"].to_numpy()), atol=1e-12)
    for sym in ("Ce", "La", "Y"):
        col = m.to_dense()[:, element_index(sym)]
        chosen = (par["M_Dy"] == sym).to_numpy()
        np.testing.assert_allclose(col[chosen], 0.4 * par["f_Dy"].to_numpy()[chosen], atol=1e-12)
        assert np.all(col[~chosen] == 0)


def test_site_used_twice_takes_one_element_and_extra_constraints():
    t = Template(
        "[R]{2-a}Fe{14}[R]{a}B",
        ranges={"a": (0, 2, 0.5)},
        sites={"R": ElementChoice(["Nd", "Ce"])},
    )
    m = _collect(t, dedup=False)
    assert sorted(set(m.canonical_keys())) == ["BCe2Fe14", "BFe14Nd2"]
    c = Template(
        NDFEB,
        ranges={"x": (0, 1, 0.1), "y": (0, 1, 0.1), "z": 0.0},
        constraints=["x + y <= 0.3", "y > 0"],
    )
    got = _collect(c, with_params=False, dedup=False)
    assert c.size == got.n == 3 + 2 + 1  # y in {0.1, 0.2, 0.3}, x in 0..0.3-y


def test_report_counts_add_up_with_constraints():
    from mi.criticality import max_mass_fraction

    t = Template(NDFEB, ranges={"x": (0, 1, 0.1), "y": (0, 1, 0.1), "z": (0, 0.2, 0.1)})
    dytb = max_mass_fraction({"Dy", "Tb"}, 0.01)
    report = ConstraintReport()
    kept = _collect(t, chunk=50, constraints=[dytb, MaxElements(4)], report=report)
    frame = report.to_frame()
    assert report.n_input == t.size
    assert report.n_output == kept.n
    assert report.n_input - frame["removed"].sum() == kept.n
    everything = _collect(t)
    dy_ok = dytb(everything)
    assert report.removed[dytb.description] == int((~dy_ok).sum())
    assert report.removed["at most 4 elements"] == int(
        (everything.take(dy_ok).n_elements > 4).sum()
    )


@pytest.mark.parametrize(
    ("text", "kwargs", "error", "match"),
    [
        ("Nd2Fe14Xx", {}, FormulaError, "Unknown element 'Xx'"),
        ("Nd{1-x}Fe", {}, DataError, "without a range"),
        ("Nd{1-x}Fe", {"ranges": {"x": (0, 1, 0.1), "xx": 1}}, RegistryKeyError, "Did you mean"),
        ("(Nd{x}Fe)2", {"ranges": {"x": (0, 1, 0.5)}}, None, None),
        ("(Nd{x}Fe){x}", {"ranges": {"x": (0, 1, 0.5)}}, FormulaError, "not be linear|linear"),
        ("Nd{x*x}", {"ranges": {"x": (0, 1, 0.5)}}, FormulaError, "not linear"),
        ("Nd2(Fe14B", {}, FormulaError, "Unbalanced"),
        ("Nd2Fe14B)", {}, FormulaError, "Unbalanced"),
        ("[M]Fe", {}, DataError, "sites="),
        ("Nd{__import__('os')}", {}, FormulaError, "Invalid amount"),
        ("Nd2 Fe14 B", {"sites": {"M": ["Fe"]}}, RegistryKeyError, "template site"),
    ],
)
def test_template_errors_name_the_problem(text, kwargs, error, match):
    if error is None:
        assert Template(text, **kwargs).size == 3
        return
    with pytest.raises(error, match=match):
        Template(text, **kwargs)


def test_chunks_never_exceed_chunk_size_and_cover_everything_once():
    t = Template(NDFEB, ranges={"x": (0, 1, 0.05), "y": (0, 1, 0.05), "z": (0, 0.3, 0.05)})
    sizes = [m.n for m in t.iter_chunks(500, dedup=False)]
    assert max(sizes) <= 500
    assert sum(sizes) == t.size
    pool = t.to_pool()
    assert len(pool) == len(set(pool.keys)) <= t.size
    assert set(pool.to_frame().columns) >= {"formula", "source", "x", "y", "z"}
    with pytest.raises(DataError, match="max_candidates"):
        t.to_pool(max_candidates=10)


def test_fast_wrapped_chunks_equal_validated_matrices():
    t = Template(
        "(Nd{1-x-y}Pr{x}Dy{y})2(Fe{1-z}[M]{z})14B",
        ranges={"x": (0, 1, 0.25), "y": (0, 1, 0.25), "z": (0, 0.5, 0.25)},
        sites={"M": ["Co", "Fe", "Ni"]},
    )
    for chunk in t.iter_chunks(64, dedup=False):
        csr = chunk.to_csr()
        assert csr.has_sorted_indices and np.all(csr.data > 0) and np.all(np.isfinite(csr.data))
        checked = CompositionMatrix.from_amounts(csr.copy())
        np.testing.assert_array_equal(checked.to_dense(), chunk.to_dense())
        assert checked.canonical_keys() == chunk.canonical_keys()


def test_chunks_feed_featurization_like_parsed_formulas():
    from mi.features import featurize

    t = Template("(Nd{1-x}Dy{x})2(Fe{1-z}Co{z})14B", ranges={"x": (0, 1, 0.5), "z": [0, 0.1]})
    chunk = next(t.iter_chunks())
    direct = featurize(chunk, preset="magpie")
    from_text = featurize(chunk.formulas(), preset="magpie")
    assert direct.shape == (6, from_text.shape[1])
    np.testing.assert_allclose(direct.to_numpy(), from_text.to_numpy(), equal_nan=True)
