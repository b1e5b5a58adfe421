"""Rare-earth / transition-metal physics of permanent magnets as composition features.

Per rare-earth (R) ion, from its 4f electron count ``n`` (Hund's rules, computed here):

* spin ``S``, orbital ``L`` and total ``J`` quantum numbers (``J = |L - S|`` for a less than
  half-filled shell, ``J = L + S`` otherwise);
* the Landé factor ``gJ = 1 + [J(J+1) + S(S+1) - L(L+1)] / [2 J(J+1)]``;
* the de Gennes factor ``(gJ - 1)^2 J(J+1)`` (the R contribution to the exchange, so to Tc);
* the projected spin ``(gJ - 1) J``;
* the 4f moment ``gJ J`` (Bohr magnetons) with its sign relative to the 3d moment: the 4f spin
  couples antiparallel to the 3d spin, so the moment is parallel for the light rare earths
  (``gJ < 1``) and antiparallel for the heavy ones (``gJ > 1``);
* the second-order Stevens factor ``alpha_J`` and the radial integral ``<r^2>`` of the 4f shell,
  which with the crystal-field coefficient ``A20`` of the R site give the single-ion
  anisotropy ``K1_R = -3/2 alpha_J <r^2> A20 <3Jz^2 - J(J+1)>`` per ion, with the operator
  equivalent ``<O20> = J(2J - 1)`` of the ground state ``Jz = J`` (Coey 2010, ch. 4 and 11;
  Herbst 1991, sec. V);
* the same moment and anisotropy at 300 K in the mean exchange field of the 3d sublattice
  (see :data:`EXCHANGE_SPLITTING_K`, :func:`exchange_scale` and :func:`thermal_o20`).

These are averaged over the R sites (weights: R atoms), and completed by R and Fe/Co/Ni
sublattice descriptors and two physics estimates used as baselines by the magnet models
(:mod:`mi.models.physics`): the room-temperature saturation polarisation ``Js`` from moment
bookkeeping (with the 300 K moments) and ``K1`` (see :func:`k1_calibration`).

The K1 estimate
---------------
``K1 = K1_4f + K1_Fe``, in MJ/m3 at room temperature:

* ``K1_4f = 3/2 A20 kB sum_R [-alpha_J <r^2> <O20>_300K] / V``, the textbook second-order
  single-ion term at room temperature. ``<O20>_300K`` is the thermal average of
  ``3 Jz^2 - J(J + 1)`` over the ground multiplet split by the exchange field of the 3d
  sublattice (:func:`thermal_o20`), the same field that reduces the 4f moment of the ``Js``
  estimate, and scaled per rare earth from the R2Fe14B Curie temperatures
  (:func:`exchange_scale`: weaker on the heavy rare earths). Its one free constant, the
  ``A20`` of the 2:14:1 R site, is *calibrated on Nd2Fe14B only* (K1 = 4.2 MJ/m3,
  ``../shared/magnets/REFERENCE.md``) and then used for every R; it comes out near 220 K/a0^2,
  the order of the crystal-field fits of Nd2Fe14B (about 300 K/a0^2, Herbst 1991), which the
  0 K operator would not give (about 70 K/a0^2). Tb keeps more of its anisotropy at 300 K than
  Dy (larger spin projection, stronger exchange), so Tb2Fe14B > Dy2Fe14B in Ha, as measured
  (ratio 1.41 here, 22/15 = 1.47 cited), and Pr2Fe14B gets 8.8 T (Herbst: 8.7 T). What this
  second-order model over-states is the size of the heavy-R term: Dy2Fe14B and Tb2Fe14B come
  out about twice their cited fields (``benchmarks/magnet_trends.py`` prints by how much); the
  higher-order crystal-field terms and any variation of A20 across the series are left out.
  The sign of ``A20`` is set by composition: positive with boron (the 2:14:1 structure:
  Pr, Nd, Tb, Dy uniaxial; Sm, Er, Tm easy-plane), negative without (1:5, 2:17, 1:12 structures
  and their nitrides: Sm uniaxial), with the same magnitude (calibrated for 2:14:1 only).
* ``K1_Fe``, the anisotropy of the Fe sublattice of the 2:14:1 structure (with boron only),
  ``K1(Y2Fe14B) = 1.1 MJ/m3`` at room temperature (Hirosawa et al. 1986; Herbst 1991, table of
  R2Fe14B anisotropy constants) per Fe atom; Co and Ni add none (R2Co14B's Co sublattice is
  weakly easy-plane at room temperature: Co dilutes the Fe anisotropy, Co for Fe lowers Ha).
  So La2Fe14B, Y2Fe14B and Ce2Fe14B get about 2 T, not 0.

``mu0 Ha = 2 mu0 K1 / Js`` is then formed by :mod:`mi.features.coercivity` with the predicted
``Js``.

Valence choices (visible in the feature labels through :data:`VALENCE_TAG`): Ce is treated as
tetravalent-like (Ce4+, 4f0: no 4f moment, no single-ion anisotropy), as in R2Fe14B where Ce is
close to tetravalent; Eu as Eu2+ (4f7, S = 7/2, L = 0), its usual state in intermetallics; Sm
as Sm3+ (4f5, free-ion J = 5/2, J-mixing ignored); Yb as Yb3+ (4f13). Every other lanthanide is
R3+. Y, Sc, La and Lu are R sites without a 4f moment. A composition without rare earth gets
zeros and ``has rare earth = 0`` (never NaN).

Sources
-------
* Stevens factors: K. W. H. Stevens, Proc. Phys. Soc. A 65, 209 (1952); table VI of
  M. T. Hutchings, Solid State Phys. 16, 227 (1964) (exact fractions below).
* ``<r^2>`` of the R3+ 4f shell (Dirac-Fock, in a0^2): A. J. Freeman and J. P. Desclaux,
  J. Magn. Magn. Mater. 12, 11 (1979).
* Moments and anisotropy of R2Fe14B: J. F. Herbst, Rev. Mod. Phys. 63, 819 (1991); J. M. D. Coey,
  *Magnetism and Magnetic Materials* (Cambridge 2010); S. Hirosawa, Y. Matsuura, H. Yamamoto,
  S. Fujimura, M. Sagawa, H. Yamauchi, J. Appl. Phys. 59, 873 (1986) (single crystals of
  R2Fe14B: K1 of Y2Fe14B).
* Nd2Fe14B K1 = 4.2 MJ/m3 (the calibration point): ``../shared/magnets/REFERENCE.md``.

Examples
--------
>>> ion = ion_quantities(3)  # Nd3+, 4f3
>>> ion.J, round(ion.gJ, 6)
(4.5, 0.727273)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, lru_cache
from typing import Any

import numpy as np
from matminer.featurizers.base import BaseFeaturizer

from mi.chem import N_ELEMENTS, element_index

__all__ = [
    "IonQuantities",
    "ion_quantities",
    "RareEarthPhysics",
    "rare_earth_block",
    "FOUR_F_COUNT",
    "STEVENS_ALPHA",
    "R2_4F",
    "TM_MOMENT_RT",
    "VALENCE_TAG",
    "JS_COLUMN",
    "K1_COLUMN",
    "K1_CALIBRATION_COMPOSITION",
    "K1_CALIBRATION_MJ_M3",
    "K1_FE_SUBLATTICE_MJ_M3",
    "k1_calibration",
    "exchange_scale",
    "thermal_o20",
    "R2FE14B_TC_K",
    "anisotropy_basis",
    "BASIS_CALIBRATED",
    "BASIS_4F_ONLY",
    "BASIS_FE_ONLY",
    "BASIS_NONE",
]

#: 4f electron count of each rare-earth ion as treated here (the valence choices).
FOUR_F_COUNT: dict[str, int] = {
    "Sc": 0, "Y": 0, "La": 0,
    "Ce": 0,   # Ce4+-like (tetravalent in R2Fe14B); Ce3+ would be 1
    "Pr": 2, "Nd": 3, "Pm": 4,
    "Sm": 5,   # Sm3+
    "Eu": 7,   # Eu2+ (4f7); Eu3+ would be 6 (J = 0)
    "Gd": 7, "Tb": 8, "Dy": 9, "Ho": 10, "Er": 11, "Tm": 12,
    "Yb": 13,  # Yb3+
    "Lu": 14,
}  # fmt: skip

#: Short label of the valence choices, part of every 4f feature name.
VALENCE_TAG = "Ce4+ Eu2+ Sm3+ Yb3+"

#: Second-order Stevens factor alpha_J of the R3+ Hund's-rule ground multiplet by 4f count
#: (Stevens 1952; Hutchings 1964, table VI). 0, 7 and 14 electrons: no orbital moment.
STEVENS_ALPHA: dict[int, Fraction] = {
    0: Fraction(0),
    1: Fraction(-2, 35),  # Ce3+
    2: Fraction(-52, 2475),  # Pr3+
    3: Fraction(-7, 1089),  # Nd3+
    4: Fraction(14, 12375),  # Pm3+
    5: Fraction(13, 315),  # Sm3+
    6: Fraction(0),  # Eu3+ (J = 0)
    7: Fraction(0),  # Gd3+ / Eu2+ (L = 0)
    8: Fraction(-1, 99),  # Tb3+
    9: Fraction(-2, 315),  # Dy3+
    10: Fraction(-1, 450),  # Ho3+
    11: Fraction(4, 1575),  # Er3+
    12: Fraction(1, 99),  # Tm3+
    13: Fraction(2, 63),  # Yb3+
    14: Fraction(0),
}

#: <r^2> of the 4f shell in a0^2 by 4f count (Freeman & Desclaux 1979, R3+ ions).
R2_4F: dict[int, float] = {
    1: 1.309, 2: 1.1963, 3: 1.114, 4: 1.0353, 5: 0.9743, 6: 0.9175, 7: 0.8671,
    8: 0.8220, 9: 0.7814, 10: 0.7446, 11: 0.7111, 12: 0.6804, 13: 0.6522,
}  # fmt: skip

#: Room-temperature 3d moments (Bohr magnetons per atom) of the bookkeeping rule: Fe as in
#: Y2Fe14B at room temperature (about 2.05), Co and Ni reduced in the same proportion from their
#: elemental moments (1.7 and 0.6 at 0 K). Mn is left to the learned correction (its coupling
#: depends on the Mn-Mn distance).
TM_MOMENT_RT: dict[str, float] = {"Fe": 2.05, "Co": 1.45, "Ni": 0.55}

#: Temperature of the room-temperature estimates (K).
ROOM_TEMPERATURE = 300.0

#: Exchange splitting 2 muB B_ex / kB (K) of the Nd 4f spin in the molecular field of the 3d
#: sublattice of Nd2Fe14B (B_ex about 365 T, the order of the R-Fe exchange fields of R2Fe14B;
#: Herbst 1991). The exchange acts on the spin projection (gJ - 1) J: the 2J + 1 levels of the
#: ground multiplet are split by |gJ - 1| times this value. With it Nd keeps 0.63 of its
#: moment at 300 K. Other rare earths scale it by :func:`exchange_scale`.
EXCHANGE_SPLITTING_K = 490.0

#: Curie temperatures (K) of R2Fe14B from which the R-Fe exchange of each rare earth is scaled
#: (:func:`exchange_scale`): the table of intrinsic properties of J. F. Herbst, Rev. Mod. Phys. 63,
#: 819 (1991) (Y2Fe14B 565 K, the 3d sublattice alone; Nd2Fe14B 585 K as in
#: ``../shared/magnets/REFERENCE.md``), written here from memory of that table. Y, Nd and Tb
#: agree within 1 K with the audited labels of the mined Curie set (``curie_tc``); its one
#: Gd2Fe14B value (592 K, a single paper) is 67 K below the 659 K here (Gd sets only its own
#: moment reduction and, with Tb and Dy, the field of the heavy rare earths beyond Dy); it holds
#: no label for Sm2Fe14B or Dy2Fe14B.
R2FE14B_TC_K: dict[str, float] = {
    "Y": 565.0, "Nd": 585.0, "Sm": 612.0, "Gd": 659.0, "Tb": 620.0, "Dy": 598.0,
}  # fmt: skip

#: The one calibration point of the 4f single-ion term: K1 of Nd2Fe14B at room temperature,
#: MJ/m3 (``../shared/magnets/REFERENCE.md``, jpmfmagnets.com). The effective A20 of the 2:14:1
#: R site is solved from it (:func:`k1_calibration`); Dy, Tb, Pr... are predictions, not fits.
K1_CALIBRATION_MJ_M3 = 4.2
K1_CALIBRATION_COMPOSITION = "Nd2Fe14B"

#: Room-temperature K1 of the Fe sublattice of the 2:14:1 structure, from Y2Fe14B (no 4f
#: anisotropy): about 1.1 MJ/m3 (Hirosawa et al., J. Appl. Phys. 59, 873 (1986); Herbst 1991).
#: Applied per Fe atom to compositions with boron.
K1_FE_SUBLATTICE_MJ_M3 = 1.1
_K1_FE_REFERENCE = "Y2Fe14B"

_MU0 = 4e-7 * math.pi
_MU_B = 9.2740100783e-24  # J/T
_K_B = 1.380649e-23  # J/K
_A3 = 1e-30  # m^3 per cubic angstrom

JS_COLUMN = "Js moment-bookkeeping estimate (T)"
K1_COLUMN = "K1 single-ion plus Fe-sublattice estimate (MJ/m3)"


@dataclass(frozen=True)
class IonQuantities:
    """Hund's-rule ground multiplet of a 4f^n ion and the quantities derived from it."""

    n4f: int
    S: float
    L: float
    J: float
    gJ: float
    de_gennes: float
    projected_spin: float
    moment: float  # gJ J, Bohr magnetons
    signed_moment: float  # relative to the 3d moment: + parallel (light R), - antiparallel
    alpha_J: float
    r2: float
    single_ion: float  # -alpha_J <r^2> J(2J - 1), a0^2: >0 adds uniaxial anisotropy if A20 > 0
    reduced_moment_rt: float  # B_J(y) at ROOM_TEMPERATURE in the exchange field
    signed_moment_rt: float  # signed_moment * reduced_moment_rt
    single_ion_rt: float  # single_ion * <O20>_300K / J(2J - 1) (:func:`thermal_o20`)


