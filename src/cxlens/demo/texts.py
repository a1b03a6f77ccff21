"""Text templates with known themes: survey comments, ticket subjects, posts and staff notes.

Templates are rendered once into pools per (style, theme, polarity); generators then draw from
a pool by index, so each text's theme and polarity are known without parsing it. Phrasing is
varied on purpose (synonyms, mixed openers and closers) so themes are not separable by one
keyword.
"""

from __future__ import annotations

import functools
import random
import string
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cxlens.demo.types import I64

THEMES = (
    "billing",
    "onboarding",
    "performance",
    "bugs",
    "support_speed",
    "missing_feature",
    "praise",
    "none",
)
(BILLING, ONBOARDING, PERFORMANCE, BUGS, SUPPORT_SPEED, MISSING_FEATURE, PRAISE, NO_THEME) = range(
    8
)
STYLES = ("comment", "subject", "social", "note")
COMMENT, SUBJECT, SOCIAL, NOTE = range(4)
NEG, NEU, POS = -1, 0, 1

#: (phrase used in sentences, topic, segment it matters most to: 0 ent, 1 mid, 2 smb)
IDEAS = (
    ("SAML SSO enforcement", "security", 0),
    ("an exportable audit log", "security", 0),
    ("EU data residency", "security", 0),
    ("custom roles and permissions", "admin", 0),
    ("two-way Salesforce sync", "integrations", 0),
    ("SCIM user provisioning", "admin", 0),
    ("sandbox-to-production promotion", "admin", 0),
    ("field-level encryption", "security", 0),
    ("a Snowflake export", "integrations", 1),
    ("scheduled report emails", "reporting", 1),
    ("health score weights per segment", "health", 1),
    ("branching in playbooks", "playbooks", 1),
    ("a Jira integration", "integrations", 1),
    ("custom objects", "data", 1),
    ("multi-currency reporting", "reporting", 1),
    ("a mobile app", "mobile", 2),
    ("a dark mode", "ui", 2),
    ("Zapier triggers", "integrations", 2),
    ("a cheaper annual plan", "pricing", 2),
    ("a Google Sheets export", "reporting", 2),
    ("templates for small teams", "playbooks", 2),
    ("WhatsApp surveys", "surveys", 2),
    ("bulk CSV import", "data", 2),
)

_FILL = {
    "feature": (
        "dashboards",
        "the reports",
        "automations",
        "health scores",
        "playbooks",
        "survey campaigns",
        "segments",
        "alerts",
        "the timeline view",
        "journeys",
        "CSV exports",
    ),
    "integration": (
        "Salesforce",
        "HubSpot",
        "Zendesk",
        "Slack",
        "Snowflake",
        "Intercom",
        "Jira",
        "Gmail",
    ),
    "wait": ("three days", "a week", "48 hours", "over a week", "five days", "two weeks"),
    "n": ("3", "5", "8", "12", "20"),
    "pct": ("15", "20", "25", "30"),
    "days": ("10", "14", "21", "five"),
    "agent": ("Grace", "Carlos", "Aisha", "Noah", "Olivia", "Samir"),
    "csm": ("Rachel", "Jordan", "Sophie", "Ben", "Hannah", "Luis"),
    "inv": ("A1F3-0007", "8C21-0012", "0F9E-0003", "5D77-0021"),
    "month": ("January", "March", "May", "August", "October", "December"),
}

