"""Email over SMTP: a plain-text and HTML message to the channel's fixed recipients and to the
alert's owner, when the owner is an address or the channel knows the owners' mail domain."""

from __future__ import annotations

import html
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from cxlens.signals.channels.base import DeliveryError, EmailChannel, Notification
from cxlens.signals.channels.slack import format_value

log = logging.getLogger(__name__)

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_LOCAL_PART = re.compile(r"^[A-Za-z0-9._%+-]+$")


def recipients(channel: EmailChannel, owner: str | None) -> list[str]:
    """The channel's `to`, plus the owner's address when one can be told (no repeats)."""
    found = list(channel.to)
    if owner:
        owner = owner.strip()
        if _ADDRESS.match(owner):
            found.append(owner)
        elif channel.to_owner_domain and _LOCAL_PART.match(owner):
            found.append(f"{owner}@{channel.to_owner_domain.lstrip('@')}")
    seen: set[str] = set()
    unique = []
    for address in found:
        if address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique


def subject(notification: Notification) -> str:
    n = notification
    return f"[{n.severity}] {n.customer}: {n.rule_name}"


def message(channel: EmailChannel, notification: Notification, to: list[str]) -> EmailMessage:
    """The multipart message: plain text first, HTML as the richer alternative."""
    n = notification
    rows = [
        ("Severity", n.severity),
        ("Customer", n.customer),
        ("Value", format_value(n.value)),
        ("Owner", n.owner or "unassigned"),
        ("Rule", n.rule_name),
        ("Fired", f"{n.fired_at:%Y-%m-%d %H:%M} UTC"),
    ]
    text = "\n".join([n.summary, "", *(f"{k}: {v}" for k, v in rows)])
    if n.link:
        text += f"\n\nOpen in cxlens: {n.link}"
    cells = "".join(
        f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows
    )
    link = f"<p><a href='{html.escape(n.link)}'>Open in cxlens</a></p>" if n.link else ""
    body = f"<p>{html.escape(n.summary)}</p><table>{cells}</table>{link}"

    msg = EmailMessage()
    msg["Subject"] = subject(n)
    msg["From"] = channel.sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(usegmt=True)
    # A domain of our own: without it make_msgid asks DNS for this host's name, which can hang.
    msg["Message-ID"] = make_msgid(domain=channel.sender.rpartition("@")[2] or "cxlens")
    msg["X-Cxlens-Alert"] = n.alert_id
    msg.set_content(text)
    msg.add_alternative(f"<html><body>{body}</body></html>", subtype="html")
    return msg


def send(channel: EmailChannel, notification: Notification, delivery_id: str) -> int:
    """Send the message once; returns the SMTP reply code (raises `DeliveryError`)."""
    to = recipients(channel, notification.owner)
    if not to:
        raise DeliveryError(
            f"no recipient for alert {notification.alert_id}: the channel lists no `to` and owner "
            f"{notification.owner!r} is not an address (set `to_owner_domain`)",
            transient=False,
        )
    msg = message(channel, notification, to)
    msg["X-Cxlens-Delivery"] = delivery_id
    where = f"SMTP {channel.host}:{channel.port}"
    try:
        with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout_seconds) as smtp:
            if channel.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if channel.username is not None and channel.password is not None:
                smtp.login(channel.username, channel.password.get_secret_value())
            refused = smtp.send_message(msg, to_addrs=to)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise DeliveryError(
            f"{where}: every recipient refused: {exc.recipients}",
            transient=any(400 <= c < 500 for c in codes),
            status_code=codes[0] if codes else None,
        ) from exc
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        raise DeliveryError(
            f"{where}: {exc.smtp_code} {reply}".rstrip(),
            transient=400 <= exc.smtp_code < 500,
            status_code=exc.smtp_code,
        ) from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise DeliveryError(f"{where}: disconnected: {exc}", transient=True) from exc
    except smtplib.SMTPException as exc:  # e.g. STARTTLS or AUTH not offered: configuration
        raise DeliveryError(f"{where}: {exc}", transient=False) from exc
    except ssl.SSLError as exc:  # a certificate that does not verify will not start to
        raise DeliveryError(f"{where}: TLS failed: {exc}", transient=False) from exc
    except OSError as exc:  # refused, unreachable, timed out
        raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}", transient=True) from exc
    if refused:
        log.warning(
            "alert %s: %s refused some recipients: %s", notification.alert_id, where, refused
        )
    # send_message raises unless the server answered the message with 250.
    return 250
