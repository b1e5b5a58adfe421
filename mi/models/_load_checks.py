"""Checks of a saved model's arrays and blobs, before any native code sees them.

Native code here means scikit-learn's Cython trees and xgboost's C++ parser. A crafted
``arrays.npz`` with out-of-range child or feature indices would make scikit-learn's tree walk
read outside its buffers (a segfault); an empty booster blob aborts xgboost. Each check here
raises :class:`~mi.exceptions.ModelLoadError` naming what is wrong instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mi.exceptions import ModelLoadError

__all__ = [
    "MAX_BLOB_BYTES",
    "MAX_FEATURES",
    "MAX_GP_ROWS",
    "check_array",
    "check_booster_blob",
    "check_common",
    "check_forest",
    "check_gp",
]

#: Largest booster blob accepted (bytes).
MAX_BLOB_BYTES = 2_000_000_000
#: Most input features a saved model may declare.
MAX_FEATURES = 1_000_000
#: Most training rows of a saved Gaussian process (refitting it is cubic in this).
MAX_GP_ROWS = 50_000


def _int(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ModelLoadError(f"{what} must be an integer, got {value!r}.")
    if not low <= int(value) <= high:
        raise ModelLoadError(f"{what} = {value} is outside [{low}, {high}].")
    return int(value)


def check_array(
    arr: Any, what: str, ndim: int, kind: str = "fiu", finite: bool = False
) -> np.ndarray:
    """Check an array's type, number of dimensions, dtype kind and (optionally) finiteness."""
    if not isinstance(arr, np.ndarray):
        raise ModelLoadError(f"{what} is not an array.")
    if arr.ndim != ndim:
        raise ModelLoadError(f"{what} has {arr.ndim} dimensions, expected {ndim}.")
    if arr.dtype.kind not in kind:
        raise ModelLoadError(f"{what} has dtype {arr.dtype}, expected one of kinds {kind!r}.")
    if finite and arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ModelLoadError(f"{what} holds NaN or infinite values.")
    return arr


def check_common(fitted: dict[str, Any]) -> int:
    """Check ``n_features_in_`` and ``feature_names_in_``; return the number of features."""
    n = _int(fitted.get("n_features_in_"), "n_features_in_", 1, MAX_FEATURES)
    names = fitted.get("feature_names_in_")
    if names is not None and (not isinstance(names, list) or len(names) != n):
        raise ModelLoadError(f"feature_names_in_ must list {n} names.")
    return n


def check_booster_blob(data: bytes, name: str) -> bytes:
    """Refuse an empty, oversized or non-UBJSON booster before xgboost parses it."""
    if len(data) == 0:
        raise ModelLoadError(f"booster {name!r} is empty.")
    if len(data) > MAX_BLOB_BYTES:
        raise ModelLoadError(f"booster {name!r} is {len(data):,} bytes, over {MAX_BLOB_BYTES:,}.")
    if data[:1] != b"{":
        raise ModelLoadError(f"booster {name!r} is not an xgboost UBJSON model.")
    return data


def check_forest(
    nodes: dict[str, np.ndarray],
    values: np.ndarray,
    counts: Sequence[Any],
    depths: Sequence[Any],
    max_features: Sequence[Any],
    n_features: int,
) -> None:
    """Check a random forest's concatenated node tables tree by tree.

    Every child index must point forward inside its own tree (or be ``-1`` for both children
    of a leaf), every split feature must be a column of the input, thresholds finite, values
    shaped ``(n_nodes, 1, 1)`` and finite.
    """
    check_array(values, "tree values", 3, "f", finite=True)
    total = values.shape[0]
    if values.shape[1:] != (1, 1):
        raise ModelLoadError(f"tree values have shape {values.shape}, expected (n_nodes, 1, 1).")
    if not (len(counts) == len(depths) == len(max_features)) or len(counts) == 0:
        raise ModelLoadError("node_counts, max_depths and max_features_ must be equally long, >0.")
    kinds = {"left_child": "i", "right_child": "i", "feature": "i", "threshold": "f"}
    for field, kind in kinds.items():
        arr = check_array(nodes.get(field), f"tree field {field!r}", 1, kind)
        if arr.shape[0] != total:
            raise ModelLoadError(f"tree field {field!r} has {arr.shape[0]} rows, not {total}.")
    for field, arr in nodes.items():
        check_array(arr, f"tree field {field!r}", 1, "fiub")
        if arr.shape[0] != total:
            raise ModelLoadError(f"tree field {field!r} has {arr.shape[0]} rows, not {total}.")
    start = 0
    for t, (count, depth, mf) in enumerate(zip(counts, depths, max_features, strict=True)):
        c = _int(count, f"tree {t} node_count", 1, total - start)
        _int(depth, f"tree {t} max_depth", 0, c)
        _int(mf, f"tree {t} max_features_", 1, n_features)
        own = np.arange(c)
        left = nodes["left_child"][start : start + c].astype(np.int64)
        right = nodes["right_child"][start : start + c].astype(np.int64)
        leaf = (left == -1) & (right == -1)
        inner = ~leaf
        ok = (left > own) & (left < c) & (right > own) & (right < c)
        if not np.all(ok[inner]):
            bad = int(np.flatnonzero(inner & ~ok)[0])
            raise ModelLoadError(
                f"tree {t} node {bad} has children ({left[bad]}, {right[bad]}) outside the tree "
                f"of {c} nodes."
            )
        feature = nodes["feature"][start : start + c].astype(np.int64)
        if np.any(inner & ((feature < 0) | (feature >= n_features))):
            bad = int(np.flatnonzero(inner & ((feature < 0) | (feature >= n_features)))[0])
            raise ModelLoadError(f"tree {t} node {bad} splits on feature {feature[bad]}.")
        threshold = nodes["threshold"][start : start + c]
        if not np.all(np.isfinite(threshold[inner])):
            raise ModelLoadError(f"tree {t} has a non-finite split threshold.")
        start += c
    if start != total:
        raise ModelLoadError(f"node_counts sum to {start}, but the arrays hold {total} nodes.")


def check_gp(
    x_train: np.ndarray,
    y_train: np.ndarray,
    mean: np.ndarray,
    scale: np.ndarray,
    n_features: int,
) -> None:
    """Check a Gaussian process's training data and scaler."""
    check_array(x_train, "X_train", 2, "f", finite=True)
    check_array(y_train, "y_train", 1, "f", finite=True)
    if x_train.shape[1] != n_features or x_train.shape[0] != y_train.shape[0]:
        raise ModelLoadError(
            f"X_train {x_train.shape} and y_train {y_train.shape} do not match {n_features} "
            "features."
        )
    if not 1 <= x_train.shape[0] <= MAX_GP_ROWS:
        raise ModelLoadError(f"X_train has {x_train.shape[0]} rows (1 to {MAX_GP_ROWS:,}).")
    for arr, what in ((mean, "scaler_mean"), (scale, "scaler_scale")):
        check_array(arr, what, 1, "f", finite=True)
        if arr.shape[0] != n_features:
            raise ModelLoadError(f"{what} has {arr.shape[0]} values, not {n_features}.")
    if np.any(scale <= 0):
        raise ModelLoadError("scaler_scale must be > 0.")
