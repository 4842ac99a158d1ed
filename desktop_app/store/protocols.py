"""What the rest of the app may rely on from a session store, whatever keeps it:
the session record, the store's protocol, and the two refusals it raises.

SQLite (sessions.py) is the one implementation today; a PostgreSQL store for a
team server implements the same protocol, with the sessions in the same
database as the accounts (see sessions.py for why that matters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from desktop_app.errors import UserError

# last_seen is rewritten at most this often: Gradio makes many requests per
# page, and one fsync each would be wasted work.
TOUCH_INTERVAL_SECONDS = 60


class SignInRefused(UserError):
    """The account changed its password, or was deleted, after the sign-in checked it."""

    def __init__(self) -> None:
        # The normal answer to a wrong password, which by now it is; a message of its
        # own would tell whoever holds an old password that it was valid a moment ago.
        super().__init__("Wrong username or password.")


class SessionEnded(UserError):
    """A write through a session that has ended since the request was let in
    (logout, revoked, expired, password changed, account deleted)."""

    def __init__(self) -> None:
        super().__init__("Your session has ended; sign in again.")


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
    # Its calls go over a network (PostgreSQL): the web layer makes them in a
    # worker thread, never on the event loop.
    remote: bool

    def create(
        self, username: str, data: dict[str, Any] | None = None, *, credential: str | None = None
    ) -> tuple[str, Session]:
        """Start a session; returns the secret token (for the cookie) and the record.
        `credential` is `LoginResult.credential`: the session is created only if the
        account still has it, in the same transaction (else SignInRefused). Without
        it nothing is checked (tools, tests); the session is valid only while an
        account of that name, created before it, exists."""

    def get(self, token: str) -> Session | None:
        """The live session for `token`, or None if unknown, expired, revoked, or
        its account is gone (even if an account of the same name was made since)."""

    def touch(self, token: str) -> None:
        """Mark the session as used now (resets the idle timeout)."""

    def any_kept(self) -> bool:
        """True if a live session was started with "Keep me signed in" (its data
        has `kept`): the window's next launch will most likely go straight to
        the UI, so the desktop starts Gradio's build at once."""

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
        """Delete expired sessions and those whose account is gone; returns how many."""

    def get_user_value(self, username: str, key: str, default: Any = None) -> Any:
        """A per-user value that outlives sessions (notes, history, preferences)."""

    def set_user_value(self, username: str, key: str, value: Any, *, token: str | None = None) -> None:
        """Store a per-user JSON value. With `token` (what UserData passes), only
        while that session of `username` is live, checked in the same transaction:
        else SessionEnded and nothing is written. Without it, unconditionally (tools)."""

    def delete_user_values(self, username: str) -> int:
        """Forget all of a user's values (the account was deleted)."""
