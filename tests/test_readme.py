"""The README is executable: every code block of README.md and workflows/README.md runs as written.

Blocks are read from the Markdown: ```` ```bash ```` blocks run in ``bash -e`` (one command a
line, as a user would paste them), ```` ```python ```` blocks in a fresh interpreter, and
```` ```toml ```` blocks (workflow fragments) are merged into a shipped workflow and validated.
Each block runs in its own empty working folder that sees the clone's top-level folders
(``workflows/``, ``docs/`` ...) as the user in the clone's root would, with the venv's ``bin``
first on ``PATH`` (what ``source .venv/bin/activate`` does) and ``MI_DATA_DIR`` unset, so the
documented default (``../shared/datasets`` next to the clone) is what finds the data.

A block that cannot run here is preceded by ``<!-- skip-test: reason -->``; the list is printed
and kept short (set-up, remote schedulers, batch systems, benchmarks).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = (REPO / "README.md", REPO / "workflows" / "README.md")
_FENCE = re.compile(r"^```(\w*)\s*$")
_SKIP = re.compile(r"^<!--\s*skip-test:\s*(.+?)\s*-->\s*$")
#: Languages a block may have; anything else is an error (an untagged block is ambiguous).
#: ``text`` is shown output (a generated job script, a log line): nothing to run.
_LANGS = ("bash", "python", "toml", "text")
#: Top-level entries of the clone a README command may refer to by a relative path.
_CLONE_ENTRIES = ("workflows", "docs", "datasets", "featurizers", "notebooks", "benchmarks")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    doc: Path
    line: int
    lang: str
    code: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}-{self.lang}"


def code_blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path`` with its language and skip reason (if any)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        start, lang = i, match.group(1)
        end = start + 1
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        prev = start - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        skip = _SKIP.match(lines[prev]) if prev >= 0 else None
        code = "\n".join(lines[start + 1 : end]) + "\n"
        blocks.append(Block(path, start + 1, lang, code, skip.group(1) if skip else None))
        i = end + 1
    return blocks


ALL_BLOCKS = [b for doc in DOCS for b in code_blocks(doc)]


def test_blocks_are_found_tagged_and_few_are_skipped():
    assert len(ALL_BLOCKS) >= 8
    untagged = [b.id for b in ALL_BLOCKS if b.lang not in _LANGS]
    assert untagged == [], f"tag these blocks with one of {_LANGS}"
    skipped = [(b.id, b.skip) for b in ALL_BLOCKS if b.skip]
    print("\n".join(f"skip-test {where}: {why}" for where, why in skipped))
    assert len(skipped) <= 6, skipped
    assert any(b.lang == "python" and not b.skip for b in ALL_BLOCKS)


def _session(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    work = tmp_path / "clone-root"
    work.mkdir()
    for name in _CLONE_ENTRIES:
        if (REPO / name).exists():
            (work / name).symlink_to(REPO / name)
    env = {k: v for k, v in os.environ.items() if k != "MI_DATA_DIR"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(
        MI_OFFLINE="true",
        MI_CACHE_DIR=str(tmp_path / "cache"),
        MPLBACKEND="Agg",
        TERM="dumb",
        COLUMNS="160",
    )
    return work, env


def _validate_toml(block: Block) -> None:
    from mi.runner.spec import load_spec

    fragment = tomllib.loads(block.code)
    spec = load_spec(REPO / "workflows" / "metal_screen.toml")
    changes = {}
    for table, content in fragment.items():
        for key, value in content.items():
            changes[f"{table}.{key}"] = value
    spec.with_overrides(**changes)  # raises SpecError naming the bad key or value


@pytest.mark.slow
@pytest.mark.parametrize(
    "block", [pytest.param(b, id=b.id) for b in ALL_BLOCKS if b.lang != "text"]
)
def test_readme_block_runs_as_written(block: Block, tmp_path: Path, shared_datasets: Path):
    if block.skip:
        pytest.skip(f"marked skip-test at {block.id}: {block.skip}")
    if block.lang == "toml":
        _validate_toml(block)
        return
    work, env = _session(tmp_path)
    if block.lang == "bash":
        cmd = ["bash", "-e", "-o", "pipefail", "-c", block.code]
    else:
        cmd = [sys.executable, "-c", block.code]
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, (
        f"{block.id} failed (exit {proc.returncode}):\n{block.code}\n"
        f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
