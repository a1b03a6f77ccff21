"""API keys: created once and shown once, kept only as a hash, each with a role.

A key reads `cxl_<key id>_<secret>`; the key id is public (it appears in logs and listings),
the secret is 32 random bytes. Roles: admin (everything), analyst (reads everything), csm
(reads their own book: customers whose owner is the key's owner), ingest (sends events)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from cxlens.errors import ConfigError
from cxlens.schema.signals import API_KEYS
from cxlens.store import Store
from cxlens.store.base import arrow_schema

Role = Literal["admin", "analyst", "csm", "ingest"]
ROLES: tuple[str, ...] = ("admin", "analyst", "csm", "ingest")


class ApiKeyError(ConfigError):
    """A key that cannot be created or revoked as asked."""


@dataclass(frozen=True)
class Caller:
    key_id: str
    name: str
    role: str
    owner: str | None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(store: Store, name: str, role: str, owner: str | None = None) -> str:
    """A new key (returned once, never stored in clear)."""
    if role not in ROLES:
        raise ApiKeyError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if role == "csm" and not owner:
        raise ApiKeyError("a csm key needs --owner: the owner whose book it sees")
    key_id = secrets.token_hex(4)
    key = f"cxl_{key_id}_{secrets.token_urlsafe(32)}"
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    row = {"key_id": key_id, "name": name, "role": role, "owner": owner,
           "key_hash": _hash(key), "created_at": now, "revoked_at": None}  # fmt: skip
    with store.transaction():
        store.append(API_KEYS, pa.Table.from_pylist([row], arrow_schema(API_KEYS)))
    return key


def revoke_key(store: Store, key_id: str) -> None:
    with store.transaction():
        changed = store.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            [dt.datetime.now(dt.UTC).replace(tzinfo=None), key_id],
        )
    if not changed:
        raise ApiKeyError(f"no active key {key_id}; see `cxlens keys list`")


def list_keys(store: Store) -> list[dict[str, object]]:
    return store.rows(
        "SELECT key_id, name, role, owner, created_at, revoked_at FROM api_keys ORDER BY created_at"
    )


class KeyRing:
    """Active keys held in memory; re-read from the store when an unknown key id shows up
    (a key created while the server runs works at once)."""

    def __init__(self, store: Store, lock: threading.Lock) -> None:
        self.store = store
        self.lock = lock
        self._keys: dict[str, tuple[str, Caller]] = {}
        self._loaded = 0.0
        self.reload()

    def reload(self) -> None:
        with self.lock:
            rows = self.store.rows(
                "SELECT key_id, name, role, owner, key_hash FROM api_keys WHERE revoked_at IS NULL"
            )
        self._loaded = time.monotonic()
        self._keys = {
            str(r["key_id"]): (
                str(r["key_hash"]),
                Caller(str(r["key_id"]), str(r["name"]), str(r["role"]), r["owner"]),
            )
            for r in rows
        }

    def check(self, key: str) -> Caller | None:
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "cxl":
            return None
        found = self._keys.get(parts[1])
        # Unknown ids re-read the store at most once a second: guessing keys stays cheap.
        if found is None and time.monotonic() - self._loaded > 1.0:
            self.reload()
            found = self._keys.get(parts[1])
        if found is None or not hmac.compare_digest(found[0], _hash(key)):
            return None
        return found[1]
