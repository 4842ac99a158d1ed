"""`store copy`: a desktop's accounts and their saved values, moved to a team
server's store (any StoreDatabase; PostgreSQL in practice).

What goes: each account (its name, argon2id hash and dates: the person signs in
with the password they had) and its per-user values. What does not: sessions
(everyone signs in on the server), sign-in failures, and the claims on Gradio's
temp files (those files are on the desktop's disk). An account whose name the
server already has is skipped with its values, never merged or overwritten:
that name may be someone else there. All of it is one write transaction, so a
copy is wholly done or not at all, and running it again copies nothing twice.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.errors import StoreError
from desktop_app.store.backups import connect
from desktop_app.store.db import SQLITE_HEADER, StoreDatabase


@dataclass
class Copied:
    accounts: list[str] = field(default_factory=list)
    values: int = 0
    skipped: list[str] = field(default_factory=list)  # already on the server


def read_desktop_store(path: Path) -> tuple[list[tuple], list[tuple]]:
    """(users rows, user_data rows) of the SQLite store at `path`, read in one
    transaction (the desktop app may be running: WAL lets it write meanwhile)."""
    try:
        with open(path, "rb") as f:
            if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                raise StoreError(f"{str(path)!r} is not a data store (not a SQLite database).")
    except OSError as exc:
        raise StoreError(f"Cannot read {str(path)!r}: {exc.strerror or exc}.") from None
    try:
        with contextlib.closing(connect(path)) as conn:  # reads only
            conn.execute("BEGIN")
            users = conn.execute("SELECT username, pw_hash, created_at, updated_at FROM users").fetchall()
            values = conn.execute("SELECT username, key, value, updated_at FROM user_data").fetchall()
            conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot read the data store {str(path)!r}: {exc}.") from None
    return users, values


def copy_accounts(users: list[tuple], values: list[tuple], db: StoreDatabase) -> Copied:
    done = Copied()
    with db.write() as conn:
        for username, pw_hash, created_at, updated_at in users:
            if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                done.skipped.append(username)
                continue
            conn.execute("INSERT INTO users (username, pw_hash, created_at, updated_at) VALUES (?, ?, ?, ?)",
                         (username, pw_hash, created_at, updated_at))
            done.accounts.append(username)
        copied = set(done.accounts)
        for username in copied:  # values left by an account deleted there: never inherited
            conn.execute("DELETE FROM user_data WHERE username = ?", (username,))
        for username, key, value, updated_at in values:
            if username in copied:
                conn.execute("INSERT INTO user_data (username, key, value, updated_at) VALUES (?, ?, ?, ?)",
                             (username, key, value, updated_at))
                done.values += 1
    return done
