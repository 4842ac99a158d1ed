"""Local accounts: argon2id hashes, first-run creation, login throttling.

Defaults (see docs/security.md): argon2id with argon2-cffi's RFC 9106 "low memory" profile
(t=3, m=64 MiB, p=4); passwords of 8 to 1024 bytes; after 5 failed logins for a
name, each further failure locks that name for 1, 2, 4 ... up to 900 seconds.

Unknown names are treated exactly like known ones: the same answer, a hash of a
dummy password so the time is similar, and the same throttling, so nobody can
learn which accounts exist.

Races, and why none of them opens a door:
- Each attempt is counted as a failure before its password is checked, in the
  write transaction that reads the lock, and forgiven if it succeeds. SQLite's
  write lock serialises that transaction across threads and processes, so a
  burst of concurrent attempts for one name cannot get more checks than the
  policy allows by all reading "not locked" before any failure is recorded.
- A sign-in returns the hash it verified (`LoginResult.credential`), and the
  session is created only if the account still has it (`start_session`); a
  password change or a delete is one transaction that also ends the sessions.
  So a sign-in checked against the old password an instant before
  `users set-password` or `users delete` (another process) gets no session.
"""

from __future__ import annotations

import enum
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from desktop_app.errors import UserError
from desktop_app.identity import current
from desktop_app.store import throttle
from desktop_app.store.db import StoreDatabase
from desktop_app.store.files import FileOwners
from desktop_app.store.protocols import Session, SessionEnded, SessionStore, SignInRefused
from desktop_app.store.sessions import end_sessions, forget_values, hash_token, session_exists

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
MIN_PASSWORD_BYTES = 8
# Capped before hashing: argon2 takes anything, and a multi-megabyte "password"
# is a cheap way to burn CPU.
MAX_PASSWORD_BYTES = 1024
# How many hashes may run at once. Each takes 64 MiB and most of a core, so a
# burst of logins queues here instead of exhausting memory.
CONCURRENT_HASHES = 2


