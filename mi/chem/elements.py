"""Element symbols and atomic masses for Z = 1..103 (matrix column ``j`` is Z = j + 1).

The symbols and masses are pymatgen's (``pymatgen.core.Element``), copied here so that
``mi.chem`` does not import pymatgen; ``tests/test_chem.py`` checks they still agree.
"""

from __future__ import annotations

from mi.exceptions import FormulaError

__all__ = [
    "ELEMENTS",
    "ATOMIC_MASSES",
    "ISOTOPE_ALIASES",
    "LANTHANIDES",
    "RARE_EARTHS",
    "element_index",
    "N_ELEMENTS",
]

ELEMENTS: tuple[str, ...] = (
    "H",
    "He",
    "Li",
    "Be",
    "B",
    "C",
    "N",
    "O",
    "F",
    "Ne",
    "Na",
    "Mg",
    "Al",
    "Si",
    "P",
    "S",
    "Cl",
    "Ar",
    "K",
    "Ca",
    "Sc",
    "Ti",
    "V",
    "Cr",
    "Mn",
    "Fe",
    "Co",
    "Ni",
    "Cu",
    "Zn",
    "Ga",
    "Ge",
    "As",
    "Se",
    "Br",
    "Kr",
    "Rb",
    "Sr",
    "Y",
    "Zr",
    "Nb",
    "Mo",
    "Tc",
    "Ru",
    "Rh",
    "Pd",
    "Ag",
    "Cd",
    "In",
    "Sn",
    "Sb",
    "Te",
    "I",
    "Xe",
    "Cs",
    "Ba",
    "La",
    "Ce",
    "Pr",
    "Nd",
    "Pm",
    "Sm",
    "Eu",
    "Gd",
    "Tb",
    "Dy",
    "Ho",
    "Er",
    "Tm",
    "Yb",
    "Lu",
    "Hf",
    "Ta",
    "W",
    "Re",
    "Os",
    "Ir",
    "Pt",
    "Au",
    "Hg",
    "Tl",
    "Pb",
    "Bi",
    "Po",
    "At",
    "Rn",
    "Fr",
    "Ra",
    "Ac",
    "Th",
    "Pa",
    "U",
    "Np",
    "Pu",
    "Am",
    "Cm",
    "Bk",
    "Cf",
    "Es",
    "Fm",
    "Md",
    "No",
    "Lr",
)

ATOMIC_MASSES: tuple[float, ...] = (
    1.00794,
    4.002602,
    6.941,
    9.012182,
    10.811,
    12.0107,
    14.0067,
    15.9994,
    18.9984032,
    20.1797,
    22.98976928,
    24.305,
    26.9815386,
    28.0855,
    30.973762,
    32.065,
    35.453,
    39.948,
    39.0983,
    40.078,
    44.955912,
    47.867,
    50.9415,
    51.9961,
    54.938045,
    55.845,
    58.933195,
    58.6934,
    63.546,
    65.409,
    69.723,
    72.64,
    74.9216,
    78.96,
    79.904,
    83.798,
    85.4678,
    87.62,
    88.90585,
    91.224,
    92.90638,
    95.94,
    98.0,
    101.07,
    102.9055,
    106.42,
    107.8682,
    112.411,
    114.818,
    118.71,
    121.76,
    127.6,
    126.90447,
    131.293,
    132.9054519,
    137.327,
    138.90547,
    140.116,
    140.90765,
    144.242,
    145.0,
    150.36,
    151.964,
    157.25,
    158.92535,
    162.5,
    164.93032,
    167.259,
    168.93421,
    173.04,
    174.967,
    178.49,
    180.94788,
    183.84,
    186.207,
    190.23,
    192.217,
    195.084,
    196.966569,
    200.59,
    204.3833,
    207.2,
    208.9804,
    210.0,
    210.0,
    220.0,
    223.0,
    226.0,
    227.0,
    232.03806,
    231.03588,
    238.02891,
    237.0,
    244.0,
    243.0,
    247.0,
    247.0,
    251.0,
    252.0,
    257.0,
    258.0,
    259.0,
    262.0,
)

#: Number of element columns.
N_ELEMENTS = len(ELEMENTS)

#: La..Lu (Z = 57-71).
LANTHANIDES: tuple[str, ...] = ELEMENTS[56:71]

#: The rare-earth elements (IUPAC): Sc, Y and the lanthanides.
RARE_EARTHS: tuple[str, ...] = ("Sc", "Y", *LANTHANIDES)

#: Symbols pymatgen accepts for isotopes of hydrogen; they are counted as H (as pymatgen does).
ISOTOPE_ALIASES: dict[str, str] = {"D": "H", "T": "H"}

_INDEX: dict[str, int] = {s: i for i, s in enumerate(ELEMENTS)}
_INDEX.update({alias: _INDEX[target] for alias, target in ISOTOPE_ALIASES.items()})


def element_index(symbol: str) -> int:
    """Column index of an element symbol (``Z - 1``).

    Parameters
    ----------
    symbol : str
        Element symbol, e.g. ``"Fe"``. ``"D"`` and ``"T"`` map to hydrogen, as in pymatgen.

    Returns
    -------
    int
        Column index in :data:`ELEMENTS`.

    Raises
    ------
    FormulaError
        When the symbol is not an element with Z between 1 and 103.

    Examples
    --------
    >>> element_index("Fe")
    25
    """
    try:
        return _INDEX[symbol]
    except (KeyError, TypeError):
        raise FormulaError(
            f"Unknown element symbol {symbol!r}: mi supports the elements H..Lr (Z = 1..103); "
            "check the spelling and capitalisation (e.g. 'Co', not 'CO')."
        ) from None