def _brillouin(J: float, y: float) -> float:
    """Brillouin function B_J(y) (y > 0)."""
    a, b = (2 * J + 1) / (2 * J), 1 / (2 * J)
    return a / math.tanh(a * y) - b / math.tanh(b * y)


def thermal_o20(J: float, spacing_k: float, temperature: float) -> float:
    """Thermal average of ``3 Jz^2 - J(J + 1)`` over an exchange-split ground multiplet.

    The ``2J + 1`` levels ``Jz = -J..J`` are equally spaced by ``spacing_k`` (kelvin), the ground
    level is ``Jz = J``; the crystal field is a perturbation (the exchange-dominated limit of
    single-ion theory, Herbst 1991 sec. V). At 0 K this is ``J(2J - 1)``; it falls faster with
    temperature than the moment (Callen and Callen's ``m^3`` law is its classical limit).

    Parameters
    ----------
    J : float
        Total angular momentum of the ground multiplet.
    spacing_k : float
        Level spacing ``|gJ - 1| 2 muB B_ex / kB`` (K), > 0.
    temperature : float
        Temperature (K), > 0.

    Returns
    -------
    float

    Examples
    --------
    >>> round(thermal_o20(4.5, 1e6, 300.0), 6)  # saturated: J(2J - 1)
    36.0
    """
    jz = np.arange(-J, J + 1.0)
    weight = np.exp((jz - J) * spacing_k / temperature)
    return float((weight * (3 * jz**2 - J * (J + 1))).sum() / weight.sum())


