"""What a notification channel is: the notification an alert sends, the settings of each kind of
channel (signed webhook, Slack incoming webhook, email), the error a failed send raises, and
`send`, which delivers one notification once (retries belong to the outbox)."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from cxlens.errors import CxlensError

_HTTP_URL = r"^https?://\S+$"


class ChannelError(CxlensError):
    """A notification channel or the outbox cannot do what was asked."""


class DeliveryError(ChannelError):
    """One try to deliver a notification failed.

    `transient` says whether trying again later may succeed (network trouble, timeouts, 408,
    429, 5xx, SMTP 4xx) or not (other 4xx, SMTP 5xx, a refused configuration)."""

    def __init__(self, message: str, *, transient: bool, status_code: int | None = None) -> None:
        self.transient = transient
        self.status_code = status_code
        super().__init__(message)


@dataclass(frozen=True)
class Notification:
    """What the owner of an alert is told about it."""

    alert_id: str
    rule_id: str
    rule_name: str
    severity: str
    customer_id: str | None
    customer_name: str | None
    account_id: str | None
    owner: str | None
    value: float | None  # the customer's value in the reporting currency
    summary: str
    context: dict[str, Any]  # the customer's value, health, risk and the rule's figures
    fired_at: dt.datetime  # UTC, naive
    link: str | None = None

    @property
    def customer(self) -> str:
        """The customer as a person reads it: the name, else the id."""
        return self.customer_name or self.customer_id or "unknown customer"

    def to_dict(self) -> dict[str, Any]:
        """The notification as JSON-ready values (the webhook body and the stored payload)."""
        return {
            "alert_id": self.alert_id,
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "severity": self.severity,
            "customer_id": self.customer_id,
            "customer_name": self.customer_name,
            "account_id": self.account_id,
            "owner": self.owner,
            "value": _jsonable(self.value),
            "summary": self.summary,
            "context": _jsonable(self.context),
            "fired_at": self.fired_at.isoformat(),
            "link": self.link,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notification:
        """The notification `to_dict` wrote (as stored in the outbox)."""
        value = data.get("value")
        return cls(
            alert_id=str(data["alert_id"]),
            rule_id=str(data["rule_id"]),
            rule_name=str(data["rule_name"]),
            severity=str(data["severity"]),
            customer_id=data.get("customer_id"),
            customer_name=data.get("customer_name"),
            account_id=data.get("account_id"),
            owner=data.get("owner"),
            value=None if value is None else float(value),
            summary=str(data["summary"]),
            context=dict(data.get("context") or {}),
            fired_at=dt.datetime.fromisoformat(str(data["fired_at"])),
            link=data.get("link"),
        )


def _jsonable(value: Any) -> Any:
    """Plain JSON values: strict parsers refuse NaN, and context may carry dates or numpy."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy and pandas scalars
        return _jsonable(value.item())
    return str(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookChannel(_Strict):
    """A generic webhook: the notification JSON, signed with HMAC-SHA256 of a shared secret."""

    type: Literal["webhook"] = "webhook"
    url: str = Field(pattern=_HTTP_URL, description="Where the JSON is POSTed.")
    secret: SecretStr = Field(description="Shared secret the receiver checks the signature with.")
    timeout_seconds: float = Field(5.0, gt=0)

    @field_validator("secret")
    @classmethod
    def _secret_not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("the webhook secret must not be empty")
        return value


class SlackChannel(_Strict):
    """A Slack (or compatible: Mattermost, Rocket.Chat) incoming webhook."""

    type: Literal["slack"] = "slack"
    url: str = Field(pattern=_HTTP_URL, description="The incoming-webhook URL.")
    timeout_seconds: float = Field(5.0, gt=0)


class EmailChannel(_Strict):
    """Email over SMTP: to fixed recipients, and to the alert's owner when an address is known."""

    type: Literal["email"] = "email"
    host: str = Field(min_length=1)
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(min_length=3, description="The From address.")
    to: list[str] = Field(default_factory=list, description="Addresses that get every alert.")
    to_owner_domain: str | None = Field(
        None, description="Owner 'jane.doe' is written to jane.doe@ this domain."
    )
    timeout_seconds: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _login_needs_both(self) -> EmailChannel:
        if (self.username is None) != (self.password is None):
            raise ValueError("email username and password go together: set both or neither")
        return self


ChannelSettings = Annotated[
    WebhookChannel | SlackChannel | EmailChannel, Field(discriminator="type")
]


class RetryPolicy(_Strict):
    """How often and how patiently the outbox tries a notification."""

    max_attempts: int = Field(6, ge=1, description="Tries before a delivery is given up.")
    base_seconds: float = Field(2.0, ge=0, description="Wait after the first failed try.")
    factor: float = Field(2.0, ge=1, description="Each wait is this many times the last.")
    max_seconds: float = Field(600.0, ge=0, description="No wait is longer.")
    # A share of each wait, up or down, so receivers that failed together are not hit in step.
    jitter: float = Field(0.1, ge=0, lt=1)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the `attempt`-th failed try (1-based)."""
        raw = min(self.max_seconds, self.base_seconds * self.factor ** max(0, attempt - 1))
        spread = random.uniform(-self.jitter, self.jitter)  # noqa: S311 - timing, not security
        return raw * (1.0 + spread)


def send(channel: ChannelSettings, notification: Notification, delivery_id: str) -> int | None:
    """Deliver `notification` once through `channel`; returns the HTTP status or SMTP code.

    Raises `DeliveryError`, whose `transient` flag says whether a later try may succeed."""
    # Imported here: each channel module builds on this one.
    if isinstance(channel, WebhookChannel):
        from cxlens.signals.channels import webhook

        return webhook.send(channel, notification, delivery_id)
    if isinstance(channel, SlackChannel):
        from cxlens.signals.channels import slack

        return slack.send(channel, notification, delivery_id)
    from cxlens.signals.channels import email

    return email.send(channel, notification, delivery_id)
