"""Topic libraries: starter themes of an industry, as keyword rules an analyst can edit.

Word counts cannot tell that "export stuck at 0%" and "reports refresh so slowly" are the same
complaint; a library of the topics every company of a kind hears about can. Loading one adds
pinned rule themes to the taxonomy; discovery then finds what the library does not cover, and
analysts rename, extend or drop the library's themes like any other.
"""

from __future__ import annotations

from cxlens.errors import ModelError
from cxlens.models.themes.taxonomy import Taxonomy

Library = tuple[tuple[str, tuple[str, ...]], ...]

_SAAS: Library = (
    (
        "Billing & pricing",
        (
            "invoice*", "bill", "billed", "billing", "overcharg*", "charged", "charges",
            "refund*", "price*", "pricing", "expensive", "cost*", "payment*", "credit card",
            "card", "VAT", "receipt*", "PO number", "paying more", "discount*", "renewal quote",
        ),
    ),
    (
        "Performance & reliability",
        (
            "slow*", "lag*", "latency", "timeout*", "time out", "timing out", "timed out",
            "loading", "load time*", "spin*", "stuck", "freez*", "hang*", "outage*",
            "downtime", "unresponsive", "sluggish", "crawl", "performance",
        ),
    ),
    (
        "Bugs & errors",
        (
            "bug*", "error*", "crash*", "broken", "not working", "doesn't work",
            "does not work", "fails", "failed", "failing", "glitch*", "disappear*",
            "not saved", "not saving", "silently", "overlap*", "duplicate*", "twice",
            "keeps breaking", "wrong data",
        ),
    ),
    (
        "Onboarding & implementation",
        (
            "onboard*", "setup", "set up", "implementation", "implement*", "go-live",
            "go live", "went live", "live in", "kickoff", "migration", "migrat*", "training",
            "getting started", "rollout", "roll out", "implementation partner",
        ),
    ),
    (
        "Support responsiveness",
        (
            "support team", "support ticket", "ticket*", "response time", "no reply",
            "no response", "pending", "escalat*", "on hold", "hear back", "heard back",
            "waiting for", "still waiting", "days to respond", "answered within",
            "resolved within", "quick response", "fast response", "support was",
        ),
    ),
    (
        "Feature requests",
        (
            "feature request", "would help", "would be great", "would love", "wish*",
            "please add", "add support", "we miss", "missing", "request:", "roadmap",
            "integration*", "it would help", "do you support", "any plans",
        ),
    ),
    (
        "Praise",
        (
            "love", "loving", "amazing", "excellent", "recommend*", "best tool", "kudos",
            "shoutout", "great job", "well done", "happy to be a reference", "game changer",
            "great product", "changed how", "relies on it", "save hours", "saves hours",
        ),
    ),
)  # fmt: skip

_ECOMMERCE: Library = (
    (
        "Delivery",
        (
            "deliver*", "shipping", "shipped", "arriv*", "not received", "never received",
            "late", "tracking", "courier", "parcel", "package", "on time",
        ),
    ),
    (
        "Product quality",
        ("quality", "defect*", "damaged", "broken", "poor quality", "cheap", "fake"),
    ),
    (
        "Wrong or missing item",
        (
            "wrong item", "wrong size", "wrong colo*", "different from", "not as described",
            "missing item", "only one", "incomplete",
        ),
    ),
    ("Returns & refunds", ("return*", "refund*", "exchange", "money back")),
    ("Customer service", ("customer service", "no answer", "no reply", "contact*", "support")),
    ("Praise", ("love", "excellent", "recommend*", "perfect", "great", "fast delivery")),
)  # fmt: skip

LIBRARIES: dict[str, Library] = {"saas": _SAAS, "ecommerce": _ECOMMERCE}


def with_library(taxonomy: Taxonomy, name: str) -> Taxonomy:
    """`taxonomy` plus the library's themes whose labels it does not have yet."""
    try:
        library = LIBRARIES[name]
    except KeyError:
        raise ModelError(
            f"no topic library {name!r}; choose one of {', '.join(sorted(LIBRARIES))}"
        ) from None
    present = {t.label.casefold() for t in taxonomy.active()}
    for label, rules in library:
        if label.casefold() not in present:
            taxonomy = taxonomy.add_theme(label, rules=rules)
    return taxonomy