@cache
def exchange_scale(n4f: int) -> float:
    """R-Fe exchange field on a rare earth relative to Nd's, from the R2Fe14B Curie temperatures.

    In the two-sublattice mean-field model the rare earth raises Tc above that of the 3d
    sublattice alone (``T_Fe``, Y2Fe14B) by ``Tc (Tc - T_Fe) = T_RFe^2``, with
    ``T_RFe^2 ∝ n_RFe^2 (gJ - 1)^2 J(J + 1)`` (the de Gennes factor: the exchange couples to the
    4f spin). So ``n_RFe ∝ sqrt(Tc (Tc - T_Fe) / G)``, taken relative to Nd, with the Curie
    temperatures of :data:`R2FE14B_TC_K`. The result, an exchange about 0.7 times Nd's on the
    heavy rare earths (Gd 0.80, Tb 0.72, Dy 0.66), is the decrease of the R-T exchange across the
    series reported by E. Belorizky et al., J. Appl. Phys. 61, 3971 (1987). Rare earths whose Tc
    is not in the table (or raises Tc by less than 20 K over Y2Fe14B, too little to resolve) get
    Nd's field if light (4f count below 7) and the mean of Gd, Tb and Dy if heavy.

    Parameters
    ----------
    n4f : int
        4f electron count (:data:`FOUR_F_COUNT`).

    Returns
    -------
    float

    Examples
    --------
    >>> round(exchange_scale(3), 2), round(exchange_scale(9), 2)  # Nd, Dy
    (1.0, 0.66)
    """

    def coupling(sym: str) -> float | None:
        tc, t_fe = R2FE14B_TC_K.get(sym), R2FE14B_TC_K["Y"]
        n = FOUR_F_COUNT[sym]
        de_gennes = _de_gennes(n)
        if tc is None or tc - t_fe < 20.0 or de_gennes == 0:
            return None
        return math.sqrt(tc * (tc - t_fe) / de_gennes)

    reference = coupling("Nd")
    assert reference is not None
    by_count = {FOUR_F_COUNT[sym]: coupling(sym) for sym in R2FE14B_TC_K if sym != "Y"}
    resolved = by_count.get(n4f)
    if resolved is not None:
        return resolved / reference
    if n4f < 7:
        return 1.0
    heavy = [c for n, c in by_count.items() if n >= 7 and c is not None]
    return float(np.mean(heavy)) / reference


