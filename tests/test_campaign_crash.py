"""Crash safety: SIGKILL a campaign loop at many points inside its steps, resume, compare.

A forked subprocess runs :func:`mi.active.run_loop`; the test kills it with SIGKILL after a random
delay (spread over about one step's duration), starts it again on the same folder, and repeats
until the loop finishes. The final state must equal that of an uninterrupted run of the same
campaign: same observations in the same order, same RNG state, same pending list and history
(timestamps aside), no observation lost and no candidate suggested twice.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_campaign import make_spec, toy_property  # tests/ is on sys.path (rootdir-less)

from mi.active import CallableOracle, Campaign, run_loop

ITERATIONS = 10
BATCH = 3
MIN_KILLS = 20
#: Bound on child starts (not on seconds): a loaded machine makes the test slower, never red.
MAX_STARTS = 400


def _loop(directory: str) -> None:
    run_loop(
        Campaign(directory), CallableOracle(toy_property), iterations=ITERATIONS, batch_size=BATCH
    )
    os._exit(0)


def _run_child(ctx, directory: Path):
    proc = ctx.Process(target=_loop, args=(str(directory),))
    proc.start()
    return proc


def _comparable_state(directory: Path) -> dict:
    state = json.loads((directory / "state.json").read_text())
    for entry in state["history"]:
        entry.pop("time")
    state.pop("observations_file")
    return state


def _tmp_files(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_sigkill_anywhere_in_a_step_loses_nothing(tmp_path):
    ctx = multiprocessing.get_context("fork")
    base = tmp_path / "base"
    Campaign.init(base, make_spec())  # no model is fitted in the parent (fork stays clean)
    ref, crash = tmp_path / "ref", tmp_path / "crash"
    shutil.copytree(base, ref)
    shutil.copytree(base, crash)

    start = time.perf_counter()
    proc = _run_child(ctx, ref)
    proc.join()
    assert proc.exitcode == 0
    step_time = (time.perf_counter() - start) / (2 * ITERATIONS)

    rng = np.random.default_rng(0)
    kills = mid_write = restarts = rounds = 0
    scale = 1.5 * step_time
    while kills < MIN_KILLS and restarts < MAX_STARTS:
        # one round: a fresh copy of the campaign, killed repeatedly until its loop finishes
        rounds += 1
        shutil.rmtree(crash, ignore_errors=True)
        shutil.copytree(base, crash)
        while restarts < MAX_STARTS:
            before = _committed_step(crash)
            proc = _run_child(ctx, crash)
            restarts += 1
            if kills < MIN_KILLS + 10:  # enough kill points: then let the round finish
                proc.join(rng.uniform(0.0, scale))  # a random instant, spread over a step
            else:
                proc.join()
            if proc.exitcode is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.join()
                kills += 1
                mid_write += bool(_tmp_files(crash))
                # keep the kills inside steps: adapt the delay to the progress per attempt
                progress = _committed_step(crash) - before
                scale = scale / 1.5 if progress > 1 else (scale * 1.2 if progress == 0 else scale)
                continue
            assert proc.exitcode == 0
            break
        else:
            pytest.fail(
                f"the interrupted campaign did not finish in {MAX_STARTS} starts ({kills} kills)"
            )
        _check_same_as_reference(crash, ref)
    print(
        f"\nkill points: {kills} SIGKILLs ({mid_write} during a file write), {restarts} starts, "
        f"{rounds} round(s), reference step time {step_time * 1000:.0f} ms"
    )
    assert kills >= MIN_KILLS


def _committed_step(directory: Path) -> int:
    return json.loads((directory / "state.json").read_text())["step"]


def _check_same_as_reference(crash: Path, ref: Path) -> None:
    ref_c, crash_c = Campaign(ref), Campaign(crash)
    obs_ref, obs_crash = ref_c.observations, crash_c.observations
    # no observation lost, none duplicated, identical to the uninterrupted run
    assert len(obs_crash) == ITERATIONS * BATCH
    assert obs_crash["key"].is_unique
    pd.testing.assert_frame_equal(obs_crash, obs_ref)
    suggested = [
        k
        for h in _comparable_state(crash)["history"]
        if h["action"] == "suggest"
        for k in h["keys"]
    ]
    assert len(suggested) == len(set(suggested)) == ITERATIONS * BATCH
    assert _comparable_state(crash) == _comparable_state(ref)
    assert not _tmp_files(crash)
    assert sorted(p.name for p in crash.glob("observations-*")) == [
        json.loads((crash / "state.json").read_text())["observations_file"]
    ]
