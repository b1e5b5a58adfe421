"""Vectorised parser for simple formulas (``[A-Z][a-z]?`` symbols + plain decimal amounts).

Works on the bytes of many formulas at once with numpy. It accepts a formula only when every
character is a letter, a digit or a dot, each token is an element symbol with an optional amount
of at most 15 digits and one dot, no element repeats, and every amount is at least
:data:`~mi.chem.parse.AMOUNT_TOLERANCE`. Anything else (parentheses, spaces, errors) is left to
the exact pymatgen-grammar parser, which also writes the error messages.

Amounts are exact: a decimal ``d1...dk`` with ``j`` digits after the dot is
``mantissa / 10**j`` with an exact integer mantissa (< 2**53) and an exact power of ten, and an
IEEE division of two exact values is correctly rounded, as is Python's ``float(str)``.
"""

from __future__ import annotations

import numpy as np

from mi.chem.elements import _INDEX

__all__ = ["vector_parse"]

_MAX_DIGITS = 15
_TOLERANCE = 1e-8

# symbol lookup: [first letter A-Z][second letter: 0 = none, 1..26 = a-z] -> column or -1
_LUT = np.full((26, 27), -1, dtype=np.int32)
for _sym, _idx in _INDEX.items():
    if len(_sym) <= 2:
        _LUT[ord(_sym[0]) - 65, 0 if len(_sym) == 1 else ord(_sym[1]) - 96] = _idx
_POW10 = 10.0 ** np.arange(23)
_CLASS = np.zeros(256, dtype=np.uint8)
_CLASS[65:91] = 1
_CLASS[97:123] = 2
_CLASS[48:58] = 3
_CLASS[46] = 4


