"""Job-array screening: one SLURM array task per shard of the candidate space, then a merge.

The pattern large screens use on HPC: no workflow engine and no long-lived scheduler, just
``sbatch`` jobs that share the run's output folder (on a shared file system):

1. ``prepare`` (one job): load, featurize, cross-validate and train every surrogate into the
   folder's checkpoints (steps 1-4 of :func:`mi.runner.run_workflow`);
2. ``screen`` (an array of N tasks, after ``prepare``): task ``i`` screens the chunks whose
   number ``k`` has ``k % N == i`` and writes each as a chunk checkpoint. Chunks already on disk
   are skipped, so a cancelled, timed-out or failed task is simply run again;
3. ``merge`` (one job, after every task): checks that every chunk is on disk, then ranks, writes
   the results and the report exactly as ``mi run`` does.

Chunks are numbered the same way as in ``mi run`` and screened by the same function with the
same seeds, so the results equal a local or Dask run of the same workflow. The workflow is frozen
in ``OUT/slurm/spec.json`` at submission; the job scripts and ``jobs.json`` (the job ids) sit
beside it, the job logs in ``OUT/logs``. Array tasks only add their own chunk files; ``state.json``
is written by ``prepare`` and ``merge`` only.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mi._atomic import atomic_write_text
from mi.exceptions import SchedulerError, SpecError
from mi.runner.checkpoint import Checkpoint, chunks_on_disk, read_state
from mi.runner.progress import Progress
from mi.runner.spec import RunSpec, parse_spec

__all__ = [
    "ArraySubmission",
    "freeze_spec",
    "load_frozen_spec",
    "chunk_shard",
    "prepare_models",
    "screen_shard",
    "missing_chunks",
    "unfinished_jobs",
    "merge_shards",
    "write_array_scripts",
    "submit_array",
]

SLURM_DIR = "slurm"
LOG_DIR = "logs"


def chunk_shard(chunk_index: int, n_tasks: int) -> int:
    """Array task that screens chunk ``chunk_index`` (round robin, so every task gets every family).

    Examples
    --------
    >>> [chunk_shard(k, 3) for k in range(7)]
    [0, 1, 2, 0, 1, 2, 0]
    """
    return chunk_index % n_tasks


def freeze_spec(spec: RunSpec, out: str | Path) -> Path:
    """Write the workflow the jobs will run to ``OUT/slurm/spec.json``; return the path."""
    path = Path(out) / SLURM_DIR / "spec.json"
    atomic_write_text(path, json.dumps(spec.model_dump(mode="json"), indent=2))
    return path


def load_frozen_spec(out: str | Path) -> RunSpec:
    """Read back the workflow frozen by :func:`freeze_spec`.

    Raises
    ------
    SpecError
        ``OUT`` holds no submitted job-array run.
    """
    path = Path(out) / SLURM_DIR / "spec.json"
    if not path.is_file():
        raise SpecError(f"{path} not found: {out} holds no job-array run (`mi submit` makes one).")
    return parse_spec(json.loads(path.read_text()), str(path))


def _checkpoint(spec: RunSpec, out: Path) -> Checkpoint:
    return Checkpoint(out, spec.digest(), spec.model_dump(mode="json"), workflow=spec.name)


def _candidates(spec: RunSpec) -> Any:
    """Return the candidates section (a train-only workflow has nothing to screen here)."""
    if spec.candidates is None:
        raise SpecError(
            f"workflow {spec.name!r} has no [candidates] section (train only): run it with "
            "`mi run`, not as a job array."
        )
    return spec.candidates


def _chunk_count(spec: RunSpec) -> int:
    from mi.runner.candidates import iter_candidate_chunks

    chunks = iter_candidate_chunks(_candidates(spec), spec.execution.chunk_size)
    return sum(1 for _ in chunks)


def prepare_models(out: str | Path, progress: Progress | None = None) -> int:
    """Train every surrogate into ``OUT``'s checkpoints (the ``prepare`` job).

    Returns
    -------
    int
        Number of chunks the screen has.
    """
    from mi.runner.keys import screen_key
    from mi.runner.screening import criticality_as_of
    from mi.runner.training import train_target

    out = Path(out)
    spec = load_frozen_spec(out)
    progress = progress or Progress()
    cp = _checkpoint(spec, out)
    for target in spec.targets:
        train_target(spec, target, cp, progress)
    criticality_as_of(spec, cp)  # the run's date, fixed once before the tasks read it
    cp.use_chunk_key(screen_key(spec))
    n = _chunk_count(spec)
    progress.log(f"prepared {spec.name!r} in {out}: {len(spec.targets)} surrogate(s), {n} chunks")
    return n


def _context(spec: RunSpec, cp: Checkpoint, progress: Progress) -> Any:
    """Build the screen's :class:`~mi.runner.screen.ScreenContext` from the checkpoints."""
    from mi.runner.keys import target_keys
    from mi.runner.screening import screen_context
    from mi.runner.training import trained_targets

    for target in spec.targets:
        if not cp.is_done(f"model_{target.name}", target_keys(spec, target)["model"]):
            raise SpecError(
                f"{cp.out_dir}: surrogate {target.name!r} is not trained yet; the prepare job "
                "must finish before the array tasks (resubmit with `mi submit`)."
            )
    trained, _, tables = trained_targets(spec, cp, progress)
    ctx, _ = screen_context(spec, cp, trained, tables, progress, n_jobs=None)
    return ctx


