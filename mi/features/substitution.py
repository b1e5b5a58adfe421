"""Features that make one substitution explicit: "Co counted as Fe" plus the Co share alone.

A tree model learns a trend along a substitution series only from the features that move along
it. Replacing a little Fe by Co moves dozens of element statistics at once (mean d-valence,
electronegativity, radius, and in steps the element count and the maximum d-valence), so the
model's answer to "what does 5 % Co do?" is whatever those statistics did in unrelated compounds.
For the Curie temperature of Fe-rich rare-earth / transition-metal magnets the physics is known:
Co for Fe raises Tc (J. F. Herbst, Rev. Mod. Phys. 63, 819 (1991); ``../shared/magnets/
REFERENCE.md``). Two featurizers let a model say exactly that and nothing else:

* :class:`SubstitutedPreset` computes another preset's features on the composition with some
  elements counted as others (``replace = {Co = "Fe"}``: Nd2(Fe0.95Co0.05)14B is seen as
  Nd2Fe14B), so none of its columns moves when Co replaces Fe;
* :class:`CoShareSplit` gives the Co share of the Fe/Co/Ni sublattice in two parts: the share up
  to Co = Fe (``Co share of FeCoNi up to Co = Fe``, the Fe-rich part) and the rest (``Co share
  of FeCoNi beyond Co = Fe``, zero in Fe-rich compounds).

With a monotone-increasing constraint on the first part only
(``XGBEnsembleRegressor(monotone_increasing=...)``), a prediction can never fall when Co replaces
Fe in an Fe-rich compound, while Co-rich compounds (RCo2 Laves phases, where Co carries almost no
moment) keep an unconstrained Co dependence through the second part.

Both have array versions for the fast backend (:data:`mi.features.fast.FAST_FEATURIZERS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matminer.featurizers.base import BaseFeaturizer

from mi.chem import ELEMENTS, N_ELEMENTS, element_index

__all__ = [
    "SubstitutedPreset",
    "CoShareSplit",
    "CO_SHARE_FE_RICH",
    "CO_SHARE_CO_RICH",
    "CO_FOR_FE_INCREMENT",
    "CO_FOR_FE_SLOPE_K",
    "RTM_MAGNET_MIN_TM_SHARE",
    "SUBSTITUTION_SCOPES",
    "rtm_magnet_rows",
]

#: Where :class:`SubstitutedPreset` replaces elements -> the words its column tag adds.
SUBSTITUTION_SCOPES = {"all": "", "rtm_magnets": " in R-TM magnets"}

#: Column of :class:`CoShareSplit` that rises while Co <= Fe (constrain it monotone).
CO_SHARE_FE_RICH = "Co share of FeCoNi up to Co = Fe"
#: Column of :class:`CoShareSplit` that rises only once Co > Fe.
CO_SHARE_CO_RICH = "Co share of FeCoNi beyond Co = Fe"

#: Column of :class:`CoShareSplit`: the Co-for-Fe Curie-temperature increment (K) of Fe-rich
#: R-TM magnets, ``CO_FOR_FE_SLOPE_K`` times the Fe-rich Co share, zero elsewhere.
CO_FOR_FE_INCREMENT = "Co-for-Fe Tc increment of Fe-rich R-TM magnets (K)"

#: Tc rise per unit Co share of the Fe/Co/Ni sublattice in Fe-rich R-TM magnets (K): a lower
#: bound, below the mean slope from Nd2Fe14B (585 K) to Nd2Co14B (about 1000 K), about 415 K,
#: and far below the initial slopes of R2(Fe,Co)17 (J. F. Herbst, Rev. Mod. Phys. 63, 819
#: (1991); K. H. J. Buschow, Rep. Prog. Phys. 54, 1123 (1991)).
CO_FOR_FE_SLOPE_K = 300.0

#: Fe-rich R-TM magnets: a rare earth and Fe/Co/Ni at least this share of R + Fe/Co/Ni
#: (2:14:1 0.875, 2:17 0.895, 1:12 0.92; the RFe2 and RFe3 phases, 0.67 and 0.75, in which Co
#: for Fe lowers Tc, are outside).
RTM_MAGNET_MIN_TM_SHARE = 0.85

_FE, _CO, _NI = element_index("Fe"), element_index("Co"), element_index("Ni")
_RARE_EARTHS = ("Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho",
                "Er", "Tm", "Yb", "Lu")  # fmt: skip
_IS_RE = np.zeros(N_ELEMENTS)
_IS_RE[[element_index(e) for e in _RARE_EARTHS]] = 1.0


def _check_replace(replace: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for old, new in dict(replace).items():
        for sym in (old, new):
            if sym not in ELEMENTS:
                raise ValueError(f"SubstitutedPreset: {sym!r} is not an element symbol.")
        if old == new:
            raise ValueError(f"SubstitutedPreset: replacing {old} by itself does nothing.")
        out[str(old)] = str(new)
    if not out:
        raise ValueError("SubstitutedPreset: 'replace' must name at least one element.")
    if set(out) & set(out.values()):
        raise ValueError(
            f"SubstitutedPreset: replace {out} chains substitutions; map every element directly."
        )
    return out


class SubstitutedPreset(BaseFeaturizer):
    """Another preset's features, computed with some elements counted as others.

    Parameters
    ----------
    preset : str
        Name of a composition preset (it may not itself use :class:`SubstitutedPreset`).
    replace : mapping of str to str
        Element -> the element it is counted as, e.g. ``{"Co": "Fe"}``.
    scope : {"all", "rtm_magnets"}, default "all"
        Where the replacement applies: every composition, or only Fe-rich rare-earth /
        transition-metal magnets (a rare earth, Fe/Co/Ni at least
        :data:`RTM_MAGNET_MIN_TM_SHARE` of R + Fe/Co/Ni: the scope of the Co-for-Fe increment
        of :class:`CoShareSplit`); elsewhere the features see the composition as it is. With
        ``{"Co": "Fe"}`` this keeps Co for Fe invisible (but for the Co share) in the magnets
        whose Co-for-Fe trend is known, while Co stays an element of its own in Co oxides,
        Heusler alloys or Co metal (columns tagged ``[Co as Fe in R-TM magnets]``).

    Examples
    --------
    >>> from pymatgen.core import Composition
    >>> f = SubstitutedPreset("rare_earth", {"Co": "Fe"})
    >>> a = f.featurize(Composition("Nd2Fe14B"))
    >>> b = f.featurize(Composition("Nd2Fe13CoB"))
    >>> a == b
    True
    >>> f.feature_labels()[0]
    'has rare earth [Co as Fe]'
    """

    def __init__(self, preset: str, replace: Mapping[str, str], scope: str = "all") -> None:
        self.preset = preset
        self.replace = _check_replace(replace)
        if scope not in SUBSTITUTION_SCOPES:
            raise ValueError(
                f"SubstitutedPreset: scope must be one of {', '.join(SUBSTITUTION_SCOPES)}; "
                f"got {scope!r}."
            )
        self.scope = scope
        self._inner: list[Any] | None = None

    @property
    def tag(self) -> str:
        """Suffix of every column, e.g. ``[Co as Fe]`` (``[Co as Fe in R-TM magnets]``)."""
        where = SUBSTITUTION_SCOPES[self.scope]
        return "[" + ", ".join(f"{a} as {b}" for a, b in self.replace.items()) + where + "]"

    def inner(self) -> list[Any]:
        """Return the inner preset's featurizers (built once)."""
        if self._inner is None:
            from mi.features.presets import built_featurizers, get_preset

            spec = get_preset(self.preset)
            if spec.kind != "composition":
                raise ValueError(
                    f"SubstitutedPreset: preset {self.preset!r} is a {spec.kind} preset; "
                    "only composition presets can be substituted."
                )
            built = built_featurizers(spec)
            if any(isinstance(f, SubstitutedPreset) for f in built):
                raise ValueError(
                    f"SubstitutedPreset: preset {self.preset!r} uses SubstitutedPreset itself; "
                    "nest substitutions by listing every replacement in one 'replace'."
                )
            self._inner = built
        return self._inner

    def _substitute(self, comp: Any) -> Any:
        from pymatgen.core import Composition

        raw = comp.get_el_amt_dict()
        if self.scope == "rtm_magnets":
            tm = np.array([sum(float(raw.get(el, 0.0)) for el in ("Fe", "Co", "Ni"))])
            re = np.array([sum(float(a) for el, a in raw.items() if el in _RARE_EARTHS)])
            if not _rtm_magnet(tm, re)[0]:
                return comp
        amounts: dict[str, float] = {}
        for el, amt in raw.items():
            key = self.replace.get(el, el)
            amounts[key] = amounts.get(key, 0.0) + amt
        return Composition(amounts)

    def featurize(self, comp: Any) -> list[float]:
        """Features of one composition (pymatgen ``Composition``)."""
        sub = self._substitute(comp)
        return [float(v) for f in self.inner() for v in f.featurize(sub)]

    def feature_labels(self) -> list[str]:
        """Return the inner preset's labels with the substitution tag."""
        return [f"{lab} {self.tag}" for f in self.inner() for lab in f.feature_labels()]

    def citations(self) -> list[str]:
        """Return the inner featurizers' citations."""
        return sorted({c for f in self.inner() for c in f.citations()})

    def implementors(self) -> list[str]:
        """Who wrote it."""
        return ["mi developers"]


