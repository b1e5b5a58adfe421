"""The error of the moment-bookkeeping Js on R2Fe14B: where the flagship's Js prior comes from.

The flagship's Js model (``workflows/ndfeb_hree_reduction.toml``) is the moment bookkeeping of
:mod:`mi.features.rare_earth` plus a correction learned on NOVAMAG. NOVAMAG holds no 2:14:1
compound, so on R2(Fe,Co)14B candidates the correction is faded out and the prediction is the
bookkeeping alone. Its std there is ``baseline_std``, stated in the workflow: the root-mean-square
error of the bookkeeping against the measured room-temperature Js of the R2Fe14B compounds below.

Reference values: saturation polarisation mu0*Ms at room temperature (295 K) of R2Fe14B, from the
table of intrinsic properties in J. F. Herbst, Rev. Mod. Phys. 63, 819 (1991) (single-crystal
and oriented-powder data of Sagawa, Hirosawa et al.). They were written here from memory of
that table and not re-read against the paper in this project; Nd2Fe14B agrees with the cited
1.61 T of ``../shared/magnets/REFERENCE.md`` and Dy/Tb with ``benchmarks/magnet_trends.py``.
None of these values is used to fit the bookkeeping (its only inputs are the 3d moments of
Y2Fe14B and the free-ion 4f moments), so the error below is an honest out-of-sample figure for
the family, with nine points (the std of such an RMS is itself about 25 %).

What it does not cover: Co for Fe (the bookkeeping's Co moment is not checked against
R2(Fe,Co)14B data here) and mixed compositions (checked only through their end members).

Usage::

    .venv/bin/python benchmarks/js_physics_prior.py

Prints one line per compound (bookkeeping, measured, error), the RMS and the largest error, and
one JSON line.
"""

from __future__ import annotations

import json
import math

import numpy as np

from mi.features import featurize
from mi.features.rare_earth import JS_COLUMN

#: Room-temperature Js (T) of R2Fe14B, Herbst, Rev. Mod. Phys. 63, 819 (1991), from memory
#: of its table (see the module docstring).
HERBST_JS_T = {
    "Y2Fe14B": 1.41,
    "La2Fe14B": 1.38,
    "Ce2Fe14B": 1.17,
    "Pr2Fe14B": 1.56,
    "Nd2Fe14B": 1.60,
    "Sm2Fe14B": 1.52,
    "Gd2Fe14B": 0.89,
    "Tb2Fe14B": 0.70,
    "Dy2Fe14B": 0.71,
}


def bookkeeping_errors() -> dict[str, dict[str, float]]:
    """Bookkeeping Js, measured Js and their difference per compound (tesla)."""
    formulas = list(HERBST_JS_T)
    X = featurize(formulas, preset="rare_earth", progress=False)
    column = next(c for c in X.columns if str(c).startswith(JS_COLUMN))
    predicted = X[column].to_numpy(dtype=np.float64)
    return {
        f: {"bookkeeping": float(p), "measured": HERBST_JS_T[f], "error": float(p) - HERBST_JS_T[f]}
        for f, p in zip(formulas, predicted, strict=True)
    }


def main() -> None:
    """Print the table, the RMS error and a JSON line."""
    rows = bookkeeping_errors()
    print(f"{'compound':<10} {'bookkeeping':>11} {'measured':>9} {'error':>7}   (T, 295 K)")
    for f, r in rows.items():
        print(f"{f:<10} {r['bookkeeping']:>11.3f} {r['measured']:>9.2f} {r['error']:>+7.3f}")
    errors = np.array([r["error"] for r in rows.values()])
    rms = float(math.sqrt(np.mean(errors**2)))
    worst = max(rows, key=lambda f: abs(rows[f]["error"]))
    within = int(np.sum(np.abs(errors) <= 1.959964 * rms))
    print(
        f"RMS error {rms:.3f} T over {len(rows)} compounds; mean {errors.mean():+.3f} T; "
        f"largest {worst} {rows[worst]['error']:+.3f} T; {within} of {len(rows)} inside "
        f"+-1.96 RMS"
    )
    print(
        json.dumps(
            {
                "benchmark": "js_physics_prior",
                "rms_T": round(rms, 4),
                "mean_error_T": round(float(errors.mean()), 4),
                "largest": {worst: round(rows[worst]["error"], 4)},
                "inside_95": [within, len(rows)],
                "compounds": {f: {k: round(v, 4) for k, v in r.items()} for f, r in rows.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
