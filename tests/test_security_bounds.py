"""Work bounds before work (issue 18, D4): size and memory from the spec alone, at --check."""

from __future__ import annotations

import copy
import tracemalloc

import pytest

from mi.cli import main
from mi.exceptions import DataError, SpecError
from mi.runner.bounds import check_work_bounds, estimate_work, range_count
from mi.runner.spec import DEFAULT_MAX_GRID_POINTS, parse_spec

BASE = {
    "version": 1,
    "name": "t",
    "targets": [{"name": "Tc", "dataset": "curie_tc", "column": "Tc"}],
    "candidates": {"templates": [{"formula": "Nd2Fe14B"}]},
}


def _spec(templates, **execution):
    data = copy.deepcopy(BASE)
    data["candidates"]["templates"] = templates
    if execution:
        data["execution"] = execution
    return parse_spec(data)


def test_tiny_step_is_refused_without_allocating():
    spec = _spec([{"formula": "Fe{1-x}Co{x}", "ranges": {"x": [0.0, 1.0, 1e-15]}}])
    tracemalloc.start()
    try:
        with pytest.raises(SpecError) as info:
            check_work_bounds(spec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # bytes: the 1e15-point grid was never built
    message = str(info.value)
    assert "ranges.x" in message and "1e+15 points" in message
    assert "use a larger step" in message and "\n" not in message


def test_huge_product_of_small_ranges_is_refused():
    ranges = {v: [0.0, 1.0, 0.001] for v in "abcde"}  # 1001**5 ~ 1e15 points
    formula = "Fe{a}Co{b}Ni{c}Cu{d}Zn{e}"
    spec = _spec([{"formula": formula, "ranges": ranges}])
    assert estimate_work(spec).grid_points == pytest.approx(1001.0**5)
    with pytest.raises(SpecError, match=r"templates\[0\].*up to 1\.01e\+15 grid points") as info:
        check_work_bounds(spec)
    assert "max_grid_points = 100,000,000" in str(info.value)
    assert "--max-grid-points N" in str(info.value)


def test_limit_is_settable_and_default_is_documented():
    tpl = [{"formula": "Fe{1-x}Co{x}", "ranges": {"x": [0.0, 1.0, 0.01]}}]
    assert check_work_bounds(_spec(tpl)).grid_points == 101
    with pytest.raises(SpecError, match="more than max_grid_points = 50"):
        check_work_bounds(_spec(tpl, max_grid_points=50))
    assert _spec(tpl).execution.max_grid_points == DEFAULT_MAX_GRID_POINTS == 100_000_000
    with pytest.raises(SpecError, match="memory budget"):
        check_work_bounds(_spec(tpl, memory_budget_gb=1e-9))


def test_range_count_never_allocates():
    assert range_count(0.0, 1.0, 1e-300) > 1e299
    assert range_count(0.0, 0.5, 0.05) == 11


def test_library_template_refuses_huge_range_before_allocating():
    from mi.candidates import Template

    with pytest.raises(DataError, match="use a larger step"):
        Template("Fe{1-x}Co{x}", ranges={"x": (0.0, 1.0, 1e-15)})


def test_cli_check_refuses_oversized_screen_in_one_line(tmp_path, capsys, shared_datasets):
    wf = tmp_path / "wf.toml"
    wf.write_text(
        'version = 1\nname = "big"\n[[targets]]\nname = "Tc"\ndataset = "curie_tc"\n'
        '[[candidates.templates]]\nformula = "Fe{1-x}Co{x}"\nranges = { x = [0.0, 1.0, 1e-9] }\n'
    )
    out = tmp_path / "never"
    assert main(["run", str(wf), "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "ranges.x" in err and "1,000,000,000 points" in err
    assert main(["run", str(wf), "--out", str(out)]) == 1
    assert not out.exists()
    capsys.readouterr()
    assert main(["run", str(wf), "-o", str(out), "--check", "--max-grid-points", "2000000000"]) == 1
    assert (
        "more than 10,000,000 (one variable's grid)" in capsys.readouterr().err
    )  # the per-range hard cap
