"""A bounds-checked UBJSON reader for xgboost model blobs, and the checks run on its result.

xgboost's own UBJSON parser trusts the lengths inside the blob: a truncated or crafted file
makes it read past the buffer (a segfault measured by the fuzz suite). :func:`check_booster`
decodes the blob in Python first (every length checked against the bytes that are there,
nesting bounded), then checks every tree's node tables (children inside the tree and after
their parent, split features inside the model's features, equal array lengths), so xgboost
only ever parses a blob whose structure has been verified.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mi.exceptions import ModelLoadError

__all__ = ["check_booster", "decode_ubjson"]

_INTS = {b"i": ">i1", b"U": ">u1", b"I": ">i2", b"l": ">i4", b"L": ">i8"}
_FLOATS = {b"d": ">f4", b"D": ">f8"}
_MAX_DEPTH = 64


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ModelLoadError(
                f"booster blob is truncated or corrupt (needs {n} bytes at offset {self.pos}, "
                f"{len(self.data) - self.pos} left)."
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def marker(self) -> bytes:
        return self.take(1)

    def number(self, m: bytes) -> Any:
        if m in _INTS:
            dt = np.dtype(_INTS[m])
            return int(np.frombuffer(self.take(dt.itemsize), dtype=dt)[0])
        if m in _FLOATS:
            dt = np.dtype(_FLOATS[m])
            return float(np.frombuffer(self.take(dt.itemsize), dtype=dt)[0])
        raise ModelLoadError(f"booster blob has an unknown UBJSON marker {m!r} at {self.pos - 1}.")

    def length(self) -> int:
        n = self.number(self.marker())
        if not isinstance(n, int) or n < 0:
            raise ModelLoadError(f"booster blob has an invalid length {n!r} at {self.pos}.")
        return n

    def value(self, m: bytes, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise ModelLoadError("booster blob is nested too deeply.")
        if m == b"{":
            return self.obj(depth + 1)
        if m == b"[":
            return self.array(depth + 1)
        if m == b"Z":
            return None
        if m == b"T":
            return True
        if m == b"F":
            return False
        if m == b"C":
            return self.take(1).decode("latin-1")
        if m in (b"S", b"H"):
            return self.take(self.length()).decode("utf-8", "replace")
        return self.number(m)

    def obj(self, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while True:
            m = self.marker()
            if m == b"}":
                return out
            if m == b"N":
                continue
            self.pos -= 1
            key = self.take(self.length()).decode("utf-8", "replace")
            out[key] = self.value(self.marker(), depth)

    def array(self, depth: int) -> Any:
        m = self.marker()
        if m == b"$":
            kind = self.marker()
            if self.marker() != b"#":
                raise ModelLoadError("booster blob has a typed array without a count.")
            count = self.length()
            if kind in _INTS or kind in _FLOATS:
                dt = np.dtype(_INTS.get(kind) or _FLOATS[kind])
                return np.frombuffer(self.take(count * dt.itemsize), dtype=dt).astype(
                    dt.newbyteorder("=")
                )
            if count > len(self.data):
                raise ModelLoadError("booster blob has an array longer than the blob.")
            return [self.value(kind, depth) for _ in range(count)]
        if m == b"#":
            count = self.length()
            if count > len(self.data) - self.pos:
                raise ModelLoadError("booster blob has an array longer than the blob.")
            return [self.value(self.marker(), depth) for _ in range(count)]
        items = []
        while m != b"]":
            if m != b"N":
                items.append(self.value(m, depth))
            m = self.marker()
        return items


def decode_ubjson(data: bytes) -> Any:
    """Decode UBJSON bytes into Python objects (typed numeric arrays as numpy arrays).

    Raises
    ------
    ModelLoadError
        Truncated, corrupt or trailing data.
    """
    r = _Reader(bytes(data))
    value = r.value(r.marker(), 0)
    if r.pos != len(r.data):
        raise ModelLoadError(f"booster blob has {len(r.data) - r.pos} bytes after its end.")
    return value


def _as_ints(value: Any, what: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ModelLoadError(f"booster {what} is not a list of integers.")
    return arr.astype(np.int64)


def check_booster(data: bytes, name: str, n_features: int) -> None:
    """Decode a booster blob and check its trees before xgboost parses it.

    Parameters
    ----------
    data : bytes
        The UBJSON blob.
    name : str
        Its file name (quoted in errors).
    n_features : int
        Features the model was fitted on.

    Raises
    ------
    ModelLoadError
        Anything inconsistent.
    """
    try:
        doc = decode_ubjson(data)
        learner = doc["learner"]
        model = learner["gradient_booster"]["model"]
        trees = model["trees"]
        num_feature = int(str(learner["learner_model_param"]["num_feature"]))
        num_trees = int(str(model["gbtree_model_param"]["num_trees"]))
    except ModelLoadError as exc:
        raise ModelLoadError(f"booster {name!r}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelLoadError(f"booster {name!r} lacks a field xgboost needs ({exc!r}).") from None
    if not isinstance(trees, list):
        raise ModelLoadError(f"booster {name!r}: 'trees' is not a list.")
    if num_feature != n_features or num_trees != len(trees):
        raise ModelLoadError(
            f"booster {name!r} declares {num_feature} features / {num_trees} trees; the model "
            f"has {n_features} features and the blob {len(trees)} trees."
        )
    if len(model.get("tree_info", [])) != len(trees):
        raise ModelLoadError(f"booster {name!r}: tree_info does not list every tree.")
    for t, tree in enumerate(trees):
        try:
            n = int(str(tree["tree_param"]["num_nodes"]))
            left = _as_ints(tree["left_children"], "left_children")
            right = _as_ints(tree["right_children"], "right_children")
            feature = _as_ints(tree["split_indices"], "split_indices")
            parents = _as_ints(tree["parents"], "parents")
            split_type = _as_ints(tree["split_type"], "split_type")
            default_left = _as_ints(tree["default_left"], "default_left")
            lengths = {
                k: len(tree[k])
                for k in ("parents", "split_conditions", "default_left", "base_weights",
                          "loss_changes", "sum_hessian", "split_type")
            }  # fmt: skip
            cats = [len(tree[k]) for k in ("categories", "categories_nodes")]
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelLoadError(f"booster {name!r} tree {t} is incomplete ({exc!r}).") from None
        if (
            n < 1
            or any(len(a) != n for a in (left, right, feature))
            or any(v != n for v in lengths.values())
        ):
            raise ModelLoadError(f"booster {name!r} tree {t}: node arrays do not have {n} rows.")
        if any(cats):
            raise ModelLoadError(
                f"booster {name!r} tree {t}: categorical splits are not used by mi."
            )
        own = np.arange(n)
        leaf = (left == -1) & (right == -1)
        ok = leaf | ((left > own) & (left < n) & (right > own) & (right < n))
        if not ok.all():
            raise ModelLoadError(f"booster {name!r} tree {t}: child index outside the tree.")
        # every node but the root hangs under an earlier node that names it as a child
        root_ok = parents[0] == 2147483647
        p = parents[1:]
        inside = (p >= 0) & (p < own[1:])
        pc = np.clip(p, 0, n - 1)
        linked = inside & ((left[pc] == own[1:]) | (right[pc] == own[1:]))
        if not (root_ok and linked.all()):
            raise ModelLoadError(f"booster {name!r} tree {t}: parent links are inconsistent.")
        if np.any(split_type != 0) or np.any((default_left != 0) & (default_left != 1)):
            raise ModelLoadError(f"booster {name!r} tree {t}: unknown split type or direction.")
        if np.any(~leaf & ((feature < 0) | (feature >= n_features))):
            raise ModelLoadError(f"booster {name!r} tree {t}: split on a feature the model lacks.")
