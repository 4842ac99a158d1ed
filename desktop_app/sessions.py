"""Server-side sessions, and the per-user data they give access to.

`SessionStore` is the protocol the web layer talks to; `SqliteSessionStore` is
the default, in the same SQLite file as the accounts. A Redis (or other shared)
store for deployments that outgrow one machine implements the same protocol.

The session id handed to the browser is 256 random bits from `secrets`; only
its SHA-256 is stored, so a copied database file lets nobody in. Both timeouts
are enforced here, on the server, whatever the cookie says.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from desktop_app.db import Database

# last_seen is rewritten at most this often: Gradio makes many requests per
# page, and one fsync each would be wasted work.
TOUCH_INTERVAL_SECONDS = 60


@dataclass(frozen=True)
class Session:
    id_hash: str
    username: str
    created_at: float
    last_seen: float
    data: dict[str, Any] = field(default_factory=dict)


class SessionStore(Protocol):
    idle_seconds: int
    max_seconds: int

    def create(self, username: str, data: dict[str, Any] | None = None) -> tuple[str, Session]:
        """Start a session; returns the secret token (for the cookie) and the record."""

    def get(self, token: str) -> Session | None:
        """The live session for `token`, or None if unknown, expired or revoked."""

    def touch(self, token: str) -> None:
        """Mark the session as used now (resets the idle timeout)."""

    def update_data(self, token: str, data: dict[str, Any]) -> None:
        """Merge `data` (JSON values) into the session's data."""

    def delete(self, token: str) -> bool:
        """End one session (logout). True if it existed."""

    def delete_by_hash(self, id_hash: str, username: str) -> bool:
        """End one of `username`'s sessions by its stored hash (revoke from a list)."""

    def delete_user(self, username: str, *, keep_token: str | None = None) -> int:
        """End every session of `username` (but `keep_token`'s); returns how many."""

    def list_user(self, username: str) -> list[Session]:
        """The user's live sessions, newest first."""

    def purge_expired(self) -> int:
        """Delete expired sessions; returns how many."""

    def get_user_value(self, username: str, key: str, default: Any = None) -> Any:
        """A per-user value that outlives sessions (notes, history, preferences)."""

    def set_user_value(self, username: str, key: str, value: Any) -> None:
        """Store a per-user JSON value."""

    def delete_user_values(self, username: str) -> int:
        """Forget all of a user's values (the account was deleted)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _dumps(value: Any) -> str:
    # JSON, never pickle: a stored value must never be able to run code.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class SqliteSessionStore:
    def __init__(
        self,
        db: Database,
        *,
        idle_seconds: int,
        max_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self._clock = clock

    def _live(self, now: float) -> tuple[str, tuple[float, float]]:
        return (
            "last_seen > ? AND created_at > ?",
            (now - self.idle_seconds, now - self.max_seconds),
        )

    @staticmethod
    def _row(row: tuple) -> Session:
        return Session(
            id_hash=row[0], username=row[1], created_at=row[2], last_seen=row[3],
            data=json.loads(row[4]),
        )

    def create(self, username: str, data: dict[str, Any] | None = None) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(hash_token(token), username, now, now, dict(data or {}))
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO sessions (id_hash, username, created_at, last_seen, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (session.id_hash, username, now, now, _dumps(session.data)),
            )
        return token, session

    def get(self, token: str) -> Session | None:
        if not token or len(token) > 256:
            return None
        where, params = self._live(self._clock())
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT id_hash, username, created_at, last_seen, data FROM sessions "
                f"WHERE id_hash = ? AND {where}",
                (hash_token(token), *params),
            ).fetchone()
        return self._row(row) if row else None

    def touch(self, token: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE sessions SET last_seen = ? WHERE id_hash = ?",
                (self._clock(), hash_token(token)),
            )

    def update_data(self, token: str, data: dict[str, Any]) -> None:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT data FROM sessions WHERE id_hash = ?", (hash_token(token),)
            ).fetchone()
            if row is None:
                return
            merged = {**json.loads(row[0]), **data}
            conn.execute(
                "UPDATE sessions SET data = ? WHERE id_hash = ?", (_dumps(merged), hash_token(token))
            )

    def delete(self, token: str) -> bool:
        with self.db.write() as conn:
            cur = conn.execute("DELETE FROM sessions WHERE id_hash = ?", (hash_token(token),))
        return cur.rowcount > 0

    def delete_by_hash(self, id_hash: str, username: str) -> bool:
        with self.db.write() as conn:
            cur = conn.execute(
                "DELETE FROM sessions WHERE id_hash = ? AND username = ?", (id_hash, username)
            )
        return cur.rowcount > 0

    def delete_user(self, username: str, *, keep_token: str | None = None) -> int:
        keep = hash_token(keep_token) if keep_token else ""
        with self.db.write() as conn:
            cur = conn.execute(
                "DELETE FROM sessions WHERE username = ? AND id_hash != ?", (username, keep)
            )
        return cur.rowcount

    def list_user(self, username: str) -> list[Session]:
        where, params = self._live(self._clock())
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT id_hash, username, created_at, last_seen, data FROM sessions "
                f"WHERE username = ? AND {where} ORDER BY created_at DESC",
                (username, *params),
            ).fetchall()
        return [self._row(r) for r in rows]

    def purge_expired(self) -> int:
        where, params = self._live(self._clock())
        with self.db.write() as conn:
            cur = conn.execute(f"DELETE FROM sessions WHERE NOT ({where})", params)
        return cur.rowcount

    def get_user_value(self, username: str, key: str, default: Any = None) -> Any:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT value FROM user_data WHERE username = ? AND key = ?", (username, key)
            ).fetchone()
        return json.loads(row[0]) if row else default

    def set_user_value(self, username: str, key: str, value: Any) -> None:
        encoded = _dumps(value)  # fails before the transaction if not JSON-able
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO user_data (username, key, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (username, key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (username, key, encoded, self._clock()),
            )

    def delete_user_values(self, username: str) -> int:
        with self.db.write() as conn:
            cur = conn.execute("DELETE FROM user_data WHERE username = ?", (username,))
        return cur.rowcount
