"""Slack incoming webhooks: a fallback text and Block Kit blocks (severity, customer, value,
summary, link). Mattermost and Rocket.Chat accept the same payload."""

from __future__ import annotations

import json
from typing import Any

from cxlens.signals.channels.base import Notification, SlackChannel
from cxlens.signals.channels.webhook import post

# Slack cuts or refuses longer texts: header blocks hold 150 characters, sections 3000.
_HEADER_MAX = 150
_SECTION_MAX = 3000


def _escape(text: str) -> str:
    """Slack reads <...> as links and mentions and & as an entity; a customer name must not."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_value(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.0f}"


def payload(notification: Notification) -> dict[str, Any]:
    """The incoming-webhook JSON for one notification."""
    n = notification
    text = f"[{n.severity}] {n.rule_name}: {n.customer}: {n.summary}"
    fields = [
        f"*Severity*\n{_escape(n.severity)}",
        f"*Customer*\n{_escape(n.customer)}",
        f"*Value*\n{format_value(n.value)}",
        f"*Owner*\n{_escape(n.owner or 'unassigned')}",
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(f"{n.severity} · {n.rule_name} · {n.customer}", _HEADER_MAX),
            },
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _cut(_escape(n.summary), _SECTION_MAX)},
            "fields": [{"type": "mrkdwn", "text": f} for f in fields],
        },
    ]
    if n.link:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"<{n.link}|Open in cxlens>"},
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Alert {n.alert_id} · fired {n.fired_at:%Y-%m-%d %H:%M} UTC",
                }
            ],
        }
    )
    return {"text": _escape(text), "blocks": blocks}


def send(channel: SlackChannel, notification: Notification, delivery_id: str) -> int:
    """POST the payload once; returns the HTTP status (raises `DeliveryError`)."""
    content = json.dumps(payload(notification), ensure_ascii=False).encode("utf-8")
    return post(
        channel.url,
        content,
        {"Content-Type": "application/json", "X-Cxlens-Delivery": delivery_id},
        channel.timeout_seconds,
    )