def _hund(n4f: int) -> tuple[float, float, float, float]:
    """S, L, J and gJ of the Hund's-rule ground multiplet of 4f^n (gJ = 0 when J = 0)."""
    if not 0 <= n4f <= 14:
        raise ValueError(f"4f electron count must be 0..14, got {n4f}.")
    ml_order = [3, 2, 1, 0, -1, -2, -3]
    up = min(n4f, 7)
    down = n4f - up
    S = (up - down) / 2
    L = float(abs(sum(ml_order[:up]) + sum(ml_order[:down])))
    J = abs(L - S) if n4f < 7 else L + S
    if J == 0:
        return S, L, J, 0.0  # no moment (4f0, 4f14, Eu3+)
    return S, L, J, 1 + (J * (J + 1) + S * (S + 1) - L * (L + 1)) / (2 * J * (J + 1))


def _de_gennes(n4f: int) -> float:
    S, L, J, gJ = _hund(n4f)
    return (gJ - 1) ** 2 * J * (J + 1) if J > 0 else 0.0


@cache
def ion_quantities(n4f: int) -> IonQuantities:
    """Quantum numbers and derived quantities of a 4f^n ion from Hund's rules.

    Parameters
    ----------
    n4f : int
        Number of 4f electrons, 0..14.

    Returns
    -------
    IonQuantities

    Examples
    --------
    >>> q = ion_quantities(9)  # Dy3+
    >>> q.J, round(q.gJ, 6), q.signed_moment
    (7.5, 1.333333, -10.0)
    """
    S, L, J, gJ = _hund(n4f)
    moment = gJ * J
    if J == 0:
        projected, de_gennes, signed = 0.0, 0.0, 0.0
    else:
        projected = (gJ - 1) * J
        de_gennes = _de_gennes(n4f)
        # 4f spin antiparallel to the 3d spin; the spin projection on J is (gJ - 1) J, so the
        # moment along J is parallel to the 3d moment when gJ < 1 (light R)
        signed = moment if gJ < 1 else -moment
    alpha = float(STEVENS_ALPHA[n4f])
    r2 = R2_4F.get(n4f, 0.0)
    single_ion = -alpha * r2 * J * (2 * J - 1) if J > 0.5 else 0.0
    if J > 0 and projected != 0:
        # the exchange splits the multiplet into 2J + 1 levels |gJ - 1| D_R apart
        spacing = abs(gJ - 1) * EXCHANGE_SPLITTING_K * exchange_scale(n4f)
        reduced = _brillouin(J, J * spacing / ROOM_TEMPERATURE)
        operator_rt = 0.0
        if J > 0.5:
            operator_rt = thermal_o20(J, spacing, ROOM_TEMPERATURE) / (J * (2 * J - 1))
    else:
        reduced = 1.0 if J > 0 else 0.0
        operator_rt = reduced
    return IonQuantities(
        n4f=n4f,
        S=S,
        L=L,
        J=J,
        gJ=gJ,
        de_gennes=de_gennes,
        projected_spin=projected,
        moment=moment,
        signed_moment=signed,
        alpha_J=alpha,
        r2=r2,
        single_ion=single_ion,
        reduced_moment_rt=reduced,
        signed_moment_rt=signed * reduced,
        single_ion_rt=single_ion * operator_rt,
    )


