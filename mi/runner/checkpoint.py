"""Checkpoints in the run's output folder, so a rerun with the same ``--out`` resumes.

Layout of ``OUT/``::

    state.json            spec hash, finished steps with their seconds, mi version
    spec.json             the validated spec that produced this folder
    steps/<step>/...      outputs of each finished step (tables, models, CV reports)
    chunks/chunk_000012.parquet   + chunk_000012.json   finished screening chunks

Every file is written to a temporary name and renamed into place, and a step is marked done
in ``state.json`` only after its outputs exist, so a killed run never leaves a half-written
step that looks finished. A chunk counts as done when its ``.json`` sidecar exists (written
after its Parquet file).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from mi._atomic import atomic_write, atomic_write_text
from mi._paths import inside
from mi.exceptions import SpecError, StateVersionError

__all__ = ["Checkpoint", "chunks_on_disk", "read_state", "STATE_VERSION"]

#: Layout version of ``state.json``; bump when the folder layout changes incompatibly.
STATE_VERSION = 1


def read_state(out_dir: Path) -> dict[str, Any]:
    """Return a run folder's ``state.json`` without taking it over (empty when there is none)."""
    path = out_dir / "state.json"
    return dict(json.loads(path.read_text())) if path.is_file() else {}


def chunks_on_disk(out_dir: Path) -> set[int]:
    """Return the indices of the chunks whose results are complete in ``out_dir``."""
    out = set()
    for meta in (out_dir / "chunks").glob("chunk_*.json"):  # the sidecar is written last
        try:
            out.add(int(meta.stem.split("_")[1]))
        except (IndexError, ValueError):
            continue
    return out


