"""Server-side sessions, and the per-user data they give access to.

`SessionStore` (protocols.py) is what the web layer talks to; `SqlSessionStore`
implements it in the same database as the accounts: the SQLite file (db.py) or,
for a team server, PostgreSQL (pg.py), with the same SQL.

Sessions live beside the accounts on purpose, because revocation is only as good
as the transaction it happens in: a session is created only if the account still
has the password hash the sign-in verified, it is valid only while its account
exists, and a write through it happens only while it does, each checked inside
the transaction that does the work. `Accounts.set_password` and `delete` end the
sessions in the transaction that changes the account. Another implementation
(PostgreSQL for a team server) keeps these guarantees only with the sessions in
the same database as the accounts; a separate cache such as Redis could not.

The session id handed to the browser is 256 random bits from `secrets`; only
its SHA-256 is stored, so a copied database file lets nobody in. Both timeouts
are enforced here, on the server, whatever the cookie says.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from desktop_app.errors import StoreBusy
from desktop_app.store.db import StoreDatabase
from desktop_app.store.protocols import Session, SessionEnded, SignInRefused


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# A session is live within both timeouts, while its account exists, and only if that
# account is older than the session: an account deleted and made again under the
# same name does not bring back the old one's sessions.
FROM_LIVE = "FROM sessions s JOIN users u ON u.username = s.username"
LIVE = "s.last_seen > ? AND s.created_at > ? AND s.created_at >= u.created_at"
# Started with "Keep me signed in": the one JSON test, in each database's words.
KEPT = {"sqlite": "json_extract(s.data, '$.kept') = 1", "postgresql": "(s.data::jsonb ->> 'kept') = 'true'"}


def end_sessions(conn: sqlite3.Connection, username: str, *, keep_hash: str = "") -> int:
    """End `username`'s sessions but `keep_hash`'s, inside the caller's transaction."""
    cur = conn.execute("DELETE FROM sessions WHERE username = ? AND id_hash != ?", (username, keep_hash))
    return cur.rowcount


def forget_values(conn: sqlite3.Connection, username: str) -> int:
    """Delete `username`'s values, inside the caller's transaction."""
    return conn.execute("DELETE FROM user_data WHERE username = ?", (username,)).rowcount


def session_exists(conn: sqlite3.Connection, id_hash: str, username: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sessions WHERE id_hash = ? AND username = ?", (id_hash, username)
    ).fetchone()
    return row is not None


def _dumps(value: Any) -> str:
    # JSON, never pickle: a stored value must never be able to run code.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class SqlSessionStore:
    def __init__(
        self,
        db: StoreDatabase,
        *,
        idle_seconds: int,
        max_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.remote = db.dialect != "sqlite"
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self._clock = clock

    def live_bounds(self) -> tuple[float, float]:
        """The parameters of LIVE, now (files.py's queries use them too)."""
        now = self._clock()
        return now - self.idle_seconds, now - self.max_seconds

    @staticmethod
    def _row(row: tuple) -> Session:
        return Session(
            id_hash=row[0], username=row[1], created_at=row[2], last_seen=row[3],
            data=json.loads(row[4]),
        )

    def create(
        self, username: str, data: dict[str, Any] | None = None, *, credential: str | None = None
    ) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(hash_token(token), username, now, now, dict(data or {}))
        with self.db.write() as conn:
            # Checked in the transaction that inserts: a password change or a delete
            # (one transaction each) is wholly before this, and then refuses it, or
            # wholly after, and then ends it.
            if credential is not None and conn.execute(
                "SELECT 1 FROM users WHERE username = ? AND pw_hash = ?", (username, credential)
            ).fetchone() is None:
                raise SignInRefused()
            conn.execute(
                "INSERT INTO sessions (id_hash, username, created_at, last_seen, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (session.id_hash, username, now, now, _dumps(session.data)),
            )
        return token, session

    def get(self, token: str) -> Session | None:
        if not token or len(token) > 256:
            return None
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT s.id_hash, s.username, s.created_at, s.last_seen, s.data {FROM_LIVE} "
                f"WHERE s.id_hash = ? AND {LIVE}",
                (hash_token(token), *self.live_bounds()),
            ).fetchone()
        return self._row(row) if row else None

    def touch(self, token: str) -> None:
        # Bookkeeping: with another writer busy, skipped (the next request a
        # minute on does it). A missed touch can end a session sooner, never later.
        try:
            with self.db.write(wait=False) as conn:
                conn.execute(
                    "UPDATE sessions SET last_seen = ? WHERE id_hash = ?",
                    (self._clock(), hash_token(token)),
                )
        except StoreBusy:
            pass

    def any_kept(self) -> bool:
        with self.db.read() as conn:
            return conn.execute(
                f"SELECT 1 {FROM_LIVE} WHERE {LIVE} AND {KEPT[self.db.dialect]} LIMIT 1",
                self.live_bounds(),
            ).fetchone() is not None

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
            return end_sessions(conn, username, keep_hash=keep)

    def list_user(self, username: str) -> list[Session]:
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT s.id_hash, s.username, s.created_at, s.last_seen, s.data {FROM_LIVE} "
                f"WHERE s.username = ? AND {LIVE} ORDER BY s.created_at DESC",
                (username, *self.live_bounds()),
            ).fetchall()
        return [self._row(r) for r in rows]

    def purge_expired(self) -> int:
        with self.db.write() as conn:
            cur = conn.execute(
                f"DELETE FROM sessions WHERE id_hash NOT IN (SELECT s.id_hash {FROM_LIVE} WHERE {LIVE})",
                self.live_bounds(),
            )
        return cur.rowcount

    def get_user_value(self, username: str, key: str, default: Any = None) -> Any:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT value FROM user_data WHERE username = ? AND key = ?", (username, key)
            ).fetchone()
        return json.loads(row[0]) if row else default

    def set_user_value(self, username: str, key: str, value: Any, *, token: str | None = None) -> None:
        encoded = _dumps(value)  # fails before the transaction if not JSON-able
        upsert = ("ON CONFLICT (username, key) DO UPDATE SET value = excluded.value, "
                  "updated_at = excluded.updated_at")
        with self.db.write() as conn:
            if token is None:
                conn.execute(
                    f"INSERT INTO user_data (username, key, value, updated_at) VALUES (?, ?, ?, ?) {upsert}",
                    (username, key, encoded, self._clock()),
                )
                return
            # A callback let in just before its session ended (logout, password
            # change, the account deleted) must not write: a later account of the
            # same name would inherit the value.
            cur = conn.execute(
                "INSERT INTO user_data (username, key, value, updated_at) SELECT ?, ?, ?, ? "
                f"WHERE EXISTS (SELECT 1 {FROM_LIVE} WHERE s.id_hash = ? AND s.username = ? AND {LIVE}) "
                f"{upsert}",
                (username, key, encoded, self._clock(), hash_token(token), username, *self.live_bounds()),
            )
            if cur.rowcount == 0:
                raise SessionEnded()

    def delete_user_values(self, username: str) -> int:
        with self.db.write() as conn:
            return forget_values(conn, username)
