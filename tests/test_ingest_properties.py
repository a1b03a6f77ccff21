"""Property tests: whatever a CSV holds, parsing and mapping keep it exactly or reject it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlens.workspace import Workspace

BLANKS = " \t\n\r\x0b\x0c"  # what cxlens trims from text cells
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Text as exports hold it: any printable unicode, quotes, separators, newlines.
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
    max_size=40,
)
times = st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2199, 1, 1))
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: m - m % 15)
amounts = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)

SOURCE = {
    "path": "rows.csv",
    "events": [
        {
            "kind": "order",
            "action": {"const": "placed"},
            "id": "id",
            "time": "at",
            "record": "who",
            "fields": {"amount": "amount", "currency": {"const": "EUR"}, "text": "note"},
            "properties": {"product": "product"},
        }
    ],
}


def load(tmp_path: Path, rows: list[dict[str, str]]) -> tuple[Workspace, list[dict[str, object]]]:
    root = tmp_path / f"ws{len(list(tmp_path.iterdir()))}"
    ws = Workspace.init(root)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["id", "at", "who", "amount", "note", "product"])
    writer.writeheader()
    writer.writerows(rows)
    (root / "rows.csv").write_text(buffer.getvalue(), encoding="utf-8")
    ws.add_source("shop", SOURCE)
    ws.config.ingest.max_reject_share = 1.0
    ws.ingest()
    events = ws.store.rows("SELECT * FROM events ORDER BY event_id")
    return ws, events


@SETTINGS
@given(st.lists(st.tuples(text, text), min_size=1, max_size=20))
def test_text_survives_csv_quoting_and_json_properties(
    tmp_path: Path, values: list[tuple[str, str]]
) -> None:
    rows = [
        {
            "id": f"o{i:03d}",
            "at": "2024-01-01",
            "who": "c1",
            "amount": "1",
            "note": note,
            "product": product,
        }
        for i, (note, product) in enumerate(values)
    ]
    ws, events = load(tmp_path, rows)
    with ws:
        assert len(events) == len(rows)
        for event, (note, product) in zip(events, values, strict=True):
            assert event["text"] == (note.strip(BLANKS) or None)
            expected = {"product": product.strip(BLANKS)} if product.strip(BLANKS) else None
            assert (json.loads(event["properties"]) if event["properties"] else None) == expected


@SETTINGS
@given(st.lists(st.tuples(times, offsets, amounts), min_size=1, max_size=20))
def test_times_with_any_offset_land_in_utc_and_amounts_round_trip(
    tmp_path: Path, values: list[tuple[dt.datetime, int, float]]
) -> None:
    rows = []
    for i, (moment, offset, amount) in enumerate(values):
        zone = dt.timezone(dt.timedelta(minutes=offset))
        local = moment.replace(microsecond=0, tzinfo=dt.UTC).astimezone(zone)
        rows.append(
            {
                "id": f"o{i:03d}",
                "at": local.isoformat(),
                "who": "c1",
                "amount": repr(amount),
                "note": "",
                "product": "",
            }
        )
    ws, events = load(tmp_path, rows)
    with ws:
        assert len(events) == len(rows)
        for event, (moment, _, amount) in zip(events, values, strict=True):
            assert event["occurred_at"] == moment.replace(microsecond=0)
            assert math.isclose(event["amount"], amount, rel_tol=0, abs_tol=0)


@SETTINGS
@given(st.lists(text.filter(lambda t: t.strip(BLANKS) != ""), min_size=1, max_size=15))
def test_anything_that_is_not_a_time_or_number_is_rejected_not_guessed(
    tmp_path: Path, garbage: list[str]
) -> None:
    rows = [
        {
            "id": f"o{i:03d}",
            "at": f"x{g}",
            "who": "c1",
            "amount": f"{g}?",
            "note": "",
            "product": "",
        }
        for i, g in enumerate(garbage)
    ]
    ws, events = load(tmp_path, rows)
    with ws:
        assert events == []
        rejects = ws.rejects(limit=1000)
        fields = {(r["row_number"], r["field"]) for r in rejects}
        for row in range(1, len(rows) + 1):
            assert (row, "time (column 'at')") in fields
            assert (row, "amount (column 'amount')") in fields
