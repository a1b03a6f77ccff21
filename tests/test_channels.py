"""Notification channels against real local receivers (an HTTP server and an SMTP server on
127.0.0.1), and the outbox's retries, dead letters and delivery log on every store backend."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import TypeAdapter, ValidationError

from cxlens.signals.channels import (
    ChannelError,
    ChannelSettings,
    DeliveryError,
    Dispatcher,
    EmailChannel,
    Notification,
    RetryPolicy,
    SlackChannel,
    WebhookChannel,
    attempts,
    deliver_due,
    deliveries,
    enqueue,
    retry_dead,
    send,
    sign,
    verify_signature,
)
from cxlens.store import Store

SECRET = "s3cret-webhook-key"  # noqa: S105 - a test key for a local receiver
T0 = dt.datetime(2026, 3, 2, 8, 0, 0)
FAST = RetryPolicy(max_attempts=3, base_seconds=1.0, factor=2.0, max_seconds=60, jitter=0.1)


# ---- receivers ---------------------------------------------------------------------------------


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpReceiver:
    """Records every POST; answers the scripted statuses first, then `default`."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    default: int = 200
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, seconds: float = 3.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)


def _handler(receiver: HttpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.requests.append(Request(self.path, dict(self.headers.items()), body))
                status = receiver.answers.pop(0) if receiver.answers else receiver.default
            reply = b"ok" if status < 300 else b"invalid_payload"
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    recorded = HttpReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorded))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    recorded.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MailReceiver:
    host: str
    port: int
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    reply: str = "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return self.reply


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.password == b"right"
    return AuthResult(success=ok, handled=False)  # unhandled: the server answers 535