def vector_parse(
    strings: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse the simple formulas among ``strings``.

    Parameters
    ----------
    strings : numpy.ndarray of object
        Python strings (other objects are reported as not parsed).

    Returns
    -------
    ok : numpy.ndarray of bool
        Rows parsed here; the others need the exact parser.
    counts : numpy.ndarray of int64
        Number of elements of each row (0 where not ok).
    cols : numpy.ndarray of int32
        Element columns of the ok rows, row after row, in formula order.
    amounts : numpy.ndarray of float64
        Matching amounts.
    """
    n = len(strings)
    ok = np.zeros(n, dtype=bool)
    counts = np.zeros(n, dtype=np.int64)
    empty = (ok, counts, np.zeros(0, np.int32), np.zeros(0))
    if n == 0:
        return empty
    import pandas as pd

    if pd.api.types.infer_dtype(strings, skipna=False) == "string":
        cand = np.arange(n)
        sub = strings
    else:
        is_str = np.fromiter((type(s) is str for s in strings), dtype=bool, count=n)
        cand = np.flatnonzero(is_str)
        sub = strings[cand]
    if cand.size == 0:
        return empty
    try:
        blob = "".join(sub.tolist()).encode("ascii")
    except UnicodeEncodeError:
        ascii_ok = np.fromiter((s.isascii() for s in sub), dtype=bool, count=len(sub))
        cand, sub = cand[ascii_ok], sub[ascii_ok]
        if cand.size == 0:
            return empty
        blob = "".join(sub.tolist()).encode("ascii")
    lens = np.fromiter(map(len, sub), dtype=np.int64, count=len(sub))
    m = len(sub)
    chars = np.frombuffer(blob, dtype=np.uint8)  # all characters, row after row
    if len(chars) == 0:  # only empty strings: the exact parser reports them
        return empty
    n_chars = len(chars)
    row_start = np.zeros(n_chars, dtype=bool)
    starts_pos = np.concatenate([[0], np.cumsum(lens)[:-1]])
    row_start[starts_pos[lens > 0]] = True

    cls = _CLASS[chars]  # 0 other, 1 upper, 2 lower, 3 digit, 4 dot
    upper = cls == 1
    lower = cls == 2
    digit = cls == 3
    dot = cls == 4
    tok_start = upper | row_start
    tok = np.cumsum(tok_start, dtype=np.int32) - 1
    n_tok = int(tok[-1]) + 1 if n_chars else 0
    tok_pos = np.flatnonzero(tok_start)
    tok_per_row = np.zeros(m, dtype=np.int64)
    nonempty = lens > 0
    tok_per_row[nonempty] = np.add.reduceat(tok_start, starts_pos[nonempty], dtype=np.int64)
    tok_row = np.repeat(np.arange(m), tok_per_row)

    # bad characters: not a letter/digit/dot, a lowercase letter not right after a capital,
    # or a row not starting with a capital
    prev_upper = np.empty(n_chars, dtype=bool)
    prev_upper[0] = False
    prev_upper[1:] = upper[:-1]
    bad_char = (cls == 0) | (lower & ~prev_upper) | (row_start & ~upper)
    bad_tok = np.bincount(tok[bad_char], minlength=n_tok) > 0
    bad_row = lens == 0

    # element symbol of each token: capital + optional lowercase letter
    first = chars[tok_pos].astype(np.int64) - 65
    second = np.zeros(n_tok, dtype=np.int64)
    nxt_pos = tok_pos + 1
    has_lower = nxt_pos < n_chars
    has_lower[has_lower] = lower[nxt_pos[has_lower]] & ~row_start[nxt_pos[has_lower]]
    second[has_lower] = chars[nxt_pos[has_lower]].astype(np.int64) - 96
    first_ok = (first >= 0) & (first < 26)
    code = np.full(n_tok, -1, dtype=np.int32)
    code[first_ok] = _LUT[first[first_ok], second[first_ok]]

    # decimal amounts: mantissa from the digits, exponent from digits after the dot
    dpos = np.flatnonzero(digit)
    dtok = tok[dpos]
    n_digits = np.bincount(dtok, minlength=n_tok)
    dot_pos_all = np.flatnonzero(dot)
    dot_tok = tok[dot_pos_all]
    n_dots = np.bincount(dot_tok, minlength=n_tok)
    bad_tok |= (code < 0) | (n_dots > 1) | ((n_dots == 1) & (n_digits == 0))
    bad_tok |= n_digits > _MAX_DIGITS
    first_digit = np.concatenate([[0], np.cumsum(n_digits)[:-1]])
    rank = np.arange(len(dpos)) - first_digit[dtok]
    power = n_digits[dtok] - 1 - rank
    value = (chars[dpos].astype(np.int64) - 48) * _POW10[np.clip(power, 0, 22)]
    mantissa = np.bincount(dtok, weights=value, minlength=n_tok)
    tok_dot = np.full(n_tok, n_chars, dtype=np.int64)  # position of the token's dot
    tok_dot[dot_tok] = dot_pos_all
    after_dot = dpos > tok_dot[dtok]
    decimals = np.bincount(dtok[after_dot], minlength=n_tok)
    amount = np.where(n_digits > 0, mantissa / _POW10[np.minimum(decimals, 22)], 1.0)
    bad_tok |= amount < _TOLERANCE

    # repeated elements within a row: left to the exact parser (pymatgen sums them)
    safe_code = np.where(code >= 0, code, 0).astype(np.int64)
    bits = np.left_shift(np.int64(1), safe_code % 40)
    word = safe_code // 40
    tok_starts_per_row = tok_per_row
    row_tok_start = np.concatenate([[0], np.cumsum(tok_starts_per_row)[:-1]])
    nonempty = tok_starts_per_row > 0
    for w in range(3):
        wb = np.where(word == w, bits, 0)
        total = np.zeros(m, dtype=np.int64)
        union = np.zeros(m, dtype=np.int64)
        if n_tok:
            total[nonempty] = np.add.reduceat(wb, row_tok_start[nonempty])
            union[nonempty] = np.bitwise_or.reduceat(wb, row_tok_start[nonempty])
        bad_row |= total != union

    bad_row |= np.bincount(tok_row[bad_tok], minlength=m) > 0
    good_tok = ~bad_row[tok_row]
    good_rows = cand[~bad_row]
    ok[good_rows] = True
    counts[good_rows] = tok_starts_per_row[~bad_row]
    return ok, counts, code[good_tok], amount[good_tok]
