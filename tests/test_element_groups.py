"""Element groups written out in light modules agree with mi.chem's."""

from __future__ import annotations

from mi.chem import ELEMENTS, LANTHANIDES, RARE_EARTHS
from mi.data.spec import ELEMENT_GROUPS
from mi.features.extra import DEFAULT_GROUPS


def test_lanthanides_and_rare_earths():
    assert LANTHANIDES[0] == "La" and LANTHANIDES[-1] == "Lu" and len(LANTHANIDES) == 15
    assert ELEMENTS.index("La") + 1 == 57
    assert RARE_EARTHS == ("Sc", "Y", *LANTHANIDES)


def test_audit_group_r_is_yttrium_and_the_lanthanides():
    assert ELEMENT_GROUPS["R"] == ("Y", *LANTHANIDES)


def test_feature_groups_use_the_chem_lists():
    assert DEFAULT_GROUPS["rare earth fraction"] == RARE_EARTHS
    assert DEFAULT_GROUPS["lanthanide fraction"] == LANTHANIDES
