"""Identifiers that look like each system's own, built without a Python loop.

Every id embeds a bijective scramble of the row index, so ids are unique by construction and
still look random.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from cxlens.demo.types import I64

_BASE62 = np.frombuffer(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8
)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_CHECKSUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", dtype=np.uint8)
_PRIME = 2_147_483_629

Chars = npt.NDArray[np.uint8]


def _digits(values: I64, width: int, alphabet: Chars) -> Chars:
    base = len(alphabet)
    out = np.empty((len(values), width), dtype=np.uint8)
    v = values.copy()
    for pos in range(width - 1, -1, -1):
        out[:, pos] = alphabet[v % base]
        v //= base
    return out


def scrambled(n: int, width: int, salt: int, base: int = 62) -> I64:
    """A bijective map of 0..n-1 into [0, base**width): distinct rows get distinct values."""
    modulus = base**width
    if n > modulus:
        raise ValueError(f"{n} ids do not fit in {width} base-{base} digits")
    step = int(modulus * 0.6180339887) | 1
    while math.gcd(step, modulus) != 1:
        step += 2
    i = np.arange(n, dtype=np.int64)
    hi, lo = i >> 12, i & 4095
    big = (step << 12) % modulus
    offset = (salt * 104_729 + modulus // 3) % modulus
    return np.asarray((hi * big % modulus + lo * step % modulus + offset) % modulus, dtype=np.int64)


def to_strings(chars: Chars) -> pa.StringArray:
    """Rows of an (n, width) ASCII matrix as an Arrow string array."""
    n, width = chars.shape
    data = pa.py_buffer(np.ascontiguousarray(chars).tobytes())
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * width).tobytes())
    return pa.StringArray.from_buffers(n, offsets, data)


def _const(text: str, n: int) -> Chars:
    return np.tile(np.frombuffer(text.encode(), dtype=np.uint8), (n, 1))


def token_ids(prefix: str, n: int, rng: np.random.Generator, width: int, salt: int) -> pa.Array:
    """Stripe-style ids: prefix + `width` base-62 characters (`cus_`, `in_`, `sub_` ...)."""
    unique = _digits(scrambled(n, 6, salt), 6, _BASE62)
    tail = _BASE62[rng.integers(0, 62, size=(n, width - 6))]
    return to_strings(np.hstack([_const(prefix, n), unique, tail]))


def salesforce_ids(key_prefix: str, n: int, salt: int) -> pa.Array:
    """18-character Salesforce ids with a valid case-safe checksum suffix."""
    body = np.hstack([_const(key_prefix + "Hs000", n), _digits(scrambled(n, 7, salt), 7, _BASE62)])
    upper = (body >= ord("A")) & (body <= ord("Z"))
    weights = 1 << np.arange(5)
    suffix = np.stack(
        [_CHECKSUM[(upper[:, 5 * k : 5 * k + 5] * weights).sum(axis=1)] for k in range(3)], axis=1
    )
    return to_strings(np.hstack([body, suffix]))


def uuids(rng: np.random.Generator, n: int) -> pa.Array:
    """Random version-4-shaped UUID strings."""
    hexes = _HEX[rng.integers(0, 16, size=(n, 32))]
    hexes[:, 12] = ord("4")
    dash = np.full((n, 1), ord("-"), dtype=np.uint8)
    parts = [
        hexes[:, :8],
        dash,
        hexes[:, 8:12],
        dash,
        hexes[:, 12:16],
        dash,
        hexes[:, 16:20],
        dash,
        hexes[:, 20:],
    ]
    return to_strings(np.hstack(parts))


def hex_tokens(rng: np.random.Generator, n: int, width: int, salt: int) -> pa.Array:
    """Upper-case hex tokens, unique per row (Stripe invoice-number prefixes)."""
    unique = _digits(scrambled(n, 6, salt, base=16), 6, _HEX)
    chars = np.hstack([unique, _HEX[rng.integers(0, 16, size=(n, width - 6))]])
    return to_strings(np.where(chars >= ord("a"), chars - 32, chars).astype(np.uint8))


def increasing(rng: np.random.Generator, n: int, start: int, step: tuple[int, int]) -> I64:
    """Strictly increasing integers (ticket numbers, order ids) with random gaps."""
    return start + np.cumsum(rng.integers(step[0], step[1] + 1, size=n, dtype=np.int64))
