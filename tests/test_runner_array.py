"""Job-array screening without a scheduler: shards, scripts, merge checks, batch helpers.

The real submissions are in tests/test_runner_slurm.py; these run everywhere.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mi.cli import main
from mi.exceptions import SpecError
from mi.runner.array import (
    _ranges,
    chunk_shard,
    load_frozen_spec,
    merge_shards,
    missing_chunks,
    prepare_models,
    screen_shard,
    write_array_scripts,
)
from mi.runner.batch import job_prologue, log_path, slurm_memory
from mi.runner.progress import Progress
from mi.runner.spec import ClusterSpec, parse_spec

SMALL = {
    "version": 1,
    "name": "array_small",
    "seed": 0,
    "targets": [
        {
            "name": "Tc",
            "dataset": "curie_tc",
            "preset": "magpie",
            "model": "xgb_ensemble",
            "min_value": 1.0,
            "max_rows": 300,
            "model_params": {"n_members": 2, "n_estimators": 20, "n_jobs": 1},
            "cv": {"enabled": False},
        }
    ],
    "candidates": {
        "templates": [
            {
                "formula": "(Nd{1-p-d}Pr{p}Dy{d})2(Fe{1-z}Co{z})14B",
                "ranges": {"p": [0.0, 0.5, 0.1], "d": [0.0, 0.1, 0.05], "z": [0.0, 0.3, 0.05]},
            }
        ]
    },
    "constraints": [{"kind": "max_mass_fraction", "elements": ["Dy", "Tb"], "limit": 0.02}],
    "acquisition": {"name": "ehvi"},
    "outputs": {"top_n": 10, "keep_per_chunk": 20, "report": False},
    "execution": {
        "chunk_size": 20,
        "cluster": {
            "cores": 2,
            "memory": "2GB",
            "walltime": "00:30:00",
            "queue": "short",
            "account": "matsci",
            "modules": ["python/3.11", "gcc/12.2.0"],
            "env": {"MI_DATA_DIR": "/scratch/me/mi data", "OTHER": "a$b"},
            "job_extra_directives": ["--qos=normal"],
        },
    },
}


def test_ranges_and_shards():
    assert _ranges([0, 1, 2, 5]) == "0-2,5"
    assert _ranges([3]) == "3"
    assert _ranges([0, 2, 3, 4, 7, 8]) == "0,2-4,7-8"
    shards = [chunk_shard(k, 4) for k in range(10)]
    assert shards == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]


def test_batch_helpers():
    assert slurm_memory("2GB") == "1908M" and slurm_memory("1GiB") == "1024M"
    lines = job_prologue(parse_spec(SMALL).execution.cluster)
    assert lines == [
        "module load python/3.11",
        "module load gcc/12.2.0",
        "export MI_DATA_DIR='/scratch/me/mi data'",
        "export OTHER='a$b'",
        "export OMP_NUM_THREADS=1 MI_N_JOBS=1",
    ]
    record = {"JobId": "812", "ArrayJobId": "800", "ArrayTaskId": "3", "JobName": "w"}
    assert log_path({**record, "StdErr": "/l/%x-%A_%a.err"}) == "/l/w-800_3.err"
    assert log_path({**record, "StdOut": "/l/slurm-%j.out"}) == "/l/slurm-812.out"
    assert log_path({"JobId": "1"}) is None


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("modules", ["python; rm -rf /"], "module name 'python; rm -rf /'"),
        ("env", {"BAD-NAME": "x"}, "'BAD-NAME' is not a shell identifier"),
    ],
)
def test_cluster_table_rejects_unsafe_names(key, value, message):
    data = json.loads(json.dumps(SMALL))
    data["execution"]["cluster"][key] = value
    with pytest.raises(SpecError, match="execution.cluster." + key) as err:
        parse_spec(data)
    assert message in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ValueError, match=message.split("'")[1]):
        ClusterSpec.model_validate({key: value})


def test_scripts_carry_the_site_settings(tmp_path):
    spec = parse_spec(SMALL)
    scripts = write_array_scripts(spec, tmp_path / "out", 4, workdir=tmp_path)
    assert sorted(scripts) == ["merge", "prepare", "screen"]
    screen = scripts["screen"].read_text()
    for line in (
        "#SBATCH --array=0-3",
        "#SBATCH --partition=short",
        "#SBATCH --account=matsci",
        "#SBATCH --time=00:30:00",
        "#SBATCH --mem=1908M",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --qos=normal",
        f"#SBATCH --output={(tmp_path / 'out').resolve()}/logs/screen-%A_%a.out",
        "module load python/3.11",
        "export MI_DATA_DIR='/scratch/me/mi data'",
        f"cd {tmp_path.resolve()}",
    ):
        assert line in screen.splitlines(), line
    assert screen.splitlines()[-1].endswith(
        f'array screen {(tmp_path / "out").resolve()} --task "$SLURM_ARRAY_TASK_ID" --tasks 4'
    )
    assert (
        scripts["merge"]
        .read_text()
        .splitlines()[-1]
        .endswith("array merge " + str((tmp_path / "out").resolve()))
    )
    assert load_frozen_spec(tmp_path / "out") == spec


def test_cli_dry_run_and_overrides(tmp_path, capsys):
    toml = tmp_path / "wf.toml"
    toml.write_text(_to_toml(SMALL))
    out = tmp_path / "o"
    args = ["submit", str(toml), "--out", str(out), "--array", "3", "--dry-run"]
    args += ["--partition", "long", "--time", "01:00:00", "--mem", "8GB", "--cpus", "1"]
    args += ["--module", "python/3.12", "--env", "MI_OFFLINE=true"]
    assert main(args) == 0
    assert "screen: " in capsys.readouterr().out
    frozen = load_frozen_spec(out).execution.cluster
    assert (frozen.queue, frozen.walltime, frozen.memory, frozen.cores) == (
        "long",
        "01:00:00",
        "8GB",
        1,
    )
    assert frozen.modules == ["python/3.12"] and frozen.env == {"MI_OFFLINE": "true"}
    assert frozen.account == "matsci"  # kept from the file
    assert not (out / "slurm" / "jobs.json").exists()  # nothing submitted


def test_submit_without_sbatch_is_one_line(tmp_path, capsys, monkeypatch):
    toml = tmp_path / "wf.toml"
    toml.write_text(_to_toml(SMALL))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["submit", str(toml), "--out", str(tmp_path / "o"), "--array", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert "`sbatch` is not on PATH here" in err and "\n" not in err


def test_shards_then_merge_equal_a_local_run(tmp_path, shared_datasets):
    """prepare, every shard (one of them twice, as a rerun), merge: same table as run_workflow."""
    from mi.runner.workflow import run_workflow

    spec = parse_spec(SMALL)
    quiet = Progress(quiet=True)
    local = run_workflow(spec, tmp_path / "local", progress=quiet)

    out = tmp_path / "array"
    write_array_scripts(spec, out, 3)
    with pytest.raises(SpecError, match="not prepared"):
        screen_shard(out, 0, 3, quiet)
    n_chunks = prepare_models(out, quiet)
    assert n_chunks == len(list((tmp_path / "local" / "chunks").glob("*.json"))) >= 6
    assert sorted(missing_chunks(out, 3)) == [0, 1, 2]
    first = screen_shard(out, 1, 3, quiet)
    assert first["screened"] == len(range(1, n_chunks, 3)) and first["skipped"] == 0
    with pytest.raises(SpecError, match=f"of {n_chunks} chunks are not screened yet"):
        merge_shards(out, quiet)
    again = screen_shard(out, 1, 3, quiet)
    assert again == {"screened": 0, "skipped": first["screened"], "candidates": 0}
    for task in (0, 2):
        screen_shard(out, task, 3, quiet)
    assert missing_chunks(out, 3) == {}
    merged = merge_shards(out, quiet)
    pd.testing.assert_frame_equal(local.candidates, merged.candidates, check_exact=True)
    assert local.summary.counts == merged.summary.counts


def _to_toml(data: dict) -> str:
    """Just enough TOML for SMALL (tables, arrays of tables, inline values)."""

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + " }"
        return repr(v)

    lines = [f"{k} = {value(v)}" for k, v in data.items() if not isinstance(v, (dict, list))]
    for t in data["targets"]:
        lines += ["[[targets]]", *(f"{k} = {value(v)}" for k, v in t.items())]
    for t in data["candidates"]["templates"]:
        lines += ["[[candidates.templates]]", *(f"{k} = {value(v)}" for k, v in t.items())]
    for c in data["constraints"]:
        lines += ["[[constraints]]", *(f"{k} = {value(v)}" for k, v in c.items())]
    for table in ("acquisition", "outputs"):
        lines += [f"[{table}]", *(f"{k} = {value(v)}" for k, v in data[table].items())]
    ex = data["execution"]
    lines += ["[execution]", f"chunk_size = {ex['chunk_size']}", "[execution.cluster]"]
    lines += [f"{k} = {value(v)}" for k, v in ex["cluster"].items()]
    return "\n".join(lines) + "\n"


def test_toml_helper_round_trips():
    import tomllib

    assert parse_spec(tomllib.loads(_to_toml(SMALL))) == parse_spec(SMALL)
