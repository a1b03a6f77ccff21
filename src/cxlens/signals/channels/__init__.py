"""Notification channels of real-time signals: how an alert's owner hears of it.

A signed generic webhook, a Slack-compatible incoming webhook, or email over SMTP; the outbox
queues notifications in the store and delivers them with retries, back-off, a dead-letter list
and a log of every try.
"""

from cxlens.signals.channels.base import (
    ChannelError,
    ChannelSettings,
    DeliveryError,
    EmailChannel,
    Notification,
    RetryPolicy,
    SlackChannel,
    WebhookChannel,
    send,
)
from cxlens.signals.channels.outbox import (
    DeliveryReport,
    Dispatcher,
    attempts,
    deliver_due,
    deliveries,
    delivery_id,
    enqueue,
    retry_dead,
)
from cxlens.signals.channels.webhook import sign, verify_signature

__all__ = [
    "ChannelError",
    "ChannelSettings",
    "DeliveryError",
    "DeliveryReport",
    "Dispatcher",
    "EmailChannel",
    "Notification",
    "RetryPolicy",
    "SlackChannel",
    "WebhookChannel",
    "attempts",
    "deliver_due",
    "deliveries",
    "delivery_id",
    "enqueue",
    "retry_dead",
    "send",
    "sign",
    "verify_signature",
]