def _rtm_magnet(tm: np.ndarray, re: np.ndarray) -> np.ndarray:
    """Fe-rich R-TM magnets: a rare earth, Fe+Co+Ni (``tm``) >= the share of R + Fe/Co/Ni."""
    return (re > 0) & (tm >= RTM_MAGNET_MIN_TM_SHARE * (tm + re))


def rtm_magnet_rows(block: Any) -> np.ndarray:
    """Which rows of a fast-backend block are Fe-rich R-TM magnets (block order)."""
    idx, amt = block.indices, block.amounts
    tm = sum(block.rowsum(np.where(idx == j, amt, 0.0)) for j in (_FE, _CO, _NI))
    return _rtm_magnet(tm, block.rowsum(_IS_RE[idx] * amt))


def _split(fe: np.ndarray, co: np.ndarray, ni: np.ndarray, re: np.ndarray) -> np.ndarray:
    total = fe + co + ni
    has = total > 0
    safe = np.where(has, total, 1.0)
    below = np.minimum(co, 0.5 * (fe + co))
    fe_rich = np.where(has, below / safe, 0.0)
    magnet = _rtm_magnet(total, re)
    return np.column_stack(
        [
            fe_rich,
            np.where(has, (co - below) / safe, 0.0),
            np.where(magnet, CO_FOR_FE_SLOPE_K * fe_rich, 0.0),
        ]
    )


