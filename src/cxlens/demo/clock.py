"""The demo's fixed calendar, random streams and vectorised time formatting.

Times are int64 seconds since the Unix epoch (UTC); `NO_TIME` (-1) marks an empty value.
"""

from __future__ import annotations

import zlib
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo.types import I64

#: The demo company's history ends on this day (inclusive); nothing depends on today's date.
REFERENCE_DATE = date(2026, 6, 30)
START_DATE = date(2023, 7, 1)
DAY = 86_400
WEEK = 7 * DAY
NO_TIME = -1


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


START = _epoch(START_DATE)
#: first second after the reference date
END = _epoch(REFERENCE_DATE) + DAY
MONTHS = (REFERENCE_DATE.year - START_DATE.year) * 12 + REFERENCE_DATE.month - START_DATE.month + 1
#: start of month m (m = 0 .. MONTHS), month 0 being START_DATE's month
MONTH_START: I64 = np.array(
    [
        _epoch(
            date(
                START_DATE.year + (START_DATE.month - 1 + m) // 12,
                (START_DATE.month - 1 + m) % 12 + 1,
                1,
            )
        )
        for m in range(MONTHS + 1)
    ],
    dtype=np.int64,
)
#: Monday on or before START_DATE; usage is reported per week from here
WEEK0 = START - ((START_DATE.weekday()) * DAY)
WEEKS = (END - WEEK0 + WEEK - 1) // WEEK


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """An independent random stream per purpose, so one generator's draws never shift another's."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def month_of(ts: I64) -> I64:
    return (np.searchsorted(MONTH_START, ts, side="right") - 1).astype(np.int64)


def office_seconds(rng: np.random.Generator, n: int) -> I64:
    """Seconds into a UTC day, concentrated on office hours of Europe and the Americas."""
    hours = np.clip(rng.normal(15.5, 3.2, n), 6.0, 23.9)
    return (hours * 3600).astype(np.int64)


def day_floor(ts: I64) -> I64:
    return ts - ts % DAY


def _timestamps(ts: I64) -> pa.Array:
    return pa.array(ts, type=pa.int64(), mask=ts < 0).cast(pa.timestamp("s"))


SALESFORCE = "%Y-%m-%dT%H:%M:%S.000+0000"
HUBSPOT = "%Y-%m-%d %H:%M"
ZENDESK = "%Y-%m-%dT%H:%M:%SZ"
STRIPE = "%Y-%m-%d %H:%M:%S"
ISO_DATE = "%Y-%m-%d"
ISO_Z = "%Y-%m-%dT%H:%M:%SZ"
ISO_OFFSET = "%Y-%m-%dT%H:%M:%S+00:00"
YEAR = "%Y"
#: patterns built from the ISO text of a cast ("2023-01-05 10:22:11"): slice end, separator,
#: suffix; much faster than strftime
_FAST = {
    STRIPE: (19, None, ""),
    HUBSPOT: (16, None, ""),
    ISO_DATE: (10, None, ""),
    YEAR: (4, None, ""),
    SALESFORCE: (19, "T", ".000+0000"),
    ZENDESK: (19, "T", "Z"),
    ISO_OFFSET: (19, "T", "+00:00"),
}


def fmt(ts: I64, pattern: str) -> pa.Array:
    """Format times with a strftime pattern; `NO_TIME` becomes an empty value."""
    stamps = _timestamps(np.asarray(ts, dtype=np.int64))
    if pattern not in _FAST:
        return pc.strftime(stamps, format=pattern)
    end, sep, suffix = _FAST[pattern]
    text = stamps.cast(pa.string())
    if sep is not None:
        text = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(text, 0, 10), pc.utf8_slice_codeunits(text, 11, 19), sep
        )
    elif end < 19:
        text = pc.utf8_slice_codeunits(text, 0, end)
    if suffix:
        text = pc.binary_join_element_wise(text, suffix, "")
    return text


def _us_eastern_dst_bounds() -> I64:
    bounds: list[int] = []
    for year in range(START_DATE.year - 1, REFERENCE_DATE.year + 2):
        march = date(year, 3, 1)
        nov = date(year, 11, 1)
        start = date(year, 3, 1 + (6 - march.weekday()) % 7 + 7)
        end = date(year, 11, 1 + (6 - nov.weekday()) % 7)
        bounds += [_epoch(start) + 7 * 3600, _epoch(end) + 6 * 3600]
    return np.array(bounds, dtype=np.int64)


_DST = _us_eastern_dst_bounds()


def fmt_us_eastern(ts: I64) -> pa.Array:
    """Shopify's export format: local time of a store in New York with its UTC offset."""
    ts = np.asarray(ts, dtype=np.int64)
    dst = np.searchsorted(_DST, ts, side="right") % 2 == 1
    local = ts + np.where(dst, -4 * 3600, -5 * 3600)
    local[ts < 0] = NO_TIME
    offset = pa.array([" -0500", " -0400"]).take(pa.array(dst.astype(np.int64)))
    return pc.binary_join_element_wise(fmt(local, STRIPE), offset, "")


def to_date32(ts: I64) -> pa.Array:
    days = np.asarray(ts, dtype=np.int64) // DAY
    return pa.array(days.astype(np.int32), mask=np.asarray(ts) < 0).cast(pa.date32())
