"""`Workspace.story`: find a customer, show everything known about them, tell their journey.

`resolve` turns what a user has (a master id, an id since merged away, a source record id)
into the current master; `customer360` assembles the page; `timeline` pages through their
events; `story` tells the journey with every sentence citing its events, optionally
rephrased by a configured language model; `search` finds customers and accounts by name,
email, domain or id.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from cxlens.config import StorySettings
from cxlens.errors import UnknownMaster
from cxlens.identity.explain import find_master
from cxlens.identity.service import Identity
from cxlens.metrics.service import Value
from cxlens.schema.records import Entity
from cxlens.store import Store
from cxlens.story import customer360 as page360
from cxlens.story import timeline as tl
from cxlens.story.customer360 import Customer360
from cxlens.story.narrative import SECTIONS, Facts, Sentence, tell
from cxlens.story.rephrase import Rephraser

_HOW_TO_FIND = (
    "find ids with `cxlens.Workspace(...).story.search('<name, email or domain>')`, or list "
    "them from the customers and accounts tables"
)


@dataclass
class StoryResult:
    sentences: list[Sentence]
    #: Every cited event, in order of first citation (marker [n] is the n-th), with a summary.
    citations: dict[str, dict[str, Any]]
    kind: str = ""
    master_id: str = ""
    #: Whether a language model rephrased it (sentences that lost a citation were kept as told).
    rephrased: bool = False
    sections: tuple[str, ...] = field(default=SECTIONS)

    def numbers(self) -> dict[str, int]:
        return {event_id: n for n, event_id in enumerate(self.citations, start=1)}

    def text(self, *, markers: bool = True) -> str:
        """The story as paragraphs, one per section, with [n] citation markers."""
        numbers = self.numbers()
        paragraphs = []
        for section in self.sections:
            told = [s for s in self.sentences if s.section == section]
            if told:
                parts = [_compact(s, numbers) if markers else s.text for s in told]
                paragraphs.append(" ".join(parts))
        return "\n\n".join(paragraphs)

    def to_dict(self) -> dict[str, Any]:
        numbers = self.numbers()
        return {
            "kind": self.kind,
            "master_id": self.master_id,
            "rephrased": self.rephrased,
            "sentences": [
                {
                    "text": s.text,
                    "section": s.section,
                    "event_ids": list(s.event_ids),
                    "markers": [numbers[i] for i in s.event_ids],
                }
                for s in self.sentences
            ],
            "citations": self.citations,
        }


class Story:
    def __init__(
        self, store: Store, settings: StorySettings, value: Value, identity: Identity
    ) -> None:
        self.store = store
        self.settings = settings
        self.value = value
        self.identity = identity

    # ---- finding the customer ---------------------------------------------------------------
    def resolve(self, customer: str) -> tuple[tl.Kind, str]:
        """("account" or "person", current master id) of a master id, an id since merged into
        another master, or a source record id."""
        wanted = customer.strip()
        try:
            current, entity = find_master(self.store, wanted)
        except UnknownMaster:
            rows = self.store.rows(
                "SELECT master_id, entity FROM record_links WHERE record_id = ?", [wanted]
            )
            if not rows:
                raise UnknownMaster(
                    f"no customer or account {customer!r}; {_HOW_TO_FIND}"
                ) from None
            current, entity = str(rows[0]["master_id"]), Entity(rows[0]["entity"])
        return ("account" if entity is Entity.ACCOUNT else "person"), current

    def search(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """Customers and accounts whose name, email, domain or id contains `text` (any case):
        exact matches first, then those starting with it, then the rest, accounts first."""
        needle = text.strip().lower()
        if not needle:
            return []
        found = [
            *self._matches("account", needle, limit),
            *self._matches("person", needle, limit),
        ]
        # A source record id or an id since merged away names its master exactly.
        try:
            kind, master = self.resolve(text)
        except UnknownMaster:
            pass
        else:
            if all(row["id"] != master for row in found):
                exact = self._matches(kind, master.lower(), 1)
                found.extend({**row, "rank": 0, "matched": "record"} for row in exact)
        order = {"account": 0, "person": 1}
        found.sort(key=lambda r: (r["rank"], order[r["kind"]], (r["name"] or "").lower(), r["id"]))
        return found[: max(int(limit), 0)]

    def _matches(self, kind: tl.Kind, needle: str, limit: int) -> list[dict[str, Any]]:
        if kind == "account":
            fields = ["a.account_id", "a.name", "a.domain"]
            select = (
                "SELECT 'account' AS kind, a.account_id AS id, a.name, NULL AS email, a.domain, "
                "a.account_id, a.name AS account_name, a.segment, a.owner"
            )
            source = " FROM accounts AS a"
        else:
            fields = ["c.customer_id", "c.name", "c.email"]
            select = (
                "SELECT 'person' AS kind, c.customer_id AS id, c.name, c.email, "
                "NULL AS domain, c.account_id, a.name AS account_name, a.segment, a.owner"
            )
            source = " FROM customers AS c LEFT JOIN accounts AS a ON a.account_id = c.account_id"
        lowered = [f"lower(coalesce({f}, ''))" for f in fields]
        exact = " OR ".join(f"{f} = ?" for f in lowered)
        prefix = " OR ".join(f"strpos({f}, ?) = 1" for f in lowered)
        contains = " OR ".join(f"strpos({f}, ?) > 0" for f in lowered)
        rank = f"CASE WHEN {exact} THEN 0 WHEN {prefix} THEN 1 ELSE 2 END"
        rows = self.store.rows(
            f"SELECT * FROM ({select}, {rank} AS rank{source} WHERE {contains}) AS m "
            f"ORDER BY rank, lower(name) NULLS LAST, id LIMIT {max(int(limit), 0)}",
            [needle] * (len(fields) * 3),
        )
        for row in rows:
            keys = ("id", "name", "email" if kind == "person" else "domain")
            row["matched"] = next(
                (k for k in keys if needle in str(row.get(k) or "").lower()), "name"
            )
        return rows

    # ---- the page, the timeline and the story -------------------------------------------------
    def customer360(self, customer: str) -> Customer360:
        kind, master = self.resolve(customer)
        return page360.build(self.store, self.value, self.identity, kind, master, customer)

    def timeline(
        self,
        customer: str,
        *,
        departments: list[str] | None = None,
        kinds: list[str] | None = None,
        since: tl.TimeLike | None = None,
        until: tl.TimeLike | None = None,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = True,
    ) -> list[dict[str, Any]]:
        """The customer's events (`since` inclusive, `until` exclusive), one page of them, each
        with its master ids and a one-line summary."""
        kind, master = self.resolve(customer)
        rows = tl.events(
            self.store, kind, master, departments=departments, kinds=kinds, since=since,
            until=until, limit=limit, offset=offset, newest_first=newest_first,
        )  # fmt: skip
        return tl.public(rows)

    def story(
        self, customer: str, *, rephrase: bool = True, page: Customer360 | None = None
    ) -> StoryResult:
        """The customer's journey; rephrased by the configured model when `rephrase` is on.
        `page`: the customer's 360 when the caller has it already (a page shows both)."""
        kind, master = self.resolve(customer)
        if page is None or page.master_id != master:
            page = page360.build(self.store, self.value, self.identity, kind, master, customer)
        facts = self._facts(page)
        sentences = tell(facts)
        known = facts.known
        citations: dict[str, dict[str, Any]] = {}
        for sentence in sentences:
            for event_id in sentence.event_ids:
                if event_id not in citations:
                    citations[event_id] = _citation(known[event_id])
        result = StoryResult(sentences, citations, kind=kind, master_id=master)
        settings = self.settings
        if rephrase and settings.llm_base_url and settings.llm_model:
            model = Rephraser(
                settings.llm_base_url, settings.llm_model, settings.llm_api_key,
                settings.timeout_seconds,
            )  # fmt: skip
            result.sentences, result.rephrased = model.rephrase(sentences, result.numbers())
        return result

    def _facts(self, page: Customer360) -> Facts:
        kind, master = page.kind, page.master_id
        as_of = tl.as_time(page.risk["as_of"]) if page.risk else None
        # One read of the customer's events; every selection below is made from it.
        everything = tl.events(self.store, kind, master)
        events = [e for e in everything if e["kind"] != "usage"]
        usage = []
        for action in ("active_users", "session"):
            readings = [
                e for e in everything
                if e["kind"] == "usage" and e["action"] == action
                and (as_of is None or tl.occurred(e) < as_of)
            ]  # fmt: skip
            usage.extend(readings[-3:])
        usage.sort(key=lambda e: (tl.occurred(e), str(e["event_id"])))
        fired = {str(a["event_id"]) for a in [*page.alerts, *page.tasks]}
        voice = page.voice or {}
        return Facts(
            page=page,
            events=events,
            first=everything[0] if everything else None,
            usage=usage,
            sentiments=voice["sentiment_by_event"]
            if "sentiment_by_event" in voice
            else self._sentiments(kind, master),
            big_order=self._big_order(),
            triggers=[e for e in everything if str(e["event_id"]) in fired],
        )

    def _sentiments(self, kind: tl.Kind, master: str) -> dict[str, str]:
        run = self.store.scalar(
            "SELECT run_id FROM voc_runs ORDER BY ran_at DESC, run_id DESC LIMIT 1"
        )
        if run is None:
            return {}
        found = tl.scope(self.store, kind, master)
        rows = self.store.rows(
            f"SELECT t.event_id, t.sentiment FROM voc_texts AS t JOIN {found.events} AS e "
            "ON e.event_id = t.event_id WHERE t.run_id = ? AND t.sentiment IS NOT NULL",
            [*found.events_params, run],
        )
        return {str(r["event_id"]): str(r["sentiment"]) for r in rows if r["sentiment"]}

    def _big_order(self) -> float | None:
        """The top decile of all placed orders: what counts as a large order here. Read from
        every order, so kept for a minute: it barely moves from one story to the next."""
        kept = _BIG_ORDER.get(self.store)
        if kept is not None and time.monotonic() - kept[0] < 60.0:
            return kept[1]
        found = self.store.scalar(
            "SELECT CASE WHEN count(*) >= 10 THEN percentile_cont(0.9) WITHIN GROUP "
            "(ORDER BY amount) END FROM events "
            "WHERE kind = 'order' AND action = 'placed' AND amount IS NOT NULL"
        )
        value = float(found) if found is not None else None
        _BIG_ORDER[self.store] = (time.monotonic(), value)
        return value


_BIG_ORDER: weakref.WeakKeyDictionary[Store, tuple[float, float | None]] = (
    weakref.WeakKeyDictionary()
)


def _compact(sentence: Sentence, numbers: dict[str, int]) -> str:
    """The sentence with its markers, runs of three or more shown as a range: [6]–[57]."""
    cited = sorted({numbers[i] for i in sentence.event_ids})
    runs: list[list[int]] = []
    for n in cited:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    shown = "".join(
        f"[{run[0]}]–[{run[-1]}]" if len(run) >= 3 else "".join(f"[{n}]" for n in run)
        for run in runs
    )
    return f"{sentence.text} {shown}"


def _citation(event: dict[str, Any]) -> dict[str, Any]:
    keys = ("event_id", "occurred_at", "kind", "action", "department", "source", "text")
    cited: dict[str, Any] = tl.plain({k: event.get(k) for k in keys})
    cited.update(
        customer_id=event.get("customer_id"),
        account_id=event.get("account_id"),
        summary=tl.summary(event),
    )
    return cited
