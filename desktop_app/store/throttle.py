"""Login throttling, by name: after FREE_FAILURES failed sign-ins, each further
failure locks the name for 1, 2, 4 ... up to MAX_LOCK_SECONDS.

Kept in the store (table `login_failures`), not in memory, so every process
and thread sees the same count: the CLI, a second instance, a team server's
other instances. Accounts.authenticate counts each attempt as a failure before
its password is checked, in the write transaction that reads the lock, and
forgives it if it succeeds (see accounts.py for why that closes the races).
"""

from __future__ import annotations

import sqlite3

from desktop_app.store.db import StoreDatabase

FREE_FAILURES = 5
MAX_LOCK_SECONDS = 900
# Failures older than this are forgotten, so random names cannot grow the table forever.
FAILURE_MEMORY_SECONDS = 86400


def lock_seconds(failures: int) -> int:
    if failures < FREE_FAILURES:
        return 0
    return min(2 ** (failures - FREE_FAILURES), MAX_LOCK_SECONDS)


def locked_for(db: StoreDatabase, name: str, now: float) -> int:
    """A cheap look, without the write lock: seconds `name` is still locked for, or 0."""
    with db.read() as conn:
        row = conn.execute("SELECT locked_until FROM login_failures WHERE username = ?", (name,)).fetchone()
    return max(1, round(row[0] - now)) if row and row[0] > now else 0


def count_attempt(conn: sqlite3.Connection, name: str, now: float) -> int:
    """Inside a write transaction: seconds the name is still locked for, or 0
    after counting this attempt as a failure (a success forgives it)."""
    row = conn.execute(
        "SELECT failures, locked_until FROM login_failures WHERE username = ?", (name,)
    ).fetchone()
    if row and row[1] > now:
        return max(1, round(row[1] - now))
    failures = (row[0] if row else 0) + 1
    conn.execute(
        "INSERT INTO login_failures (username, failures, locked_until, last_failure) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET "
        "failures = excluded.failures, locked_until = excluded.locked_until, "
        "last_failure = excluded.last_failure",
        (name, failures, now + lock_seconds(failures), now),
    )
    conn.execute("DELETE FROM login_failures WHERE last_failure < ?", (now - FAILURE_MEMORY_SECONDS,))
    return 0


def forgive(conn: sqlite3.Connection, name: str) -> None:
    """Inside the write transaction of a sign-in that succeeded."""
    conn.execute("DELETE FROM login_failures WHERE username = ?", (name,))