# -- element tables ------------------------------------------------------------------------
_ION_FIELDS = (
    ("4f count", "n4f"),
    ("S", "S"),
    ("L", "L"),
    ("J", "J"),
    ("gJ", "gJ"),
    ("de Gennes factor", "de_gennes"),
    ("projected spin (gJ-1)J", "projected_spin"),
    ("4f moment gJJ (muB)", "moment"),
    ("signed 4f moment vs 3d (muB)", "signed_moment"),
    ("Stevens alpha_J", "alpha_J"),
    ("single-ion factor -alpha_J r2 J(2J-1)", "single_ion"),
    ("signed 4f moment at 300 K (muB)", "signed_moment_rt"),
    ("single-ion factor at 300 K", "single_ion_rt"),
)
_TM = ("Fe", "Co", "Ni")
_D_COUNT = {"Fe": 6, "Co": 7, "Ni": 8}  # 3d electrons of the free atoms (3d^n 4s^2)
_INTERSTITIAL_B = element_index("B")


def _labels() -> list[str]:
    ion = [f"RE mean {name} [{VALENCE_TAG}]" for name, _ in _ION_FIELDS]
    return [
        "has rare earth",
        "RE atomic fraction",
        *ion,
        f"RE de Gennes per atom [{VALENCE_TAG}]",
        f"RE signed 4f moment per atom (muB) [{VALENCE_TAG}]",
        "FeCoNi atomic fraction",
        "Fe share of FeCoNi",
        "Co share of FeCoNi",
        "Ni share of FeCoNi",
        "FeCoNi mean 3d electron count",
        "RE to FeCoNi ratio",
        "volume per atom estimate (A3)",
        f"moment per atom estimate (muB) [{VALENCE_TAG}]",
        f"{JS_COLUMN} [{VALENCE_TAG}]",
        f"{K1_COLUMN} [{VALENCE_TAG}]",
    ]


