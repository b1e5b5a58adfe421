"""Read crystal structures from files: CIF, POSCAR/CONTCAR, extxyz (and what ase reads), JSON.

Every structure is a pymatgen ``Structure`` tagged in ``structure.properties`` with
``source_file`` (path as given) and ``source_index`` (frame or data block within the file).
Unreadable files are listed in the report; they are fatal only with ``on_error="raise"``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from mi.data.report import RejectLog, ValidationReport
from mi.exceptions import DataError, StructureError

__all__ = ["read_structures", "StructureCollection", "STRUCTURE_SUFFIXES"]

#: Suffixes picked up when a folder is given (POSCAR/CONTCAR are matched by name).
STRUCTURE_SUFFIXES = (".cif", ".vasp", ".poscar", ".json", ".extxyz", ".xyz", ".cell", ".res")
_VASP_NAMES = ("POSCAR", "CONTCAR")


class StructureCollection(list):
    """A list of pymatgen Structures plus the :class:`ValidationReport` of the files read."""

    def __init__(self, structures: Iterable[Any] = (), report: ValidationReport | None = None):
        super().__init__(structures)
        self.report = report or ValidationReport(n_input=len(self), n_accepted=len(self))

    def to_dataset(self, name: str = "structures"):
        """Return a :class:`~mi.data.Dataset` with ``composition``, ``structure``, ``source_file``.

        Parameters
        ----------
        name : str, default "structures"
            Dataset name.

        Returns
        -------
        Dataset
        """
        from mi.data.dataset import Dataset, DatasetMeta
        from mi.data.formulas import check_formulas

        check = check_formulas([s.composition.element_composition.formula for s in self])
        df = pd.DataFrame(
            {
                "composition": check.formulas,
                "structure": list(self),
                "source_file": [s.properties.get("source_file") for s in self],
                "source_index": [s.properties.get("source_index") for s in self],
            }
        )
        return Dataset(
            df, structure_col="structure", meta=DatasetMeta(name=name), report=self.report
        )


def _expand(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = [
                f
                for f in sorted(p.iterdir())
                if f.is_file()
                and (
                    f.suffix.lower() in STRUCTURE_SUFFIXES or f.name.upper().startswith(_VASP_NAMES)
                )
            ]
            out.extend(found)
        else:
            out.append(p)
    return out


def _from_json(path: Path) -> list[Any]:
    from pymatgen.core import Structure

    data = json.loads(path.read_text())
    items = data if isinstance(data, list) else [data]
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(f"JSON item is a {type(item).__name__}, not a structure dict")
        out.append(Structure.from_dict(item))
    return out


def _from_cif(path: Path) -> list[Any]:
    from pymatgen.io.cif import CifParser

    from mi.data.cif_check import cif_damage

    damage = cif_damage(path.read_bytes().decode("utf-8", errors="replace"))
    if damage:
        raise ValueError(damage)
    parser = CifParser(str(path))
    structures = list(parser.parse_structures(primitive=False))
    if len(structures) == 1:
        problem = _formula_sum_mismatch(path, structures[0])
        if problem:
            raise ValueError(problem)
    return structures


def _formula_sum_mismatch(path: Path, structure: Any) -> str | None:
    """Compare the atom sites with ``_chemical_formula_sum`` of a one-block CIF.

    A file cut short inside its atom loop still parses, with fewer atoms (a truncated NaCl
    read as Na4Cl3). Hydrogen is left out of the comparison (X-ray structures often omit it),
    and atomic fractions may differ by 0.02 (rounded occupancies).
    """
    import re as _re

    from mi.exceptions import FormulaError

    text = path.read_text(errors="replace")
    if sum(1 for line in text.splitlines() if line.lower().startswith("data_")) != 1:
        return None
    match = _re.search(r"^_chemical_formula_sum\s+(['\"]?)(.+?)\1\s*$", text, _re.M)
    if not match:
        return None
    from mi.chem import parse_formula

    try:
        declared = parse_formula(match[2].replace(" ", ""))
    except FormulaError:
        return None
    found = {str(el): float(n) for el, n in structure.composition.element_composition.items()}
    for d in (declared, found):
        d.pop("H", None)
        d.pop("D", None)
    total_d, total_f = sum(declared.values()), sum(found.values())
    if not total_d or not total_f:
        return None
    for el in set(declared) | set(found):
        if abs(declared.get(el, 0.0) / total_d - found.get(el, 0.0) / total_f) > 0.02:
            return (
                f"the atom sites give {structure.composition.reduced_formula} but "
                f"_chemical_formula_sum is {match[2]!r} (a truncated or inconsistent file)"
            )
    return None


def _from_poscar(path: Path) -> list[Any]:
    from pymatgen.io.vasp import Poscar

    structure = Poscar.from_file(str(path), check_for_potcar=False).structure
    listed = _poscar_coordinate_lines(path)
    if listed is not None and listed != len(structure):
        raise ValueError(
            f"the counts line sums to {len(structure)} atoms but {listed} coordinate lines "
            "follow; fix the counts"
        )
    return [structure]


def _poscar_coordinate_lines(path: Path) -> int | None:
    """Count the coordinate lines of a POSCAR (up to the first blank line), or None."""
    lines = path.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines[5:10], start=5):
        word = line.strip().lower()
        previous = lines[i - 1].split()
        counts_before = bool(previous) and all(x.isdigit() for x in previous)
        after_selective = lines[i - 1].strip().lower().startswith("s")
        if word[:1] in ("d", "c", "k") and (counts_before or after_selective):
            n = 0
            for rest in lines[i + 1 :]:
                if not rest.strip():
                    break
                parts = rest.split()
                try:
                    [float(x) for x in parts[:3]]
                except ValueError:
                    break
                if len(parts) < 3:
                    break
                n += 1
            return n
    return None


def _from_ase(path: Path) -> list[Any]:
    import ase.io
    from pymatgen.io.ase import AseAtomsAdaptor

    frames = ase.io.read(str(path), index=":")
    frames = frames if isinstance(frames, list) else [frames]
    out = []
    for atoms in frames:
        if not all(atoms.pbc) or atoms.cell.rank < 3:
            raise ValueError("frame has no periodic 3-D cell (a molecule, not a crystal)")
        out.append(AseAtomsAdaptor.get_structure(atoms))
    return out


def _structure_problem(structure: Any) -> str | None:
    """Return why a parsed structure is not a usable crystal, or None.

    Refused: no sites, NaN or flat cells, NaN coordinates, dummy species.
    """
    import numpy as np

    if len(structure) == 0:
        return "structure has no sites"
    matrix = np.asarray(structure.lattice.matrix, dtype=float)
    if not np.all(np.isfinite(matrix)):
        return "lattice has NaN or infinite entries"
    volume = abs(float(np.linalg.det(matrix)))
    if not volume > 1e-3:
        return f"lattice volume {volume:.3g} A^3 is zero or degenerate"
    if not np.all(np.isfinite(structure.frac_coords)):
        return "site coordinates have NaN or infinite entries"
    for site in structure:
        for el in site.species.elements:
            z = getattr(el, "Z", 0)
            if not isinstance(z, int) or not 1 <= z <= 103:
                return f"species {str(el)!r} is not a chemical element (dummy species)"
    return None


def _missing_cif_blocks(path: Path, n_read: int) -> int:
    """Count the CIF data blocks with atom sites that gave no structure (pymatgen skips them)."""
    if path.suffix.lower() != ".cif":
        return 0
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return 0
    blocks: list[list[str]] = []
    for line in lines:
        if line.lower().startswith("data_"):
            blocks.append([])
        elif blocks:
            blocks[-1].append(line)
    with_atoms = sum(1 for b in blocks if any("_atom_site_fract" in x.lower() for x in b))
    return max(0, with_atoms - n_read)


def _reader(path: Path):
    name = path.name.upper()
    suffix = path.suffix.lower()
    if suffix == ".cif":
        return _from_cif
    if suffix == ".json":
        return _from_json
    if suffix in {".vasp", ".poscar"} or name.startswith(_VASP_NAMES):
        return _from_poscar
    return _from_ase


def read_structures(
    paths: str | Path | Iterable[str | Path],
    on_error: Literal["report", "raise"] = "report",
) -> StructureCollection:
    """Read structures from files or folders.

    Parameters
    ----------
    paths : path or iterable of paths
        Files, or folders (their structure files, non-recursive, sorted by name).
    on_error : {"report", "raise"}, default "report"
        ``"report"``: unreadable files are listed in ``result.report.rejected`` (file, row =
        -1 for the whole file, reason) and skipped; ``"raise"``: the first one raises
        :class:`~mi.exceptions.StructureError`.

    Returns
    -------
    StructureCollection
        A list of pymatgen ``Structure``; each has ``properties["source_file"]`` and
        ``properties["source_index"]``. ``.report`` counts one input per structure read plus
        one per unreadable file, and ``.to_dataset()`` makes a :class:`Dataset`.

    Examples
    --------
    >>> structures = read_structures("my_cifs/")  # doctest: +SKIP
    >>> structures[0].properties["source_file"]  # doctest: +SKIP
    'my_cifs/Fe2O3.cif'
    """
    if on_error not in ("report", "raise"):
        raise DataError(f"on_error must be 'report' or 'raise'; got {on_error!r}.")
    log = RejectLog()
    structures: list[Any] = []
    n_input = 0
    for path in _expand(paths):
        try:
            if not path.is_file():
                raise FileNotFoundError("file does not exist")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pymatgen/ase warn a lot on real-world files
                read = _reader(path)(path)
            if not read:
                raise ValueError("no structure found in the file")
        except Exception as exc:  # readers raise anything from IndexError to KeyError
            reason = f"unreadable structure file: {type(exc).__name__}: {exc}".strip()
            if on_error == "raise":
                raise StructureError(
                    f"Cannot read {path}: {reason}. Fix or remove the file."
                ) from exc
            n_input += 1
            log.add(str(path), -1, None, path.name, reason)
            continue
        for index, structure in enumerate(read):
            n_input += 1
            problem = _structure_problem(structure)
            if problem is not None:
                if on_error == "raise":
                    raise StructureError(f"Cannot use structure {index} of {path}: {problem}.")
                log.add(str(path), index, None, path.name, problem)
                continue
            structure.properties["source_file"] = str(path)
            structure.properties["source_index"] = index
            structures.append(structure)
        missing = _missing_cif_blocks(path, len(read))
        if missing:
            reason = f"{missing} CIF data block(s) of this file could not be read"
            if on_error == "raise":
                raise StructureError(f"Cannot read {path}: {reason}. Fix or remove them.")
            for k in range(missing):
                n_input += 1
                log.add(str(path), len(read) + k, None, path.name, reason)
    report = ValidationReport(
        n_input=n_input,
        n_accepted=len(structures),
        rejected=log.frame(),
        n_output=len(structures),
    )
    report.check()
    return StructureCollection(structures, report)