def screen_shard(
    out: str | Path, task: int, n_tasks: int, progress: Progress | None = None
) -> dict[str, int]:
    """Screen the chunks of array task ``task`` of ``n_tasks`` that are not on disk yet.

    Parameters
    ----------
    out : path
        The run's folder (prepared by :func:`prepare_models`).
    task : int
        This task's number, ``0 <= task < n_tasks`` (``$SLURM_ARRAY_TASK_ID``).
    n_tasks : int
        Size of the array.
    progress : Progress, optional

    Returns
    -------
    dict
        ``screened`` (chunks screened now), ``skipped`` (already on disk), ``candidates``.
    """
    from mi.runner.candidates import iter_candidate_chunks
    from mi.runner.keys import screen_key
    from mi.runner.screen import ChunkTask, screen_chunk

    if not 0 <= task < n_tasks:
        raise SpecError(f"array task {task} is outside 0..{n_tasks - 1}")
    out = Path(out)
    spec = load_frozen_spec(out)
    progress = progress or Progress()
    cp = _checkpoint(spec, out)
    if cp.state.get("chunk_key") != screen_key(spec):
        raise SpecError(f"{out} was not prepared for this workflow: run the prepare job first.")
    ctx = _context(spec, cp, progress)
    done = cp.done_chunks()
    counts = {"screened": 0, "skipped": 0, "candidates": 0}
    with progress.stage(f"screen shard {task}/{n_tasks}", unit="candidates") as st:
        for index, matrix, family, start in iter_candidate_chunks(
            _candidates(spec), spec.execution.chunk_size
        ):
            if chunk_shard(index, n_tasks) != task:
                continue
            if index in done:
                counts["skipped"] += 1
                continue
            rows, stats = screen_chunk(ChunkTask(index, matrix, family, start), ctx)
            cp.write_chunk(index, rows, stats)
            counts["screened"] += 1
            counts["candidates"] += stats["n_generated"]
            st.update(stats["n_generated"])
        st.set_note(f"{counts['screened']} chunks screened, {counts['skipped']} already on disk")
    return counts


def missing_chunks(out: str | Path, n_tasks: int | None = None) -> dict[int, list[int]]:
    """Chunks not on disk yet, by array task (all under task 0 when ``n_tasks`` is None)."""
    out = Path(out)
    spec = load_frozen_spec(out)
    from mi.runner.keys import screen_key

    current = read_state(out).get("chunk_key") == screen_key(spec)
    done = chunks_on_disk(out) if current else set()
    missing: dict[int, list[int]] = {}
    for k in range(_chunk_count(spec)):
        if k not in done:
            missing.setdefault(chunk_shard(k, n_tasks) if n_tasks else 0, []).append(k)
    return missing


def merge_shards(
    out: str | Path, progress: Progress | None = None, report: bool | None = None
) -> Any:
    """Rank the screened chunks and write the results (the ``merge`` job).

    Raises
    ------
    SpecError
        Chunks are missing (a task was cancelled or failed): nothing is written; resubmit.

    Returns
    -------
    RunResult
    """
    from mi.runner.executors import make_executor
    from mi.runner.workflow import run_workflow

    out = Path(out)
    spec = load_frozen_spec(out)
    missing = missing_chunks(out)
    if missing:
        lost = missing[0]
        raise SpecError(
            f"{out}: {len(lost)} of {_chunk_count(spec)} chunks are not screened yet (first: "
            f"{', '.join(map(str, lost[:5]))}); an array task did not finish. Resubmit with "
            f"`mi submit` and the same --out: only the missing shards run again."
        )
    with make_executor("local") as handle:
        return run_workflow(spec, out, handle, progress=progress, report=report)


# --------------------------------------------------------------------------------------
# job scripts and submission
# --------------------------------------------------------------------------------------


