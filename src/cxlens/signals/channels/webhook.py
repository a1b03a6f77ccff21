"""The generic webhook: the notification JSON, POSTed with an HMAC-SHA256 signature.

The signature covers `f"{timestamp}.{body}"`, so a receiver can refuse both forged bodies and
replays of old ones; `verify_signature` is what a Python receiver calls to check it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping

import httpx

from cxlens.signals.channels.base import DeliveryError, Notification, WebhookChannel

SIGNATURE_HEADER = "X-Cxlens-Signature"
TIMESTAMP_HEADER = "X-Cxlens-Timestamp"
DELIVERY_HEADER = "X-Cxlens-Delivery"
_SCHEME = "sha256="


def body(notification: Notification) -> bytes:
    """The request body: the notification as compact UTF-8 JSON."""
    text = json.dumps(
        notification.to_dict(), separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def sign(secret: str, timestamp: int | str, content: bytes | str) -> str:
    """The signature header's value: `sha256=` and the hex HMAC of `{timestamp}.{body}`."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    message = f"{timestamp}.".encode() + raw
    return _SCHEME + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes | str,
    signature: str,
    tolerance_seconds: float = 300,
    *,
    now: float | None = None,
) -> bool:
    """Whether `signature` was made with `secret` over this body, less than
    `tolerance_seconds` from now (either way, to allow for clock skew)."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    # Constant time, so the comparison does not tell an attacker how much of a guess was right.
    return hmac.compare_digest(sign(secret, sent_at, body), signature.strip())


def headers(
    channel: WebhookChannel, content: bytes, delivery_id: str, timestamp: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(channel.secret.get_secret_value(), timestamp, content),
    }


def send(channel: WebhookChannel, notification: Notification, delivery_id: str) -> int:
    """POST the signed notification once; returns the HTTP status (raises `DeliveryError`)."""
    content = body(notification)
    stamped = headers(channel, content, delivery_id, int(time.time()))
    return post(channel.url, content, stamped, channel.timeout_seconds)


def post(url: str, content: bytes, fields: Mapping[str, str], timeout: float) -> int:
    """POST to an HTTP endpoint; returns the 2xx status or raises a classified `DeliveryError`."""
    where = f"POST {_origin(url)}"
    try:
        response = httpx.post(url, content=content, headers=dict(fields), timeout=timeout)
    except httpx.UnsupportedProtocol as exc:
        raise DeliveryError(f"{where}: {exc}", transient=False) from exc
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"{where}: timed out after {timeout} s", transient=True) from exc
    except httpx.TransportError as exc:
        raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}", transient=True) from exc
    status = response.status_code
    if 200 <= status < 300:
        return status
    # Receivers explain refusals in the body (Slack: "invalid_payload"); keep a little of it.
    detail = response.text.strip().replace("\n", " ")[:200]
    raise DeliveryError(
        f"{where}: HTTP {status}" + (f": {detail}" if detail else ""),
        transient=status in (408, 429) or status >= 500,
        status_code=status,
    )


def _origin(url: str) -> str:
    """Scheme, host and port only: webhook paths often carry the token (Slack's do), and
    errors end up in logs and the delivery log."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<invalid URL>"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"