class LoginStatus(enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class LoginResult:
    status: LoginStatus
    username: str = ""
    retry_after: int = 0
    # The password hash this sign-in verified; start_session creates a session
    # only if the account still has it. Opaque to callers, and kept out of repr()
    # so no log line carries it.
    credential: str | None = field(default=None, repr=False)


def normalize_username(raw: str) -> str:
    """Names are compared case-insensitively: 'Alice' and 'alice' are one account."""
    return raw.strip().casefold()


def validate_username(raw: str) -> str:
    name = normalize_username(raw)
    if not USERNAME_RE.match(name):
        raise UserError(
            f"Username {raw!r} is not valid: use 1-64 letters, digits, '.', '_', '-' or '@', "
            "starting with a letter or digit.",
            exit_code=2,
        )
    return name


def validate_password(password: str) -> str:
    size = len(password.encode("utf-8", "surrogatepass"))
    if size < MIN_PASSWORD_BYTES:
        raise UserError(f"Password is too short: use at least {MIN_PASSWORD_BYTES} characters.", exit_code=2)
    if size > MAX_PASSWORD_BYTES:
        raise UserError(f"Password is too long: use at most {MAX_PASSWORD_BYTES} bytes.", exit_code=2)
    return password


class Accounts:
    def __init__(
        self,
        db: StoreDatabase,
        sessions: SessionStore,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.time,
        files: FileOwners | None = None,
    ) -> None:
        self.db = db
        self.sessions = sessions
        self.files = files  # deleting an account deletes the files only it was given
        self.hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        self._clock = clock
        self._hash_slots = threading.BoundedSemaphore(CONCURRENT_HASHES)
        self._dummy_hash: str | None = None
        self._dummy_lock = threading.Lock()

    # -- queries -----------------------------------------------------------
    def count(self) -> int:
        with self.db.read() as conn:
            return conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]

    def exists(self, username: str) -> bool:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM users WHERE username = ?", (normalize_username(username),)
            ).fetchone()
        return row is not None

    def list(self) -> list[tuple[str, float]]:
        with self.db.read() as conn:
            return conn.execute("SELECT username, created_at FROM users ORDER BY username").fetchall()

    # -- changes -----------------------------------------------------------
    def _hash(self, password: str) -> str:
        with self._hash_slots:
            return self.hasher.hash(password)

    def create(self, username: str, password: str, *, only_if_first: bool = False) -> str:
        """Add an account. With `only_if_first`, fail unless there are no accounts
        yet: the first-run page must not become a way to add more."""
        return self._insert(username, password, only_if_first=only_if_first)[0]

    def create_first(self, username: str, password: str) -> LoginResult:
        """The first-run page: create the first account, signed in as it (pass the
        result to start_session, like authenticate's)."""
        name, pw_hash = self._insert(username, password, only_if_first=True)
        return LoginResult(LoginStatus.OK, username=name, credential=pw_hash)

    def _insert(self, username: str, password: str, *, only_if_first: bool) -> tuple[str, str]:
        name = validate_username(username)
        pw_hash = self._hash(validate_password(password))
        now = self._clock()
        with self.db.write() as conn:
            if only_if_first and conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]:
                raise UserError("An account already exists; sign in instead.")
            if conn.execute("SELECT 1 FROM users WHERE username = ?", (name,)).fetchone():
                raise UserError(f"An account named {name!r} already exists; choose another name.")
            conn.execute(
                "INSERT INTO users (username, pw_hash, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (name, pw_hash, now, now),
            )
        return name, pw_hash

    def set_password(self, username: str, password: str, *, keep_token: str | None = None) -> int:
        """Change a password and end the user's sessions (except `keep_token`'s),
        in one transaction: there is no moment, and no crash, after which the new
        password is in place and an old session still works. With `keep_token`
        (the Account tab's own session), only while that session exists: if it was
        ended meanwhile (say by `users set-password`), SessionEnded and nothing
        changes. Returns how many sessions were ended."""
        name = normalize_username(username)
        pw_hash = self._hash(validate_password(password))
        keep = hash_token(keep_token) if keep_token else ""
        with self.db.write() as conn:
            if keep_token and not session_exists(conn, keep, name):
                raise SessionEnded()
            cur = conn.execute(
                "UPDATE users SET pw_hash = ?, updated_at = ? WHERE username = ?",
                (pw_hash, self._clock(), name),
            )
            if cur.rowcount == 0:
                raise UserError(f"No account named {name!r}; see '{current().slug} users list'.")
            throttle.forgive(conn, name)
            return end_sessions(conn, name, keep_hash=keep)

    def delete(self, username: str) -> None:
        """Delete an account, its sessions, its values and its claims on files in
        one transaction; then the files nobody else holds."""
        name = normalize_username(username)
        with self.db.write() as conn:
            cur = conn.execute("DELETE FROM users WHERE username = ?", (name,))
            if cur.rowcount == 0:
                raise UserError(f"No account named {name!r}; see '{current().slug} users list'.")
            end_sessions(conn, name)
            # A new account that reuses the name must not inherit the old one's data.
            forget_values(conn, name)
            orphans = self.files.forget_user(conn, name) if self.files is not None else []
        if self.files is not None:
            self.files.remove(orphans)  # after the commit: a rolled-back delete keeps them

    def start_session(self, result: LoginResult, *, kept: bool = False) -> tuple[str, Session] | None:
        """A session for a sign-in that authenticate (or create_first) accepted:
        the token for the cookie and the record. None if the account changed its
        password or was deleted since: checked in the transaction that creates the
        session, so it cannot slip between set_password or delete and their end.
        `kept`: "Keep me signed in" was ticked (see SessionStore.any_kept)."""
        if result.status is not LoginStatus.OK or result.credential is None:
            raise ValueError("start_session() needs an accepted sign-in")
        try:
            data = {"kept": True} if kept else None
            return self.sessions.create(result.username, data, credential=result.credential)
        except SignInRefused:
            return None

    # -- login -------------------------------------------------------------
    def _dummy(self) -> str:
        with self._dummy_lock:
            if self._dummy_hash is None:
                self._dummy_hash = self._hash("not a password of anyone's")
            return self._dummy_hash

    def authenticate(self, username: str, password: str) -> LoginResult:
        # No valid name holds a NUL, and PostgreSQL refuses one in text (SQLite
        # took it): replaced, it is just a name that does not exist.
        name = normalize_username(username)[:128].replace("\x00", "\ufffd")
        # A cheap look first, so a name under attack is answered without the write lock.
        retry_after = throttle.locked_for(self.db, name, self._clock())
        if retry_after:
            return LoginResult(LoginStatus.THROTTLED, retry_after=retry_after)
        with self.db.write() as conn:
            # Counted as a failure before the check, in the transaction that reads the
            # lock: the next attempt for this name, from any thread or process, sees it.
            retry_after = throttle.count_attempt(conn, name, self._clock())
            if retry_after:
                return LoginResult(LoginStatus.THROTTLED, retry_after=retry_after)
            user = conn.execute("SELECT pw_hash FROM users WHERE username = ?", (name,)).fetchone()

        too_long = len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES
        stored = user[0] if user else self._dummy()
        ok = False
        with self._hash_slots:
            try:
                # An over-long password is never hashed as given; the dummy
                # verification keeps the time similar to a real one.
                ok = self.hasher.verify(stored, "x" if too_long else password)
            except (VerificationError, InvalidHashError):
                ok = False
        ok = ok and user is not None and not too_long
        if not ok:
            return LoginResult(LoginStatus.INVALID)  # already counted

        # Parameters changed since this hash was made: upgrade it now, while we
        # have the plain password (hashed before the transaction: it is slow).
        new_hash = self._hash(password) if self.hasher.check_needs_rehash(stored) else None
        credential = stored
        with self.db.write() as conn:
            throttle.forgive(conn, name)
            if new_hash is not None and conn.execute(
                "UPDATE users SET pw_hash = ?, updated_at = ? WHERE username = ? AND pw_hash = ?",
                (new_hash, self._clock(), name, stored),
            ).rowcount:
                credential = new_hash
            # Otherwise the password changed since it was checked: the stale
            # credential makes start_session refuse.
        return LoginResult(LoginStatus.OK, username=name, credential=credential)