@pytest.fixture
def smtp() -> Iterator[MailReceiver]:
    mailbox = MailReceiver("127.0.0.1", free_port())
    controller = Controller(
        mailbox,
        hostname=mailbox.host,
        port=mailbox.port,
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


# ---- building inputs ---------------------------------------------------------------------------


def notification(**changes: Any) -> Notification:
    base = Notification(
        alert_id="al_1",
        rule_id="usage_drop",
        rule_name="Usage dropped",
        severity="P1",
        customer_id="C-42",
        customer_name="Acme & Sons <EU>",
        account_id="A-7",
        owner="jane.doe",
        value=125000.0,
        summary="Weekly logins fell 60% against the previous four weeks.",
        context={"health": 41, "risk": 0.62, "since": dt.date(2026, 2, 1), "gap": float("nan")},
        fired_at=dt.datetime(2026, 3, 1, 9, 30),
        link="https://cxlens.example/customers/C-42",
    )
    return replace(base, **changes)


def webhook(url: str) -> WebhookChannel:
    return WebhookChannel(type="webhook", url=url, secret=SECRET, timeout_seconds=2)


def row(store: Store, delivery_id: str) -> dict[str, Any]:
    [found] = store.rows("SELECT * FROM deliveries WHERE delivery_id = ?", [delivery_id])
    return found


# ---- the channels, one send each ---------------------------------------------------------------


def test_webhook_posts_the_notification_json_signed(receiver: HttpReceiver) -> None:
    sent = notification()
    assert send(webhook(receiver.url), sent, "dlv_1") == 200

    [request] = receiver.requests
    assert request.path == "/hook"
    assert json.loads(request.body) == sent.to_dict()
    assert json.loads(request.body)["context"] == {
        "health": 41,
        "risk": 0.62,
        "since": "2026-02-01",
        "gap": None,
    }
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["content-type"] == "application/json"
    assert headers["x-cxlens-delivery"] == "dlv_1"
    stamp, signature = headers["x-cxlens-timestamp"], headers["x-cxlens-signature"]
    assert signature.startswith("sha256=")
    assert verify_signature(SECRET, stamp, request.body, signature)
    assert not verify_signature("wrong-secret", stamp, request.body, signature)
    assert not verify_signature(SECRET, stamp, request.body + b" ", signature)
    assert not verify_signature(SECRET, stamp, request.body, signature, now=int(stamp) + 301)
    assert not verify_signature(SECRET, "not-a-time", request.body, signature)


def test_a_stale_signature_is_refused() -> None:
    body = b'{"alert_id":"al_1"}'
    old = int(time.time()) - 3600
    assert not verify_signature(SECRET, old, body, sign(SECRET, old, body))
    assert verify_signature(SECRET, old, body, sign(SECRET, old, body), tolerance_seconds=7200)


def test_slack_payload_names_the_customer_and_severity(receiver: HttpReceiver) -> None:
    channel = SlackChannel(type="slack", url=receiver.url)
    assert send(channel, notification(), "dlv_2") == 200

    payload = json.loads(receiver.requests[0].body)
    assert "P1" in payload["text"] and "Acme &amp; Sons &lt;EU&gt;" in payload["text"]
    blocks = payload["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["type"] == "plain_text"
    assert "P1" in blocks[0]["text"]["text"] and "Acme & Sons <EU>" in blocks[0]["text"]["text"]
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert "*Severity*\nP1" in fields
    assert "*Customer*\nAcme &amp; Sons &lt;EU&gt;" in fields
    assert "*Value*\n125,000" in fields
    assert "logins fell 60%" in blocks[1]["text"]["text"]
    assert any("<https://cxlens.example/customers/C-42|" in json.dumps(b) for b in blocks)


def test_email_reaches_the_list_and_the_owner(smtp: MailReceiver) -> None:
    channel = EmailChannel(
        type="email",
        host=smtp.host,
        port=smtp.port,
        sender="alerts@cxlens.example",
        to=["cs-leads@example.com"],
        to_owner_domain="example.com",
        username="cxlens",
        password="right",  # noqa: S106 - the local test server's password
    )
    assert send(channel, notification(), "dlv_3") == 250

    [(rcpt, msg)] = smtp.messages
    assert rcpt == ["cs-leads@example.com", "jane.doe@example.com"]
    assert "P1" in msg["Subject"] and "Acme & Sons <EU>" in msg["Subject"]
    assert msg["From"] == "alerts@cxlens.example"
    assert msg["X-Cxlens-Delivery"] == "dlv_3"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and html is not None
    assert "logins fell 60%" in plain.get_content()
    assert "Acme &amp; Sons &lt;EU&gt;" in html.get_content()


def test_email_owner_address_and_refusals(smtp: MailReceiver) -> None:
    channel = EmailChannel(type="email", host=smtp.host, port=smtp.port, sender="a@cxlens.example")
    assert send(channel, notification(owner="Jane.Doe@Example.com"), "dlv_4") == 250
    assert smtp.messages[0][0] == ["Jane.Doe@Example.com"]

    with pytest.raises(DeliveryError, match="no recipient") as no_one:
        send(channel, notification(owner="jane.doe"), "dlv_5")
    assert not no_one.value.transient

    smtp.reply = "451 4.3.0 try again later"
    with pytest.raises(DeliveryError) as later:
        send(channel, notification(owner="j@example.com"), "dlv_6")
    assert later.value.transient and later.value.status_code == 451

    wrong = EmailChannel.model_validate(
        {**channel.model_dump(), "username": "cxlens", "password": "wrong"}
    )
    with pytest.raises(DeliveryError) as refused:
        send(wrong, notification(owner="j@example.com"), "dlv_7")
    assert not refused.value.transient and refused.value.status_code == 535


@pytest.mark.parametrize(
    ("status", "transient"),
    [(500, True), (503, True), (429, True), (408, True), (400, False), (404, False)],
)
def test_http_failures_are_classified(receiver: HttpReceiver, status: int, transient: bool) -> None:
    receiver.default = status
    with pytest.raises(DeliveryError) as failed:
        send(webhook(receiver.url), notification(), "dlv_8")
    assert failed.value.transient is transient
    assert failed.value.status_code == status


def test_an_unreachable_receiver_is_transient() -> None:
    with pytest.raises(DeliveryError) as failed:
        send(webhook(f"http://127.0.0.1:{free_port()}/hook"), notification(), "dlv_9")
    assert failed.value.transient and failed.value.status_code is None


def test_channel_settings_are_checked() -> None:
    adapter: TypeAdapter[ChannelSettings] = TypeAdapter(ChannelSettings)
    parsed = adapter.validate_python({"type": "slack", "url": "https://hooks.slack.com/x"})
    assert isinstance(parsed, SlackChannel)
    bad = [
        {"type": "webhook", "url": "ftp://example.com", "secret": "x"},
        {"type": "webhook", "url": "https://example.com", "secret": ""},
        {"type": "slack", "url": "https://example.com", "colour": "red"},
        {"type": "email", "host": "mail", "sender": "a@b.c", "username": "u"},
        {"type": "pager", "url": "https://example.com"},
    ]
    for settings in bad:
        with pytest.raises(ValidationError):
            adapter.validate_python(settings)


def test_retry_policy_grows_and_caps() -> None:
    policy = RetryPolicy(base_seconds=2, factor=3, max_seconds=100, jitter=0)
    assert [policy.delay(n) for n in range(1, 6)] == [2, 6, 18, 54, 100]
    jittered = RetryPolicy(jitter=0.1)
    assert all(1.8 <= jittered.delay(1) <= 2.2 for _ in range(50))
    with pytest.raises(ValidationError):
        RetryPolicy(max_attempts=0)


# ---- the outbox, on every backend --------------------------------------------------------------


def test_transient_failures_back_off_until_delivered(store: Store, receiver: HttpReceiver) -> None:
    receiver.answers = [500, 500]
    channels = {"ops": webhook(receiver.url)}
    did = enqueue(store, "al_1", "ops", notification(), now=T0)

    assert deliver_due(store, channels, now=T0, policy=FAST).failed == 1
    first = row(store, did)["next_attempt_at"]
    assert deliver_due(store, channels, now=first - dt.timedelta(seconds=0.1), policy=FAST) == (
        deliver_due(store, {}, now=T0)  # nothing due yet: an empty report
    )
    assert deliver_due(store, channels, now=first, policy=FAST).failed == 1
    second = row(store, did)["next_attempt_at"]
    report = deliver_due(store, channels, now=second, policy=FAST)
    assert (report.sent, report.failed, report.dead) == (1, 0, 0)

    assert 0.9 <= (first - T0).total_seconds() <= 1.1
    assert (second - first).total_seconds() > (first - T0).total_seconds()
    final = row(store, did)
    assert final["status"] == "delivered" and final["attempts"] == 3
    assert final["delivered_at"] == second and final["last_error"] is None
    log = attempts(store, did)
    assert log["attempt"].tolist() == [1, 2, 3]
    assert log["ok"].tolist() == [False, False, True]
    assert log["status_code"].tolist() == [500, 500, 200]
    assert log["attempted_at"].tolist() == [T0, first, second]
    assert "HTTP 500" in str(log["error"].iloc[0])
    assert (log["seconds"] >= 0).all()
    assert len(receiver.requests) == 3
    ids = {r.headers["X-Cxlens-Delivery"] for r in receiver.requests}
    assert ids == {did}  # the same id every time, so receivers can drop repeats


def test_a_terminal_refusal_is_dead_at_once(store: Store, receiver: HttpReceiver) -> None:
    receiver.default = 400
    did = enqueue(store, "al_1", "ops", notification(), now=T0)
    report = deliver_due(store, {"ops": webhook(receiver.url)}, now=T0, policy=FAST)
    assert (report.sent, report.failed, report.dead) == (0, 0, 1)
    dead = deliveries(store, status="dead")
    assert dead["delivery_id"].tolist() == [did]
    assert "HTTP 400" in dead["last_error"].iloc[0]
    assert "/hook" not in dead["last_error"].iloc[0]  # paths may hold tokens: never logged
    assert len(attempts(store, did)) == 1


def test_unreachable_then_dead_then_retried(store: Store, receiver: HttpReceiver) -> None:
    gone = {"ops": webhook(f"http://127.0.0.1:{free_port()}/hook")}
    did = enqueue(store, "al_1", "ops", notification(), now=T0)
    now = T0
    outcomes = []
    for _ in range(FAST.max_attempts):
        report = deliver_due(store, gone, now=now, policy=FAST)
        outcomes.append((report.failed, report.dead))
        now = row(store, did)["next_attempt_at"] or now
    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    assert row(store, did)["status"] == "dead"
    assert deliver_due(store, gone, now=now + dt.timedelta(days=1), policy=FAST).dead == 0

    assert retry_dead(store, did, now=now) == 1
    assert row(store, did)["status"] == "pending"
    assert deliver_due(store, {"ops": webhook(receiver.url)}, now=now, policy=FAST).sent == 1
    assert row(store, did)["status"] == "delivered"
    log = attempts(store, did)
    assert log["attempt"].tolist() == [1, 2, 3, 4]
    assert log["ok"].tolist() == [False, False, False, True]
    assert retry_dead(store) == 0


def test_enqueue_is_idempotent_and_joins_the_callers_transaction(store: Store) -> None:
    with store.transaction():
        first = enqueue(store, "al_1", "ops", notification())
        second = enqueue(store, "al_1", "ops", notification())
    assert first == second
    assert enqueue(store, "al_1", "ops", notification()) == first
    assert store.count("deliveries") == 1
    assert enqueue(store, "al_1", "email", notification()) != first

    with pytest.raises(RuntimeError), store.transaction():
        enqueue(store, "al_2", "ops", notification(alert_id="al_2"))
        raise RuntimeError("the alert was not stored")
    assert store.count("deliveries") == 2
    payload = json.loads(deliveries(store, status="pending")["payload"].iloc[0])
    assert payload["customer_id"] == "C-42" and payload["fired_at"] == "2026-03-01T09:30:00"


def test_a_channel_no_longer_configured_is_dead(store: Store) -> None:
    did = enqueue(store, "al_1", "retired", notification(), now=T0)
    assert deliver_due(store, {}, now=T0).dead == 1
    assert "'retired' is not configured" in row(store, did)["last_error"]
    with pytest.raises(ChannelError):
        deliveries(store, status="lost")


class _FlakyChannels(Mapping[str, ChannelSettings]):
    """Channels whose first lookup blows up, as a bug in a round would."""

    def __init__(self, channels: dict[str, ChannelSettings]) -> None:
        self.channels = channels
        self.failures = 1

    def __getitem__(self, key: str) -> ChannelSettings:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("boom")
        return self.channels[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.channels)

    def __len__(self) -> int:
        return len(self.channels)


def test_the_dispatcher_delivers_in_the_background(store: Store, receiver: HttpReceiver) -> None:
    lock = threading.Lock()
    with lock:
        did = enqueue(store, "al_1", "ops", notification())
    dispatcher = Dispatcher(
        store, {"ops": webhook(receiver.url)}, lock=lock, interval_seconds=0.05, policy=FAST
    )
    with dispatcher:
        assert dispatcher.running
        receiver.wait_for(1)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            with lock:
                if row(store, did)["status"] == "delivered":
                    break
            time.sleep(0.02)
    assert not dispatcher.running
    assert row(store, did)["status"] == "delivered"
    assert len(receiver.requests) == 1


def test_a_failed_round_does_not_stop_the_dispatcher(
    store: Store, receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    lock = threading.Lock()
    with lock:
        did = enqueue(store, "al_1", "ops", notification())
    flaky = _FlakyChannels({"ops": webhook(receiver.url)})
    dispatcher = Dispatcher(store, flaky, lock=lock, interval_seconds=0.05)
    with caplog.at_level(logging.ERROR), dispatcher:
        receiver.wait_for(1)
    with lock:
        assert row(store, did)["status"] == "delivered"
    assert dispatcher.rounds >= 1
    assert any("a round failed" in r.getMessage() for r in caplog.records)