class CoShareSplit(BaseFeaturizer):
    """Co share of the Fe/Co/Ni sublattice, split at Co = Fe, and the Co-for-Fe Tc increment.

    The third column is :data:`CO_FOR_FE_SLOPE_K` times the Fe-rich Co share in Fe-rich R-TM
    magnets (a rare earth, Fe/Co/Ni at least :data:`RTM_MAGNET_MIN_TM_SHARE` of R + Fe/Co/Ni),
    zero elsewhere: a physics term a model can add to its prediction (``offset`` of
    :class:`~mi.models.RandomForestUncertaintyRegressor`), so that a small Co step raises the
    predicted Tc even where the trees are flat.

    Examples
    --------
    >>> from pymatgen.core import Composition
    >>> f = CoShareSplit()
    >>> [round(x, 3) for x in f.featurize(Composition("Nd2Fe13CoB"))]
    [0.071, 0.0, 21.429]
    >>> [round(x, 3) for x in f.featurize(Composition("YCo2"))]
    [0.5, 0.5, 0.0]
    """

    def featurize(self, comp: Any) -> list[float]:
        """Two shares of one composition (pymatgen ``Composition``)."""
        amt = comp.get_el_amt_dict()
        fe, co, ni = (np.array([float(amt.get(el, 0.0))]) for el in ("Fe", "Co", "Ni"))
        re = np.array([sum(float(a) for el, a in amt.items() if el in _RARE_EARTHS)])
        return [float(x) for x in _split(fe, co, ni, re)[0]]

    def feature_labels(self) -> list[str]:
        """Column labels."""
        return [CO_SHARE_FE_RICH, CO_SHARE_CO_RICH, CO_FOR_FE_INCREMENT]

    def citations(self) -> list[str]:
        """Co for Fe in R2(Fe,Co)14B."""
        return ["J. F. Herbst, Rev. Mod. Phys. 63, 819 (1991)"]

    def implementors(self) -> list[str]:
        """Who wrote it."""
        return ["mi developers"]


def co_share_block(featurizer: CoShareSplit, block: Any) -> np.ndarray:
    """Array version of :class:`CoShareSplit`."""
    idx, amt = block.indices, block.amounts
    fe, co, ni = (block.rowsum(np.where(idx == j, amt, 0.0)) for j in (_FE, _CO, _NI))
    return _split(fe, co, ni, block.rowsum(_IS_RE[idx] * amt))