_C: dict[tuple[int, int], tuple[str, ...]] = {
    (BILLING, NEG): (
        "We were charged twice this month and it took ages to get the refund.",
        "The invoice did not match what we agreed in the contract.",
        "The new pricing is hard to justify for a team our size.",
        "Our card kept getting declined although nothing changed on our side.",
        "Nobody told us the price would go up at renewal.",
        "VAT is missing from the invoices, so finance keeps rejecting them.",
        "The bill still counts {n} users we removed weeks ago.",
        "Paying more every year for the same product is getting old.",
        "Getting a simple receipt for expenses is harder than it should be.",
        "Cost went up {pct}% and we saw nothing new for it.",
        "The renewal quote came in much higher than last year.",
        "Payment failed twice and the billing portal gave no useful error.",
    ),
    (BILLING, NEU): (
        "Would be nice to get invoices in our local currency.",
        "Can the invoices show our PO number?",
        "Please send receipts to our finance mailbox as well.",
    ),
    (BILLING, POS): (
        "Switching plans and updating the card was painless.",
        "Clear invoices, no surprises on the bill.",
    ),
    (ONBOARDING, NEG): (
        "Setup took far longer than promised; we went live {wait} late.",
        "The implementation partner missed two deadlines during our rollout.",
        "Importing our customer data was painful and nobody helped.",
        "The kickoff was fine, but after that we were left on our own.",
        "Getting {integration} connected during setup took weeks.",
        "The getting-started docs are thin and out of date.",
        "Our admin training was rescheduled three times.",
        "The migration lost a good part of our historical records.",
    ),
    (ONBOARDING, POS): (
        "Onboarding was smooth and the team was live in {days} days.",
        "{csm} walked us through setup step by step, very well organised.",
        "The onboarding checklist made the rollout easy.",
        "The training session was excellent and everyone picked it up quickly.",
        "Data migration went exactly as planned.",
    ),
    (PERFORMANCE, NEG): (
        "{feature} take forever to load, sometimes over a minute.",
        "The app slows to a crawl every Monday morning.",
        "Pages keep timing out when we filter large segments.",
        "Exports of more than a few thousand rows just spin.",
        "The API is sluggish and our nightly sync hits timeouts.",
        "Everything feels laggy since the last release.",
        "Search is painfully slow on our account.",
        "Reports refresh so slowly that the team stopped opening them.",
    ),
    (BUGS, NEG): (
        "{feature} keep breaking after every update.",
        "The {integration} sync silently drops records.",
        "We get a server error when saving {feature}.",
        "Filters reset themselves whenever you switch tabs.",
        "The same alert gets sent to one person several times.",
        "Charts show different numbers than the CSV export.",
        "The layout is broken on mobile and buttons overlap.",
        "Half our playbook tasks vanished after the update.",
        "Scheduled reports arrive with the wrong time zone.",
        "Survey invitations went out twice to the same customers.",
    ),
    (SUPPORT_SPEED, NEG): (
        "Support took {wait} to answer an urgent ticket.",
        "We keep getting passed between agents and nothing gets solved.",
        "Had to chase the help desk three times for a simple answer.",
        "Our ticket has been pending for weeks without an update.",
        "Response times have gotten much worse this year.",
        "The chat bot goes in circles and there is no quick way to reach a human.",
    ),
    (SUPPORT_SPEED, POS): (
        "Support answered within minutes and fixed it the same day.",
        "{agent} from support was fantastic and very quick.",
        "Fast, friendly help every time we open a ticket.",
        "Impressed by how quickly the team resolved our issue.",
    ),
    (MISSING_FEATURE, NEG): (
        "We really need {idea}; without it this is a hard sell internally.",
        "Still no {idea}? We asked for it a year ago.",
        "Would be a great tool if it had {idea}.",
        "Please add {idea}, we do it by hand today.",
        "Without {idea} we keep a spreadsheet on the side.",
        "Leadership keeps asking us for {idea}.",
    ),
    (MISSING_FEATURE, NEU): (
        "It would help if you added {idea}.",
        "Any plans for {idea}?",
        "The one thing we miss is {idea}.",
    ),
    (PRAISE, POS): (
        "Great product, it has changed how our team works.",
        "{feature} are exactly what we needed.",
        "Love the product, especially {feature}.",
        "Best tool we have bought this year.",
        "Renewing was a no-brainer; the team relies on it daily.",
        "Easy to use, and our managers finally trust the numbers.",
        "It just works, and it keeps getting better.",
        "We save hours every week thanks to {feature}.",
        "Solid platform, responsive team, fair price.",
        "Would recommend it to any customer success team.",
    ),
}
_OPEN = {
    NEG: ("", "", "Honestly, ", "To be frank, ", "Frustrating. ", "Not happy. ", "Disappointed. "),
    NEU: ("", "", "Overall fine. ", "Small thing: "),
    POS: ("", "", "Overall very happy. ", "Great experience. ", "Thanks! "),
}
_CLOSE = {
    NEG: (
        "",
        "",
        " Please fix this.",
        " We are looking at alternatives.",
        " Otherwise the product is okay.",
        " This needs attention.",
    ),
    NEU: ("", "", " Thanks.", " Otherwise all good."),
    POS: ("", "", " Keep it up!", " Thank you.", " Happy to be a reference."),
}