@lru_cache(maxsize=1)
def _element_tables() -> dict[str, np.ndarray]:
    """Per-element columns (length 103) that the features are weighted sums of."""
    from matminer.utils.data import MagpieData

    from mi.features.element_data import property_table

    is_re = np.zeros(N_ELEMENTS)
    ion = np.zeros((N_ELEMENTS, len(_ION_FIELDS)))
    for sym, n in FOUR_F_COUNT.items():
        j = element_index(sym)
        is_re[j] = 1.0
        q = ion_quantities(n)
        ion[j] = [getattr(q, attr) for _, attr in _ION_FIELDS]
    tm = np.zeros((N_ELEMENTS, 3))
    d_count = np.zeros(N_ELEMENTS)
    moment = np.zeros(N_ELEMENTS)
    for k, sym in enumerate(_TM):
        tm[element_index(sym), k] = 1.0
        d_count[element_index(sym)] = _D_COUNT[sym]
        moment[element_index(sym)] = TM_MOMENT_RT[sym]
    fields = [f for _, f in _ION_FIELDS]
    moment = moment + ion[:, fields.index("signed_moment_rt")]
    volume = np.array(property_table(MagpieData(), "GSvolume_pa"), dtype=np.float64)
    volume[~np.isfinite(volume)] = float(np.nanmedian(volume))  # missing: the median element
    single = ion[:, fields.index("single_ion_rt")]  # at 300 K in the exchange field
    for arr in (is_re, ion, tm, d_count, moment, volume, single):
        arr.setflags(write=False)
    return {
        "is_re": is_re,
        "ion": ion,
        "tm": tm,
        "d_count": d_count,
        "moment": moment,
        "volume": volume,
        "single_ion": single,
    }


def _from_sums(
    total: np.ndarray,
    re_amt: np.ndarray,
    ion_sum: np.ndarray,
    tm_amt: np.ndarray,
    d_sum: np.ndarray,
    moment_sum: np.ndarray,
    volume_sum: np.ndarray,
    single_sum: np.ndarray,
    boron: np.ndarray,
) -> np.ndarray:
    """Features from per-row sums of amount-weighted element values."""
    m = len(total)
    has_re = re_amt > 0
    safe_re = np.where(has_re, re_amt, 1.0)
    ion_mean = np.where(has_re[:, None], ion_sum / safe_re[:, None], 0.0)
    tm_total = tm_amt.sum(axis=1)
    has_tm = tm_total > 0
    safe_tm = np.where(has_tm, tm_total, 1.0)
    tm_share = np.where(has_tm[:, None], tm_amt / safe_tm[:, None], 0.0)
    d_mean = np.where(has_tm, d_sum / safe_tm, 0.0)
    re_frac = re_amt / total
    dg = ion_mean[:, [f for _, f in _ION_FIELDS].index("de_gennes")]
    sm = ion_mean[:, [f for _, f in _ION_FIELDS].index("signed_moment")]
    volume_pa = volume_sum / total
    moment_pa = moment_sum / total
    # the net moment may point along the 4f sublattice (heavy-R-rich ferrimagnets): |m|
    js = _MU0 * np.abs(moment_pa) * _MU_B / (volume_pa * _A3)
    k1 = _k1(single_sum, tm_amt[:, 0], volume_sum, boron, *k1_calibration())
    ratio = np.where(has_tm, re_amt / safe_tm, 0.0)
    cols = [
        has_re.astype(np.float64),
        re_frac,
        *ion_mean.T,
        re_frac * dg,
        re_frac * sm,
        tm_total / total,
        *tm_share.T,
        d_mean,
        ratio,
        volume_pa,
        moment_pa,
        js,
        k1,
    ]
    out = np.column_stack(cols) if m else np.zeros((0, len(cols)))
    return out


