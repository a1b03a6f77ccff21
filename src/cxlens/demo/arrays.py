"""Arrow column builders that avoid per-row Python objects."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo.types import I64


def labels(options: Sequence[str], index: I64) -> pa.Array:
    """`options[index]` for every row."""
    return pa.array(list(options), type=pa.string()).take(
        pa.array(np.asarray(index, dtype=np.int64))
    )


def constant(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


def money(cents: I64) -> pa.Array:
    """Amounts in cents as decimals with two places (written as 12.50, not 12.5)."""
    return pc.round(pa.array(np.asarray(cents) / 100.0), 2).cast(pa.decimal128(18, 2))
