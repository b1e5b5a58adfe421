"""One writer per output folder (issue 18, D3): a lock on ``--out`` and per-process temp names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from mi._atomic import atomic_write_text, tmp_name
from mi.cli import main
from mi.runner.outdir import LOCK_NAME, OutDirBusyError, OutDirLock
from mi.runner.progress import Progress

SMALL = """
version = 1
name = "lock_small"

[[targets]]
name = "metal"
dataset = "expt_gap"
task = "classification"
positive = "is_metal"
model = "xgb_classifier"
max_rows = 200
model_params = {{ n_estimators = 10, n_jobs = 1 }}
cv = {{ enabled = false }}

[[candidates.templates]]
formula = "[A]{{1-x}}[B]{{x}}"
ranges = {{ x = [0.1, 0.9, 0.1] }}
sites = {{ A = ["Fe", "Cu"], B = ["Si", "Al"] }}

[acquisition]
name = "greedy"

[outputs]
top_n = {top_n}
report = false
"""

HOLDER = """
import sys
from mi.runner.outdir import OutDirLock
with OutDirLock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    return env


class _BlockingProgress(Progress):
    """Progress that pauses the run when the screen starts, until released."""

    def __init__(self, entered: threading.Event, release: threading.Event) -> None:
        super().__init__(quiet=True)
        self.entered, self.release = entered, release

    def stage(self, name, total=None, unit="items"):  # type: ignore[no-untyped-def]
        if name == "screen":
            self.entered.set()
            self.release.wait()
        return super().stage(name, total=total, unit=unit)


def test_second_run_into_same_out_fails_and_first_is_intact(tmp_path, shared_datasets):
    from mi.runner import run_workflow
    from mi.runner.spec import load_spec

    first_file, second_file = tmp_path / "a.toml", tmp_path / "b.toml"
    first_file.write_text(SMALL.format(top_n=5))
    second_file.write_text(SMALL.format(top_n=7))
    out = tmp_path / "out"
    entered, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            outcome["result"] = run_workflow(
                load_spec(first_file), out, progress=_BlockingProgress(entered, release)
            )
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            outcome["error"] = exc

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert entered.wait(timeout=600), outcome
        assert (out / LOCK_NAME).is_file()
        with pytest.raises(OutDirBusyError) as info:
            run_workflow(load_spec(second_file), out, progress=Progress(quiet=True))
    finally:
        release.set()
        thread.join()
    message = str(info.value)
    assert f"pid {os.getpid()} on this host" in message and "use another --out" in message
    assert "error" not in outcome, outcome.get("error")
    summary = json.loads((out / "summary.json").read_text())
    spec = json.loads((out / "spec.json").read_text())
    assert spec["outputs"]["top_n"] == 5 and summary["name"] == "lock_small"
    assert len(pd.read_csv(out / "top.csv")) == 5
    assert not (out / LOCK_NAME).exists()  # released
    assert not [p for p in out.rglob("*.tmp")]


def test_cli_names_the_process_holding_the_folder(tmp_path, capsys, shared_datasets):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        wf = tmp_path / "wf.toml"
        wf.write_text(SMALL.format(top_n=5))
        assert main(["run", str(wf), "--out", str(out)]) == 1
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0
        assert f"is in use by another mi run (pid {holder.pid} on this host" in err
        assert not (out / "state.json").exists()  # nothing written into the folder
    finally:
        holder.communicate("")
    assert holder.returncode == 0 and not (out / LOCK_NAME).exists()


def test_stale_lock_of_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(dead.stdout)
    import socket

    out = tmp_path / "out"
    out.mkdir()
    stale = {"pid": pid, "host": socket.gethostname(), "started": "2026-01-01T00:00:00Z"}
    (out / LOCK_NAME).write_text(json.dumps(stale))
    with OutDirLock(out) as lock:
        assert json.loads((out / LOCK_NAME).read_text())["pid"] == os.getpid()
        assert lock.info["pid"] == os.getpid()
    assert not (out / LOCK_NAME).exists()


def test_lock_from_another_host_is_never_broken(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    other = {"pid": 1, "host": "node042.cluster", "started": "2026-12-01T09:00:00Z"}
    (out / LOCK_NAME).write_text(json.dumps(other))
    with pytest.raises(OutDirBusyError, match=r"pid 1 on host node042\.cluster, started 2026"):
        OutDirLock(out).acquire()
    assert json.loads((out / LOCK_NAME).read_text()) == other


def test_temporary_names_are_per_process_and_per_call(tmp_path):
    target = tmp_path / "results.parquet"
    a, b = tmp_name(target), tmp_name(target)
    assert a != b and str(os.getpid()) in a.name and a.parent == tmp_path
    atomic_write_text(target, "x")
    assert target.read_text() == "x" and [p.name for p in tmp_path.iterdir()] == [target.name]