_S: dict[tuple[int, int], tuple[str, ...]] = {
    (BILLING, NEG): (
        "Invoice {inv} shows the wrong amount",
        "Charged twice in {month}",
        "Card declined on renewal",
        "Why did our bill go up?",
        "Refund request",
        "Remove {n} seats from our subscription",
    ),
    (BILLING, NEU): (
        "Need VAT number on invoices",
        "Update billing contact",
        "Receipt for last payment",
        "Question about the new pricing",
    ),
    (ONBOARDING, NEU): (
        "How do I set up {feature}?",
        "Help importing our contacts",
        "SSO configuration during setup",
        "Rescheduling our training session",
        "Connecting {integration} - first steps",
        "Where is the setup guide?",
    ),
    (ONBOARDING, NEG): (
        "Data migration still not finished",
        "Go-live date slipped again",
        "Onboarding call follow-up - still blocked",
    ),
    (PERFORMANCE, NEG): (
        "{feature} very slow to load",
        "Timeouts on large segments",
        "API responses taking 30s+",
        "Export stuck at 0%",
        "App extremely slow today",
        "{integration} sync lagging hours behind",
    ),
    (BUGS, NEG): (
        "Error 500 when saving {feature}",
        "{integration} sync dropping records",
        "Filters not saved",
        "Duplicate alert emails",
        "Dashboard numbers don't match export",
        "Broken layout on mobile",
        "Scheduled report sent at wrong time",
        "Playbook tasks disappeared",
        "Login loop after password reset",
    ),
    (SUPPORT_SPEED, NEG): (
        "Still waiting for a reply on my ticket",
        "Escalation: no response for {wait}",
        "Follow-up on my open request",
        "Third time asking - please respond",
    ),
    (MISSING_FEATURE, NEU): (
        "Feature request: {idea}",
        "Is there a way to get {idea}?",
        "Do you support {idea}?",
        "Request: {idea}",
    ),
    (PRAISE, POS): (
        "Thanks for the quick fix!",
        "Kudos to {agent}",
        "Great job on the new release",
    ),
}
_SOCIAL_LEAD = {
    NEG: ("@lumio_app ", "", "PSA: ", "Anyone else? "),
    NEU: ("@lumio_app ", "", "Q for @lumio_app users: "),
    POS: ("Shoutout to @lumio_app: ", "", "@lumio_app ", "Review: "),
}
_SOCIAL_TAIL = {
    NEG: ("", " #CustomerSuccess", " #SaaS", " Not great.", " \U0001f624"),
    NEU: ("", " #CustomerSuccess", " #SaaS"),
    POS: ("", " #CustomerSuccess", " #SaaS", " \U0001f44f", " 10/10"),
}

#: routine staff notes (subject, description): no theme
ROUTINE_NOTES = {
    "Sales": (
        ("Discovery call", "Discovery call; evaluating tools for customer health."),
        ("Product demo", "Demo for the operations team, strong interest in playbooks."),
        ("Proposal sent", "Sent proposal and order form."),
        ("Contract negotiation", "Legal review of the MSA in progress."),
    ),
    "Customer Success": (
        ("Quarterly business review", "QBR held; reviewed adoption and goals for next quarter."),
        ("Check-in call", "Monthly check-in. No open issues."),
        ("Renewal discussion", "Discussed renewal timeline and seat count."),
        ("Onboarding kickoff", "Kickoff; agreed go-live plan and owners."),
        ("Success plan update", "Updated success plan with new goals."),
    ),
    "Support": (
        ("Escalation review", "Reviewed open tickets with the customer's admin."),
        ("Ticket follow-up", "Followed up on recent tickets; customer satisfied."),
    ),
    "Field": (
        ("Site visit", "On-site visit; met the team and reviewed their workflows."),
        ("Workshop delivered", "Delivered hands-on workshop for admins."),
    ),
}


@dataclass(frozen=True)
class Pools:
    """Rendered texts, grouped by key = (style * 8 + theme) * 3 + polarity + 1."""

    texts: pa.Array
    #: index into IDEAS for texts naming a requested feature, else -1
    idea: I64
    start: I64
    size: I64
    #: pool positions of idea texts sorted by key * 64 + idea, and those codes
    idea_order: I64
    idea_code: I64


def key_of(style: int, theme: I64 | int, polarity: I64 | int) -> I64:
    return np.asarray(
        (style * 8 + np.asarray(theme)) * 3 + np.asarray(polarity) + 1, dtype=np.int64
    )


def _render(template: str, rng: random.Random, idea: int) -> str:
    values = {
        f: rng.choice(_FILL[f])
        for _, f, _, _ in string.Formatter().parse(template)
        if f and f != "idea"
    }
    if idea >= 0:
        values["idea"] = IDEAS[idea][0]
    return template.format(**values)


