"""Public voice: social-listening mentions and the customer community (posts, ideas, votes)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import lexicon as lx
from cxlens.demo import noise
from cxlens.demo import texts as tx
from cxlens.demo.arrays import labels
from cxlens.demo.clock import DAY, END, ISO_Z, START, fmt
from cxlens.demo.company import CUSTOMER, Accounts, People
from cxlens.demo.ids import increasing
from cxlens.demo.truth import Truth
from cxlens.demo.types import I64
from cxlens.demo.voice import idea_preferences

_SOCIAL_THEMES = (
    (tx.PRAISE, tx.POS, 0.33),
    (tx.PERFORMANCE, tx.NEG, 0.12),
    (tx.BUGS, tx.NEG, 0.15),
    (tx.SUPPORT_SPEED, tx.NEG, 0.08),
    (tx.SUPPORT_SPEED, tx.POS, 0.04),
    (tx.BILLING, tx.NEG, 0.1),
    (tx.MISSING_FEATURE, tx.NEG, 0.06),
    (tx.MISSING_FEATURE, tx.NEU, 0.04),
    (tx.ONBOARDING, tx.POS, 0.04),
    (tx.ONBOARDING, tx.NEG, 0.04),
)
_POST_THEMES = (
    (tx.BUGS, tx.NEG, 0.25),
    (tx.PERFORMANCE, tx.NEG, 0.15),
    (tx.ONBOARDING, tx.NEU, 0.2),
    (tx.PRAISE, tx.POS, 0.15),
    (tx.SUPPORT_SPEED, tx.NEG, 0.05),
    (tx.BILLING, tx.NEU, 0.05),
    (tx.MISSING_FEATURE, tx.NEU, 0.15),
)
_IDEA_TITLES = ("{Idea}", "Please add {idea}", "Request: {idea}")
IDEA_STATUSES = ("new", "under review", "planned", "in progress", "shipped", "declined")
_POST_TAILS = (
    " Anyone found a workaround?",
    " Is it just us?",
    " Any tips appreciated.",
    "",
    " Thanks in advance.",
)


def _choose(
    rng: np.random.Generator, table: tuple[tuple[int, int, float], ...], n: int
) -> tuple[I64, I64]:
    cdf = np.cumsum([w for _, _, w in table])
    pick = np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(n)), len(table) - 1)
    return (
        np.array([t for t, _, _ in table])[pick].astype(np.int64),
        np.array([p for _, p, _ in table])[pick].astype(np.int64),
    )


def _segment_of(acc: Accounts, people: People, person: I64) -> I64:
    a = people.account[person]
    return np.where(a >= 0, acc.segment[np.maximum(a, 0)], 2).astype(np.int64)


def social(rng: np.random.Generator, acc: Accounts, people: People, truth: Truth) -> pa.Table:
    kind = np.where(people.account >= 0, acc.kind[np.maximum(people.account, 0)], -1)
    on_social = ((kind == CUSTOMER) & (rng.random(people.n) < 0.08)) | (kind == -1)
    authors = np.nonzero(on_social)[0].astype(np.int64)
    k = rng.poisson(np.where(kind[authors] == CUSTOMER, 1.5, 1.0))
    who = np.repeat(authors, k)
    n = len(who)
    lo = np.maximum(people.created[who], START)
    when = lo + (rng.random(n) * (END - lo)).astype(np.int64)
    theme, pol = _choose(rng, _SOCIAL_THEMES, n)
    idea = np.where(theme == tx.MISSING_FEATURE, _ideas(rng, _segment_of(acc, people, who)), -1)
    text, named = tx.draw(rng, tx.SOCIAL, theme, pol, idea)
    order = np.argsort(when, kind="stable")
    who, when, theme, pol, named = who[order], when[order], theme[order], pol[order], named[order]
    text = text.take(pa.array(order))
    ids = increasing(rng, n, 1_676_000_000_000_000_000, (10**11, 10**13))
    users, inverse = np.unique(who, return_inverse=True)
    # each author posts from one platform account, as the listening tool keys them
    home = rng.choice(len(lx.SOCIAL_PLATFORMS), size=len(users), p=lx.SOCIAL_PLATFORM_SHARE)
    platform = home[inverse]
    first, last = noise.vary_names(
        rng,
        [people.first[i] for i in users],
        [people.last[i] for i in users],
        noise.NameNoise(nickname=0.2, lower=0.08),
    )
    short = rng.random(len(users)) < 0.25
    display = [
        f"{f} {la[0]}." if s and f else f"{f} {la}" if f else la
        for f, la, s in zip(first, last, short, strict=True)
    ]
    handle = pa.array([people.handle[i] for i in users])
    followers = np.maximum(0, rng.lognormal(5.0, 1.6, len(users))).astype(np.int64)
    u = rng.random(n)
    label = np.where(u < 0.75, pol, np.where(u < 0.95, 0, -pol))
    urls = [
        lx.SOCIAL_URLS[int(p)].format(h=people.handle[int(w)], id=i)
        for p, w, i in zip(platform, who, ids.tolist(), strict=True)
    ]
    names = pa.array(display)
    # An incident at the end of the history: customers complain about speed on social media
    # at several times the usual rate. Drawn last, from its own generator, so every other
    # mention, author and identity is the same as without it.
    extra = _incident(np.random.default_rng(int(rng.integers(2**62))), acc, users, kind, ids)
    truth.person_keys(
        "social",
        "social_mentions.csv",
        "{Platform}:{Author}",
        pc.binary_join_element_wise(labels(lx.SOCIAL_PLATFORMS, home), handle, ":"),
        users,
        pa.nulls(len(users), pa.string()),
        names,
    )
    truth.text_labels(
        "social",
        "social_mentions.csv",
        "Mention ID",
        pa.array(ids).cast(pa.string()),
        "Full Text",
        theme,
        pol,
        named,
    )
    truth.text_labels(
        "social",
        "social_mentions.csv",
        "Mention ID",
        pa.array(extra.ids).cast(pa.string()),
        "Full Text",
        np.full(len(extra.ids), INCIDENT_THEME, dtype=np.int64),
        np.full(len(extra.ids), tx.NEG, dtype=np.int64),
        np.full(len(extra.ids), -1, dtype=np.int64),
    )
    ids = np.concatenate([ids, extra.ids])
    when = np.concatenate([when, extra.when])
    inverse = np.concatenate([inverse, extra.user])
    platform = home[inverse]
    text = pa.concat_arrays([text, extra.text])
    label = np.concatenate([label, np.full(len(extra.ids), -1)])
    urls += [
        lx.SOCIAL_URLS[int(home[u])].format(h=people.handle[int(users[u])], id=i)
        for u, i in zip(extra.user, extra.ids.tolist(), strict=True)
    ]
    idx = pa.array(inverse.astype(np.int64))
    return pa.table(
        {
            "Mention ID": pa.array(ids).cast(pa.string()),
            "Date": fmt(when, ISO_Z),
            "Platform": labels(lx.SOCIAL_PLATFORMS, platform),
            "Author": handle.take(idx),
            "Author Name": names.take(idx),
            "Followers": pa.array(followers).take(idx),
            "Url": pa.array(urls),
            "Full Text": text,
            "Sentiment": labels(("negative", "neutral", "positive"), label + 1),
        }
    )


#: The planted emerging issue: complaints about speed in the last two weeks of the history.
INCIDENT_THEME = tx.PERFORMANCE
INCIDENT_DAYS = 14


class _Incident(NamedTuple):
    ids: I64
    when: I64
    user: I64  # index into the authors of the regular mentions
    text: pa.Array


def _incident(
    rng: np.random.Generator, acc: Accounts, users: I64, kind: I64, ids: I64
) -> _Incident:
    customers = np.nonzero(kind[users] == CUSTOMER)[0]
    n = max(30, acc.n // 12) if len(customers) else 0
    user = rng.choice(customers, n).astype(np.int64) if n else np.zeros(0, np.int64)
    when = np.sort(END - (rng.random(n) * INCIDENT_DAYS * DAY).astype(np.int64) - 1)
    start = int(ids.max()) if len(ids) else 1_676_000_000_000_000_000
    new_ids = increasing(rng, n, start, (10**11, 10**13))
    theme = np.full(n, INCIDENT_THEME, dtype=np.int64)
    text, _ = tx.draw(rng, tx.SOCIAL, theme, np.full(n, tx.NEG, dtype=np.int64))
    return _Incident(new_ids, when, user, text)


def _ideas(rng: np.random.Generator, segment: I64) -> I64:
    p = np.cumsum(idea_preferences(np.arange(3)), axis=1)
    return np.asarray((rng.random(len(segment))[:, None] > p[segment]).sum(axis=1), dtype=np.int64)


class Row(NamedTuple):
    time: int
    type: str
    member: int
    title: str | None
    body: str | None
    topic: str | None
    votes: int
    status: int
    theme: int
    polarity: int
    #: requested idea (ideas, posts and replies) or the voted idea post (votes)
    ref: int


def community(
    rng: np.random.Generator, acc: Accounts, people: People, truth: Truth
) -> list[dict[str, object]]:
    kind = np.where(people.account >= 0, acc.kind[np.maximum(people.account, 0)], -1)
    member = ((kind == CUSTOMER) & (rng.random(people.n) < 0.12)) | (
        (kind == -1) & (rng.random(people.n) < 0.05)
    )
    members = np.nonzero(member)[0].astype(np.int64)
    seg = _segment_of(acc, people, members)
    joined = np.maximum(people.created[members], START) + rng.integers(0, 90, len(members)) * DAY
    ok = joined < END - 30 * DAY
    members, seg, joined = members[ok], seg[ok], joined[ok]
    m = len(members)
    username, email, name = _members(rng, people, members, truth)
    rows: list[Row] = []
    if m:
        _ideas_and_votes(rng, rows, seg, joined)
    k = rng.poisson(1.2, m)
    author = np.repeat(np.arange(m), k).astype(np.int64)
    theme, pol = _choose(rng, _POST_THEMES, len(author))
    _discussions(rng, rows, author, theme, pol, joined, seg)
    return _records(rows, username, email, name, truth)


def _ideas_and_votes(rng: np.random.Generator, rows: list[Row], seg: I64, joined: I64) -> None:
    """Idea posts (up to three wordings per requested feature) and members' votes on them."""
    m = len(seg)
    n_posts = np.minimum(1 + rng.poisson(m / 1500.0, len(tx.IDEAS)), len(_IDEA_TITLES))
    pref = idea_preferences(seg)
    post_idea = np.repeat(np.arange(len(tx.IDEAS)), n_posts).astype(np.int64)
    body, _ = tx.draw(
        rng,
        tx.COMMENT,
        np.full(len(post_idea), tx.MISSING_FEATURE),
        np.full(len(post_idea), tx.NEU),
        post_idea,
    )
    bodies = body.to_pylist()
    first_row = len(rows)
    variant = np.concatenate([np.arange(k) for k in n_posts])
    for j, (i, v) in enumerate(zip(post_idea.tolist(), variant.tolist(), strict=True)):
        phrase, topic, _ = tx.IDEAS[i]
        title = _IDEA_TITLES[v].format(Idea=phrase[0].upper() + phrase[1:], idea=phrase)
        author = int(rng.choice(m, p=pref[:, i] / pref[:, i].sum()))
        when = int(joined[author] + rng.integers(0, max(1, (END - int(joined[author])) // 2)))
        rows.append(
            Row(when, "idea", author, title, bodies[j], topic, 0, 0, tx.MISSING_FEATURE, tx.NEU, i)
        )
    k = rng.poisson(2.5, m)
    voter = np.repeat(np.arange(m), k)
    wants = (rng.random(len(voter))[:, None] > np.cumsum(pref[voter], axis=1)).sum(axis=1)
    wants = np.minimum(wants, len(tx.IDEAS) - 1)
    start = np.concatenate([[0], np.cumsum(n_posts)[:-1]])
    post = start[wants] + (rng.random(len(voter)) * n_posts[wants]).astype(np.int64)
    pairs = np.unique(np.stack([voter, post], axis=1), axis=0) if len(voter) else np.zeros((0, 2))
    votes = np.zeros(len(post_idea), dtype=np.int64)
    for v, p in pairs.astype(np.int64).tolist():
        base = rows[first_row + p]
        when = max(base.time, int(joined[v])) + int(rng.integers(DAY, 200 * DAY))
        if when < END:
            votes[p] += 1
            rows.append(Row(when, "vote", v, base.title, None, base.topic, 0, 0, -1, 0, p))
    for p in range(len(post_idea)):
        r = rows[first_row + p]
        rows[first_row + p] = r._replace(
            votes=int(votes[p]), status=_idea_status(int(votes[p]), rng.random())
        )


def _idea_status(votes: int, u: float) -> int:
    if votes >= 25:
        return 2 if u < 0.5 else (3 if u < 0.8 else 4)
    if votes >= 8:
        return 1 if u < 0.6 else 2
    return 0 if u < 0.85 else 5


def _members(
    rng: np.random.Generator, people: People, members: I64, truth: Truth
) -> tuple[list[str], list[str | None], list[str]]:
    first, last = noise.vary_names(
        rng,
        [people.first[i] for i in members],
        [people.last[i] for i in members],
        noise.NameNoise(nickname=0.15, lower=0.05, typo=0.02),
    )
    names = noise.full_names(first, last, rng)
    email = noise.vary_emails(
        rng,
        [people.work_email[i] for i in members],
        [people.personal_email[i] for i in members],
        noise.EmailNoise(personal=0.3, case=0.05, plus=0.02),
    )
    u = rng.random(len(members))
    username = [
        people.handle[i]
        if u[k] < 0.5
        else f"{people.first[i].lower()}{people.last[i][0].lower()}_{i:x}"
        for k, i in enumerate(members.tolist())
    ]
    truth.person_keys(
        "community",
        "community_posts.jsonl",
        "author.username",
        pa.array(username, type=pa.string()),
        members,
        pa.array(email, type=pa.string()),
        pa.array(names, type=pa.string()),
    )
    return username, email, names


def _discussions(
    rng: np.random.Generator,
    rows: list[Row],
    author: I64,
    theme: I64,
    pol: I64,
    joined: I64,
    seg: I64,
) -> None:
    n = len(author)
    m = len(joined)
    sub_pol = np.where((theme == tx.ONBOARDING) | (theme == tx.MISSING_FEATURE), tx.NEU, pol)
    title, _ = tx.draw(rng, tx.SUBJECT, theme, sub_pol)
    body_pol = np.where(theme == tx.ONBOARDING, tx.NEG, pol)
    idea = np.where(theme == tx.MISSING_FEATURE, _ideas(rng, seg[author]), -1)
    body, body_idea = tx.draw(rng, tx.COMMENT, theme, body_pol, idea)
    titles, bodies = title.to_pylist(), body.to_pylist()
    when = joined[author] + (rng.random(n) * (END - joined[author])).astype(np.int64)
    tails = rng.integers(0, len(_POST_TAILS), n)
    for i in range(n):
        rows.append(
            Row(
                int(when[i]),
                "post",
                int(author[i]),
                titles[i],
                bodies[i] + _POST_TAILS[int(tails[i])],
                None,
                0,
                int(rng.random() < 0.65),
                int(theme[i]),
                int(body_pol[i]),
                int(body_idea[i]),
            )
        )
    # replies: more of the same, or thanks
    parent = np.repeat(np.arange(n), rng.poisson(1.5, n))
    r = len(parent)
    same = rng.random(r) < 0.7
    r_theme = np.where(same, theme[parent], tx.PRAISE)
    r_pol = np.where(same, body_pol[parent], tx.POS)
    r_body, r_idea = tx.draw(rng, tx.COMMENT, r_theme, r_pol, np.where(same, body_idea[parent], -1))
    replier = (author[parent] + 1 + (rng.random(r) * max(m - 1, 1)).astype(np.int64)) % max(m, 1)
    r_when = when[parent] + rng.integers(600, 20 * DAY, r)
    openers = ("Same here. ", "+1. ", "We see this too. ", "", "")
    r_bodies = r_body.to_pylist()
    for j in range(r):
        if r_when[j] < END:
            p = int(parent[j])
            opener = openers[j % len(openers)] if same[j] else ""
            rows.append(
                Row(
                    int(r_when[j]),
                    "reply",
                    int(replier[j]),
                    f"Re: {titles[p]}",
                    opener + r_bodies[j],
                    None,
                    0,
                    0,
                    int(r_theme[j]),
                    int(r_pol[j]),
                    int(r_idea[j]),
                )
            )


def _records(
    rows: list[Row], username: list[str], email: list[str | None], name: list[str], truth: Truth
) -> list[dict[str, object]]:
    order = sorted(range(len(rows)), key=lambda i: (rows[i].time, i))
    times = fmt(np.array([rows[i].time for i in order], dtype=np.int64), ISO_Z).to_pylist()
    records: list[dict[str, object]] = []
    keys: list[int] = []
    themes: list[int] = []
    pols: list[int] = []
    ideas: list[int] = []
    for pos, i in enumerate(order):
        r = rows[i]
        key = 100_001 + pos
        status: str | None = None
        if r.type == "idea":
            status = IDEA_STATUSES[r.status]
        elif r.type == "post":
            status = "answered" if r.status else "open"
        records.append(
            {
                "id": key,
                "type": r.type,
                "created_at": times[pos],
                "author": {
                    "username": username[r.member],
                    "email": email[r.member],
                    "name": name[r.member],
                },
                "title": r.title,
                "body": r.body,
                "topic": r.topic,
                "votes": r.votes if r.type == "idea" else None,
                "status": status,
            }
        )
        if r.type != "vote":
            keys.append(key)
            themes.append(r.theme)
            pols.append(r.polarity)
            ideas.append(r.ref if r.theme == tx.MISSING_FEATURE else -1)
    truth.text_labels(
        "community",
        "community_posts.jsonl",
        "id",
        pa.array(keys, type=pa.int64()),
        "title+body",
        np.array(themes, dtype=np.int64),
        np.array(pols, dtype=np.int64),
        np.array(ideas, dtype=np.int64),
    )
    return records