class Checkpoint:
    """Resumable state of one run in its output folder.

    Parameters
    ----------
    out_dir : path
        The run's folder (created).
    spec_hash : str
        :meth:`RunSpec.digest` of the spec (recorded).
    spec_json : dict, optional
        The spec, stored beside the state for the record.
    resume : bool, default True
        False starts over, deleting earlier checkpoints.
    workflow : str, optional
        The workflow's name; a folder holding a run of another workflow is refused.

    Notes
    -----
    Steps are recorded with a key (a hash of the part of the spec they depend on), so after
    an edit of the workflow file a rerun redoes only the steps whose inputs changed: editing
    the candidate grid keeps the trained surrogates, editing a model redoes that model and the
    screen. Chunks are kept only while the screen's key is unchanged.

    Raises
    ------
    SpecError
        ``out_dir`` holds checkpoints of a different workflow.
    """

    def __init__(
        self,
        out_dir: str | Path,
        spec_hash: str,
        spec_json: dict[str, Any] | None = None,
        resume: bool = True,
        workflow: str | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.spec_hash = spec_hash
        self.workflow = workflow
        self.state_path = self.out_dir / "state.json"
        self.state: dict[str, Any]
        if self.state_path.is_file():
            try:
                state = json.loads(self.state_path.read_text())
            except json.JSONDecodeError as exc:
                raise SpecError(
                    f"{self.state_path} is not valid JSON ({exc}); remove it to start over."
                ) from None
            if state.get("state_version") != STATE_VERSION:
                raise StateVersionError(
                    f"{self.state_path} has layout version {state.get('state_version')!r}; this "
                    f"mi writes {STATE_VERSION}. Use a new --out folder."
                )
            if workflow is not None and state.get("workflow") not in (None, workflow):
                raise SpecError(
                    f"{self.out_dir} holds a run of workflow {state.get('workflow')!r}, not "
                    f"{workflow!r}. Use a new --out folder, or --restart to overwrite it."
                )
            self.state = state
            if not resume:
                self.reset()
            elif state.get("spec_hash") != spec_hash:
                self.state["spec_hash"] = spec_hash
                self._save()
        else:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self.state = self._fresh()
            self._save()
        if spec_json is not None:
            atomic_write_text(self.path("spec.json"), json.dumps(spec_json, indent=2))

    def _fresh(self) -> dict[str, Any]:
        from mi import __version__

        return {
            "state_version": STATE_VERSION,
            "spec_hash": self.spec_hash,
            "workflow": self.workflow,
            "mi_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "steps": {},
        }

    def _save(self) -> None:
        atomic_write_text(self.state_path, json.dumps(self.state, indent=2, sort_keys=True))

    def reset(self) -> None:
        """Forget every finished step and chunk (their files are removed)."""
        import shutil

        for sub in ("steps", "chunks"):
            shutil.rmtree(self.path(sub), ignore_errors=True)
        self.state = self._fresh()
        self._save()

    def path(self, *parts: str) -> Path:
        """Return ``out_dir / parts``, refusing anything that would land outside ``out_dir``.

        Raises
        ------
        mi._paths.UnsafePathError
            A part is absolute or climbs out of the folder (``..``, a symlink).
        """
        return inside(self.out_dir, *parts)

    # ---- steps ------------------------------------------------------------------------
    def step_dir(self, step: str) -> Path:
        """Folder for a step's outputs (created)."""
        path = self.path("steps", step)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def is_done(self, step: str, key: str | None = None) -> bool:
        """Whether ``step`` finished in this folder (with the same ``key``, when given)."""
        info = self.state["steps"].get(step)
        if info is None:
            return False
        return key is None or info.get("key") == key

    def info(self, step: str) -> dict[str, Any]:
        """Return what :meth:`mark_done` recorded for a finished step."""
        return dict(self.state["steps"].get(step, {}))

    def mark_done(self, step: str, seconds: float, key: str | None = None, **info: Any) -> None:
        """Record that ``step`` finished (after its outputs were written)."""
        self.state["steps"][step] = {"seconds": round(seconds, 3), "key": key, **info}
        self._save()

    def use_chunk_key(self, key: str) -> int:
        """Keep the chunks on disk only if they were made with ``key``; return how many remain."""
        import shutil

        if self.state.get("chunk_key") != key:
            shutil.rmtree(self.path("chunks"), ignore_errors=True)
            self.state["chunk_key"] = key
            self._save()
        return len(self.done_chunks())

    def write_frame(self, df: pd.DataFrame, *parts: str) -> Path:
        """Write ``df`` atomically to ``out_dir / parts``: CSV for ``.csv``, else Parquet."""
        path = self.path(*parts)
        if path.suffix == ".csv":
            return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))
        return atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))

    def write_table(self, step: str, name: str, df: pd.DataFrame) -> Path:
        """Write a DataFrame as Parquet under the step's folder (atomically)."""
        return self.write_frame(df, "steps", step, f"{name}.parquet")

    def read_table(self, step: str, name: str) -> pd.DataFrame:
        """Read back a table written by :meth:`write_table`."""
        return pd.read_parquet(self.path("steps", step, f"{name}.parquet"))

    def write_json(self, step: str, name: str, obj: Any) -> Path:
        """Write JSON under the step's folder (atomically)."""
        path = self.step_dir(step) / f"{name}.json"
        atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default))
        return path

    def read_json(self, step: str, name: str) -> Any:
        """Read back JSON written by :meth:`write_json`."""
        return json.loads(self.path("steps", step, f"{name}.json").read_text())

    # ---- chunks -----------------------------------------------------------------------
    def _chunk_base(self, index: int) -> Path:
        return self.path("chunks", f"chunk_{index:06d}")

    def done_chunks(self) -> set[int]:
        """Return the indices of chunks whose results are complete on disk."""
        return chunks_on_disk(self.out_dir)

    def write_chunk(self, index: int, df: pd.DataFrame, meta: dict[str, Any]) -> None:
        """Store one chunk's rows, then its sidecar (which marks it done)."""
        base = self._chunk_base(index)
        atomic_write(base.with_suffix(".parquet"), lambda tmp: df.to_parquet(tmp, index=False))
        atomic_write_text(
            base.with_suffix(".json"), json.dumps(meta, indent=2, default=_json_default)
        )

    def read_chunk(self, index: int) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Read one finished chunk's rows and sidecar."""
        base = self._chunk_base(index)
        meta = json.loads(base.with_suffix(".json").read_text())
        return pd.read_parquet(base.with_suffix(".parquet")), meta


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