def _join(opener: str, core: str, closer: str) -> str:
    """Opener + core + closer with the core's first letter cased for its position."""
    if opener.endswith(", ") and not core[1:2].isupper():
        core = core[0].lower() + core[1:]
    else:
        core = core[0].upper() + core[1:]
    return opener + core + closer


def _pick(options: tuple[str, ...], rng: random.Random) -> str:
    return rng.choice(options)


def _variants(
    templates: tuple[str, ...], style: int, pol: int, rng: random.Random
) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for template in templates:
        ideas = range(len(IDEAS)) if "{idea}" in template else [-1] * 4
        named = template.startswith(("{agent}", "{csm}", "{integration}"))
        for idea in ideas:
            for _ in range(3 if style != SUBJECT else 1):
                core = _render(template, rng, idea)
                if style == COMMENT:
                    text = _join(_pick(_OPEN[pol], rng), core, _pick(_CLOSE[pol], rng))
                elif style == SOCIAL:
                    text = _join(_pick(_SOCIAL_LEAD[pol], rng), core, _pick(_SOCIAL_TAIL[pol], rng))
                    if rng.random() < 0.15 and not named:
                        text = text.lower()
                elif style == NOTE:
                    text = _join(
                        "Customer said: " if rng.random() < 0.5 else "Call notes: ", core, ""
                    )
                else:
                    text = _join("", core, "")
                out.append((text, idea))
    return list(dict.fromkeys(out))


@functools.cache
def pools() -> Pools:
    """All text pools; rendered once with a fixed seed, identical for every demo seed."""
    rng = random.Random(20260630)
    texts: list[str] = []
    ideas: list[int] = []
    n_keys = len(STYLES) * 8 * 3
    start = np.zeros(n_keys, dtype=np.int64)
    size = np.zeros(n_keys, dtype=np.int64)
    for style in range(len(STYLES)):
        source = _S if style == SUBJECT else _C
        for theme in range(len(THEMES)):
            for pol in (NEG, NEU, POS):
                templates = source.get((theme, pol), ())
                k = int(key_of(style, theme, pol))
                rendered = _variants(templates, style, pol, rng)
                start[k], size[k] = len(texts), len(rendered)
                texts += [t for t, _ in rendered]
                ideas += [i for _, i in rendered]
    idea = np.array(ideas, dtype=np.int64)
    key = np.repeat(np.arange(n_keys, dtype=np.int64), size)
    has = np.nonzero(idea >= 0)[0]
    code = key[has] * 64 + idea[has]
    order = np.argsort(code, kind="stable")
    return Pools(pa.array(texts, type=pa.string()), idea, start, size, has[order], code[order])


def available(style: int, theme: int, polarity: int) -> bool:
    return bool(pools().size[int(key_of(style, theme, polarity))] > 0)


def draw(
    rng: np.random.Generator, style: int, theme: I64, polarity: I64, idea: I64 | None = None
) -> tuple[pa.Array, I64]:
    """Texts for each row's (theme, polarity); returns the texts and the idea each names (-1).

    Where `idea` is given (>= 0) for a missing-feature row, the text names that idea.
    """
    p = pools()
    keys = key_of(style, theme, polarity)
    sizes = p.size[keys]
    if (sizes == 0).any():
        bad = sorted(
            {
                (THEMES[int(t)], int(q))
                for t, q, s in zip(theme, polarity, sizes, strict=True)
                if s == 0
            }
        )
        raise ValueError(f"no {STYLES[style]} templates for {bad}")
    u = rng.random(len(keys))
    pick = p.start[keys] + (u * sizes).astype(np.int64)
    if idea is not None:
        code = keys * 64 + idea
        lo = np.searchsorted(p.idea_code, code, side="left")
        hi = np.searchsorted(p.idea_code, code, side="right")
        steer = (idea >= 0) & (hi > lo)
        within = lo + (u * (hi - lo)).astype(np.int64)
        pick[steer] = p.idea_order[within[steer]]
    return p.texts.take(pa.array(pick)), p.idea[pick]


def ticket_theme_polarity(theme: I64, rng: np.random.Generator) -> I64:
    """Polarity of ticket subjects: subjects exist for fewer (theme, polarity) pairs."""
    pol = np.full(len(theme), NEG, dtype=np.int64)
    neutral = np.isin(theme, [ONBOARDING, MISSING_FEATURE]) | (
        (theme == BILLING) & (rng.random(len(theme)) < 0.5)
    )
    pol[neutral] = NEU
    pol[(theme == ONBOARDING) & (rng.random(len(theme)) < 0.2)] = NEG
    pol[theme == PRAISE] = POS
    return pol