def _k1(
    single_sum: np.ndarray,
    fe_amt: np.ndarray,
    volume_sum: np.ndarray,
    boron: np.ndarray,
    a20: float,
    fe_energy: float,
) -> np.ndarray:
    """K1 (MJ/m3) = 4f single-ion term + Fe-sublattice term (module docstring).

    ``single_sum``: sum over R atoms of ``-alpha_J <r^2> J(2J - 1)`` (a0^2); ``a20`` in K/a0^2;
    ``fe_energy``: anisotropy energy per Fe atom of the 2:14:1 Fe sublattice (J).
    """
    volume = np.where(volume_sum > 0, volume_sum, 1.0) * _A3
    with_boron = boron > 0
    a20_signed = np.where(with_boron, a20, -a20)
    k1_4f = 1.5 * a20_signed * _K_B * single_sum / volume
    k1_fe = np.where(with_boron, fe_energy * fe_amt, 0.0) / volume
    return (k1_4f + k1_fe) / 1e6


def _sums_of(formula: str) -> dict[str, float]:
    """Amount-weighted sums of the element tables for one formula (calibration points)."""
    from pymatgen.core import Composition

    t = _element_tables()
    sums = {"single": 0.0, "fe": 0.0, "volume": 0.0}
    for el, amt in Composition(formula).get_el_amt_dict().items():
        j = element_index(el)
        sums["single"] += amt * float(t["single_ion"][j])
        sums["volume"] += amt * float(t["volume"][j])
        sums["fe"] += amt * float(t["tm"][j, 0])
    return sums


@cache
def k1_calibration() -> tuple[float, float]:
    """Solve the K1 estimate's two constants from the cited values.

    ``fe_energy`` (J per Fe atom) makes the Fe-sublattice term equal
    :data:`K1_FE_SUBLATTICE_MJ_M3` for Y2Fe14B; ``a20`` (K per a0^2, the crystal-field
    coefficient A20 of the 2:14:1 R site, applied to the 300 K operator average) then makes the
    whole estimate equal
    :data:`K1_CALIBRATION_MJ_M3` for Nd2Fe14B. Volumes are the estimates the features use, so
    the calibration points are reproduced exactly. Nothing else is fitted.

    Returns
    -------
    (a20, fe_energy) : tuple of float

    Examples
    --------
    >>> a20, fe = k1_calibration()
    >>> 150 < a20 < 450  # a 0 K crystal-field coefficient (Herbst: about 300 K/a0^2)
    True
    """
    y = _sums_of(_K1_FE_REFERENCE)
    fe_energy = K1_FE_SUBLATTICE_MJ_M3 * 1e6 * y["volume"] * _A3 / y["fe"]
    nd = _sums_of(K1_CALIBRATION_COMPOSITION)
    k1_fe = fe_energy * nd["fe"] / (nd["volume"] * _A3) / 1e6
    a20 = (K1_CALIBRATION_MJ_M3 - k1_fe) * 1e6 * nd["volume"] * _A3 / (1.5 * _K_B * nd["single"])
    return float(a20), float(fe_energy)


#: What the physics K1 estimate covers for a composition (:func:`anisotropy_basis`).
BASIS_CALIBRATED = "2:14:1, calibrated"
BASIS_4F_ONLY = "4f only, uncalibrated"
BASIS_FE_ONLY = "2:14:1 Fe sublattice only"
BASIS_NONE = "none (physics K1 = 0)"


def anisotropy_basis(formulas: Any) -> np.ndarray:
    """Which terms of the physics K1 estimate apply to each composition.

    The estimate is calibrated for rare-earth compositions with boron and Fe (the R2(Fe,Co)14B
    family): :data:`BASIS_CALIBRATED` (and :data:`BASIS_FE_ONLY` without rare earth). A
    rare-earth composition without boron gets the 4f term with the sign of A20 of the other
    structures and the 2:14:1 magnitude, and no 3d-sublattice term: :data:`BASIS_4F_ONLY`.
    Without rare earth and boron the estimate is 0 by construction, not a prediction:
    :data:`BASIS_NONE` (e.g. MnAl, whose anisotropy is all 3d).

    Parameters
    ----------
    formulas : sequence of str or CompositionMatrix

    Returns
    -------
    ndarray of str, shape (n,)

    Examples
    --------
    >>> anisotropy_basis(["Nd2Fe14B", "SmFe11Ti", "MnAl"]).tolist()
    ['2:14:1, calibrated', '4f only, uncalibrated', 'none (physics K1 = 0)']
    """
    from mi.chem import CompositionMatrix, parse_formulas

    matrix = formulas if isinstance(formulas, CompositionMatrix) else parse_formulas(formulas)
    dense = np.asarray(matrix.to_dense(), dtype=np.float64)
    t = _element_tables()
    has_re = (dense @ t["is_re"]) > 0
    has_boron = dense[:, _INTERSTITIAL_B] > 0
    has_fe = dense[:, element_index("Fe")] > 0
    out = np.full(len(dense), BASIS_NONE, dtype=object)
    out[has_re] = BASIS_4F_ONLY
    out[has_re & has_boron & has_fe] = BASIS_CALIBRATED
    out[~has_re & has_boron & has_fe] = BASIS_FE_ONLY
    return out.astype(str)