@dataclass
class ArraySubmission:
    """What :func:`submit_array` submitted (also written to ``OUT/slurm/jobs.json``).

    Attributes
    ----------
    prepare : str or None
        Job id of the prepare job (None when the surrogates were already trained).
    screen : str or None
        Job id of the array (None when every chunk was already screened).
    merge : str
        Job id of the merge job.
    tasks : list of int
        Array task ids submitted.
    scripts : dict of str to Path
        The job scripts.
    unfinished : list of dict
        Jobs of the previous submission that did not finish their work: ``job_id``, ``state``,
        ``log`` (see :func:`unfinished_jobs`).
    """

    prepare: str | None
    screen: str | None
    merge: str
    tasks: list[int]
    scripts: dict[str, Path] = field(default_factory=dict)
    unfinished: list[dict[str, str]] = field(default_factory=list)

    def job_ids(self) -> list[str]:
        """Ids of the submitted jobs (the array as one id)."""
        return [j for j in (self.prepare, self.screen, self.merge) if j]


def _mi_command() -> list[str]:
    """How a job starts ``mi``: this interpreter's ``mi`` launcher, or ``python -m``."""
    launcher = Path(sys.executable).with_name("mi")
    if launcher.is_file():
        return [str(launcher)]
    return [sys.executable, "-c", "import sys; from mi.cli import main; sys.exit(main())"]


def _header(spec: RunSpec, role: str, log: str, extra: list[str]) -> list[str]:
    from mi.runner.batch import slurm_memory

    cs = spec.execution.cluster
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name=mi-{spec.name}-{role}",
        f"#SBATCH --output={log}",
        f"#SBATCH --time={cs.walltime}",
        f"#SBATCH --mem={slurm_memory(cs.memory)}",
        f"#SBATCH --cpus-per-task={cs.cores}",
        "#SBATCH --ntasks=1",
    ]
    if cs.queue:
        lines.append(f"#SBATCH --partition={cs.queue}")
    if cs.account:
        lines.append(f"#SBATCH --account={cs.account}")
    lines += [f"#SBATCH {d}" for d in (*extra, *cs.job_extra_directives)]
    return lines


def write_array_scripts(
    spec: RunSpec, out: str | Path, n_tasks: int, workdir: str | Path | None = None
) -> dict[str, Path]:
    """Write ``prepare.sbatch``, ``screen.sbatch`` and ``merge.sbatch`` into ``OUT/slurm``.

    Parameters
    ----------
    spec : RunSpec
        The workflow (frozen into ``OUT/slurm/spec.json``); resources, partition, account,
        modules and environment from its ``[execution.cluster]`` table.
    out : path
        The run's folder; must be on a file system the compute nodes share.
    n_tasks : int
        Array size.
    workdir : path, optional
        Folder the jobs start in (default: the current folder).

    Returns
    -------
    dict of str to Path
    """
    from mi.runner.batch import job_prologue

    if n_tasks < 1:
        raise SpecError(f"--array {n_tasks}: the array needs at least one task")
    out = Path(out).resolve()
    freeze_spec(spec, out)
    (out / LOG_DIR).mkdir(parents=True, exist_ok=True)
    mi = " ".join(shlex.quote(p) for p in _mi_command())
    q_out = shlex.quote(str(out))
    body = [
        "set -euo pipefail",
        *job_prologue(spec.execution.cluster),
        f"cd {shlex.quote(str(Path(workdir or Path.cwd()).resolve()))}",
    ]
    logs = out / LOG_DIR
    roles = {
        "prepare": (
            _header(spec, "prepare", f"{logs}/prepare-%j.out", []),
            f"exec {mi} array prepare {q_out}",
        ),
        "screen": (
            _header(spec, "screen", f"{logs}/screen-%A_%a.out", [f"--array=0-{n_tasks - 1}"]),
            f'exec {mi} array screen {q_out} --task "$SLURM_ARRAY_TASK_ID" --tasks {n_tasks}',
        ),
        "merge": (
            _header(spec, "merge", f"{logs}/merge-%j.out", []),
            f"exec {mi} array merge {q_out}",
        ),
    }
    paths = {}
    for role, (header, command) in roles.items():
        path = out / SLURM_DIR / f"{role}.sbatch"
        atomic_write_text(path, "\n".join([*header, "", *body, command, ""]))
        path.chmod(0o755)
        paths[role] = path
    return paths


