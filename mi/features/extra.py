"""mi's own composition featurizers, written as matminer featurizers so both backends run them."""

from __future__ import annotations

from typing import Any

from matminer.featurizers.base import BaseFeaturizer

from mi.chem import LANTHANIDES, RARE_EARTHS
from mi.features.rare_earth import RareEarthPhysics

__all__ = ["ElementGroupFraction", "DEFAULT_GROUPS", "RareEarthPhysics"]


#: Default groups: label -> element symbols.
DEFAULT_GROUPS: dict[str, tuple[str, ...]] = {
    "rare earth fraction": RARE_EARTHS,  # IUPAC rare-earth elements
    "lanthanide fraction": LANTHANIDES,
    "Fe Co Ni fraction": ("Fe", "Co", "Ni"),
}


class ElementGroupFraction(BaseFeaturizer):
    """Atomic fraction of each group of elements (rare earths, lanthanides, Fe/Co/Ni).

    Parameters
    ----------
    groups : dict of str to sequence of str, optional
        Column label -> element symbols. Default :data:`DEFAULT_GROUPS`.

    Examples
    --------
    >>> from pymatgen.core import Composition
    >>> ElementGroupFraction().featurize(Composition("Nd2Fe14B"))
    [0.11764705882352941, 0.11764705882352941, 0.8235294117647058]
    """

    def __init__(self, groups: dict[str, Any] | None = None) -> None:
        self.groups = {k: tuple(v) for k, v in (groups or DEFAULT_GROUPS).items()}

    def featurize(self, comp: Any) -> list[float]:
        """Fraction of atoms in each group.

        Parameters
        ----------
        comp : pymatgen.core.Composition

        Returns
        -------
        list of float
        """
        el_amt = comp.get_el_amt_dict()
        total = sum(el_amt.values())
        out = []
        for members in self.groups.values():
            frac = 0.0
            for el, amt in el_amt.items():
                if el in members:
                    frac += amt
            out.append(frac / total)
        return out

    def feature_labels(self) -> list[str]:
        """Column labels (the group names)."""
        return list(self.groups)

    def citations(self) -> list[str]:
        """No citation (simple counting)."""
        return []

    def implementors(self) -> list[str]:
        """Who wrote it."""
        return ["mi developers"]