def rare_earth_block(featurizer: Any, block: Any) -> np.ndarray:
    """Array version of :class:`RareEarthPhysics` over a :class:`mi.features.fast.Block`."""
    t = _element_tables()
    idx, amt = block.indices, block.amounts
    w = amt[:, None]
    out = _from_sums(
        total=block.total,
        re_amt=block.rowsum(t["is_re"][idx] * amt),
        ion_sum=block.rowsum(t["ion"][idx] * w),
        tm_amt=block.rowsum(t["tm"][idx] * w),
        d_sum=block.rowsum(t["d_count"][idx] * amt),
        moment_sum=block.rowsum(t["moment"][idx] * amt),
        volume_sum=block.rowsum(t["volume"][idx] * amt),
        single_sum=block.rowsum(t["single_ion"][idx] * amt),
        boron=block.rowsum(np.where(idx == _INTERSTITIAL_B, amt, 0.0)),
    )
    return out[:, featurizer.columns_]


class RareEarthPhysics(BaseFeaturizer):
    """Rare-earth single-ion and Fe/Co/Ni sublattice physics of a composition.

    See the module docstring for the quantities, valence choices and sources. The array
    version (:func:`rare_earth_block`) computes the same numbers for millions of rows.

    Parameters
    ----------
    features : list of str, optional
        Keep only these columns (labels as :meth:`feature_labels` gives them without a
        selection, the ``[valence]`` tag may be left out). Default: all.

    Examples
    --------
    >>> from pymatgen.core import Composition
    >>> f = RareEarthPhysics()
    >>> row = dict(zip(f.feature_labels(), f.featurize(Composition("Nd2Fe14B"))))
    >>> row["has rare earth"], round(row["RE mean J [Ce4+ Eu2+ Sm3+ Yb3+]"], 2)
    (1.0, 4.5)
    """

    def __init__(self, features: list[str] | tuple[str, ...] | None = None) -> None:
        self.features = None if features is None else list(features)
        everything = _labels()
        if self.features is None:
            self.columns_ = list(range(len(everything)))
        else:
            untagged = [lab.replace(f" [{VALENCE_TAG}]", "") for lab in everything]
            unknown = [f for f in self.features if f not in everything and f not in untagged]
            if unknown:
                raise ValueError(
                    f"RareEarthPhysics: unknown feature(s) {unknown}; choose from {untagged}."
                )
            self.columns_ = [
                i for i, (a, b) in enumerate(zip(everything, untagged, strict=True))
                if a in self.features or b in self.features
            ]  # fmt: skip

    def featurize(self, comp: Any) -> list[float]:
        """Features of one composition.

        Parameters
        ----------
        comp : pymatgen.core.Composition

        Returns
        -------
        list of float
        """
        t = _element_tables()
        el_amt = comp.get_el_amt_dict()
        idx = np.array([element_index(el) for el in el_amt], dtype=np.int64)
        amt = np.array(list(el_amt.values()), dtype=np.float64)
        w = amt[:, None]
        row = _from_sums(
            total=np.array([amt.sum()]),
            re_amt=np.array([(t["is_re"][idx] * amt).sum()]),
            ion_sum=(t["ion"][idx] * w).sum(axis=0)[None, :],
            tm_amt=(t["tm"][idx] * w).sum(axis=0)[None, :],
            d_sum=np.array([(t["d_count"][idx] * amt).sum()]),
            moment_sum=np.array([(t["moment"][idx] * amt).sum()]),
            volume_sum=np.array([(t["volume"][idx] * amt).sum()]),
            single_sum=np.array([(t["single_ion"][idx] * amt).sum()]),
            boron=np.array([amt[idx == _INTERSTITIAL_B].sum()]),
        )
        return [float(row[0, i]) for i in self.columns_]

    def feature_labels(self) -> list[str]:
        """Column labels (valence choices in brackets)."""
        everything = _labels()
        return [everything[i] for i in self.columns_]

    def citations(self) -> list[str]:
        """Stevens factors, <r^2>, R2Fe14B physics."""
        return [
            "K. W. H. Stevens, Proc. Phys. Soc. A 65, 209 (1952)",
            "M. T. Hutchings, Solid State Phys. 16, 227 (1964)",
            "A. J. Freeman, J. P. Desclaux, J. Magn. Magn. Mater. 12, 11 (1979)",
            "J. F. Herbst, Rev. Mod. Phys. 63, 819 (1991)",
        ]

    def implementors(self) -> list[str]:
        """Who wrote it."""
        return ["mi developers"]