def _sbatch(args: list[str]) -> str:
    exe = shutil.which("sbatch")
    if exe is None:
        raise SchedulerError(
            "`sbatch` is not on PATH here: run `mi submit` on the cluster's login node "
            "(or use --dry-run to only write the job scripts)."
        )
    proc = subprocess.run([exe, "--parsable", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SchedulerError(f"sbatch {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip().split(";")[0]


def submit_array(
    spec: RunSpec, out: str | Path, n_tasks: int, workdir: str | Path | None = None
) -> ArraySubmission:
    """Write the job scripts and submit prepare -> array -> merge with ``afterok`` dependencies.

    On a folder that already holds part of the run only what is missing is submitted: no
    prepare job when the surrogates are trained, only the array tasks whose chunks are not all
    on disk, and always the merge job.

    Parameters
    ----------
    spec : RunSpec
        The workflow.
    out : path
        Output folder (on a shared file system).
    n_tasks : int
        Array size.
    workdir : path, optional
        Folder the jobs start in (default: the current folder).

    Returns
    -------
    ArraySubmission

    Raises
    ------
    SchedulerError
        ``sbatch`` is missing or refused a job.
    """
    out = Path(out).resolve()
    unfinished = unfinished_jobs(out) if (out / SLURM_DIR / "spec.json").is_file() else []
    scripts = write_array_scripts(spec, out, n_tasks, workdir)
    trained = _trained(spec, out)
    tasks = sorted(missing_chunks(out, n_tasks)) if trained else list(range(n_tasks))
    dep_flags = ["--kill-on-invalid-dep=yes"]
    prepare = None if trained else _sbatch([str(scripts["prepare"])])
    screen = None
    if tasks:
        after = [f"--dependency=afterok:{prepare}", *dep_flags] if prepare else []
        screen = _sbatch([f"--array={_ranges(tasks)}", *after, str(scripts["screen"])])
    last = screen or prepare
    merge = _sbatch(
        [*([f"--dependency=afterok:{last}", *dep_flags] if last else []), str(scripts["merge"])]
    )
    submission = ArraySubmission(prepare, screen, merge, tasks, scripts, unfinished)
    record = {
        "prepare": prepare,
        "screen": screen,
        "merge": merge,
        "tasks": tasks,
        "n_tasks": n_tasks,
        "logs": str(out / LOG_DIR),
    }
    history_path = out / SLURM_DIR / "jobs.json"
    history = json.loads(history_path.read_text()) if history_path.is_file() else []
    atomic_write_text(history_path, json.dumps([*history, record], indent=2))
    return submission


def unfinished_jobs(out: str | Path) -> list[dict[str, str]]:
    """Jobs of the last submission to ``OUT`` whose work is not on disk, with state and log.

    A screen task counts as unfinished while any chunk of its shard is missing; the prepare job
    while a surrogate is not trained. The state comes from ``scontrol`` while SLURM still knows
    the job (``CANCELLED``, ``TIMEOUT``, ``FAILED``, ``RUNNING`` ...), else ``"unknown"``.

    Returns
    -------
    list of dict
        ``job_id`` (``4712_3`` for an array task), ``role``, ``state``, ``log``.
    """
    from mi.runner.batch import job_record

    out = Path(out).resolve()
    path = out / SLURM_DIR / "jobs.json"
    if not path.is_file():
        return []
    last = json.loads(path.read_text())[-1]
    found: list[dict[str, str]] = []
    logs = Path(last.get("logs") or out / LOG_DIR)

    def add(job_id: str, role: str, log: Path) -> None:
        try:
            state = job_record(job_id).get("JobState", "unknown")
        except SchedulerError:
            state = "unknown"
        shown = str(log) if log.is_file() else f"none (the job never started; {log})"
        found.append({"job_id": job_id, "role": role, "state": state, "log": shown})

    spec = load_frozen_spec(out)
    if last.get("prepare") and not _trained(spec, out):
        add(last["prepare"], "prepare", logs / f"prepare-{last['prepare']}.out")
        return found
    if last.get("screen"):
        missing = missing_chunks(out, last["n_tasks"])
        for task in last["tasks"]:
            if task in missing:
                job_id = f"{last['screen']}_{task}"
                add(job_id, "screen", logs / f"screen-{job_id}.out")
    return found


def _trained(spec: RunSpec, out: Path) -> bool:
    """Whether every surrogate of ``spec`` is trained in ``out`` and the chunks use its key."""
    from mi.runner.keys import screen_key, target_keys

    state = read_state(out)
    steps = state.get("steps", {})
    return all(
        steps.get(f"model_{t.name}", {}).get("key") == target_keys(spec, t)["model"]
        for t in spec.targets
    ) and state.get("chunk_key") == screen_key(spec)


def _ranges(tasks: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2,5"`` (sbatch --array syntax)."""
    parts: list[str] = []
    start = prev = tasks[0]
    for t in tasks[1:]:
        if t == prev + 1:
            prev = t
            continue
        parts.append(f"{start}-{prev}" if prev > start else str(start))
        start = prev = t
    parts.append(f"{start}-{prev}" if prev > start else str(start))
    return ",".join(parts)
