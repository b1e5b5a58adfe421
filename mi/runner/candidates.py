"""Candidate generation for a run: the workflow's templates as one stream of numbered chunks.

Chunks never span two templates, so each carries its template's family label. Generation is
deterministic (same spec, same chunks, same numbers), which is what lets a rerun skip the chunks
already on disk. Duplicates inside a template are dropped by :class:`mi.candidates.Template`
(reduced-composition hashes); duplicates across templates are dropped when the results are
merged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mi.runner.spec import CandidatesSpec, TemplateSpec

__all__ = ["template_sizes", "iter_candidate_chunks"]


def family_label(spec: TemplateSpec) -> str:
    """Label of a template in the results (its ``family`` or its formula)."""
    return spec.family or spec.formula


def template_sizes(spec: CandidatesSpec) -> list[int]:
    """Grid points of each template (an upper bound on distinct candidates), capped.

    Parameters
    ----------
    spec : CandidatesSpec

    Returns
    -------
    list of int
    """
    sizes = [int(t.build().size) for t in spec.templates]
    if spec.max_candidates is not None:
        left = spec.max_candidates
        capped = []
        for s in sizes:
            capped.append(min(s, left))
            left -= capped[-1]
        sizes = capped
    return sizes


def iter_candidate_chunks(
    spec: CandidatesSpec, chunk_size: int
) -> Iterator[tuple[int, Any, str, int]]:
    """Yield ``(chunk_index, matrix, family, start)`` for every chunk of every template.

    Parameters
    ----------
    spec : CandidatesSpec
        Templates and the optional ``max_candidates`` cap.
    chunk_size : int
        Grid points per chunk.

    Yields
    ------
    tuple
        Chunk number, :class:`~mi.chem.CompositionMatrix`, family label, global position of the
        chunk's first candidate.
    """
    index = 0
    position = 0
    left = spec.max_candidates
    for tpl_spec in spec.templates:
        template = tpl_spec.build()
        for matrix in template.iter_chunks(chunk_size):
            if left is not None:
                if left <= 0:
                    return
                if matrix.n > left:
                    import numpy as np

                    matrix = matrix.take(np.arange(left))
                left -= matrix.n
            yield index, matrix, family_label(tpl_spec), position
            index += 1
            position += matrix.n
        if left is not None and left <= 0:
            return
