"""The SQLite file behind accounts, sessions and per-user data.

Why SQLite and not JSON files: measured on this project's machine, random kill -9
during writes tore naive JSON files 22 times in 60 and never tore a WAL database
(see ../shared/DESIGN.md). Every write here is one `BEGIN IMMEDIATE ... COMMIT`
with `synchronous=FULL`, so a crash leaves each record wholly old or wholly new.

A file that is not a database, or was written by a newer version, is reported in
one line and left exactly as it is: we never overwrite what we cannot read. A
damaged one can be set aside (renamed, never deleted) when the person asks for a
fresh start: `desktop-app store set-aside`, or the button on the window's error screen.
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from desktop_app.errors import DamagedStoreError, StoreBusy, StoreError

# 2: user_files (which account was given which of Gradio's temp files). Every
# statement below is IF NOT EXISTS, so opening an older store adds what it lacks.
SCHEMA_VERSION = 2

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS users (
    username    TEXT PRIMARY KEY,
    pw_hash     TEXT NOT NULL,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    username     TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until REAL NOT NULL,
    last_failure REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash     TEXT PRIMARY KEY,
    username    TEXT NOT NULL,
    created_at  REAL NOT NULL,
    last_seen   REAL NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions(username);
CREATE TABLE IF NOT EXISTS user_data (
    username    TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  REAL NOT NULL,
    PRIMARY KEY (username, key)
);
CREATE TABLE IF NOT EXISTS user_files (
    path        TEXT NOT NULL,
    username    TEXT NOT NULL,
    created_at  REAL NOT NULL,
    PRIMARY KEY (path, username)
);
CREATE INDEX IF NOT EXISTS user_files_by_user ON user_files(username);
"""

BUSY_TIMEOUT_MS = 10_000
# SQLite's primary result codes: "this file is not (or no longer) a database",
# and the two ways a write fails for reasons outside the app.
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
_SQLITE_READONLY, _SQLITE_FULL = 8, 13
_SQLITE_BUSY = 5  # another connection holds the lock
COMPANIONS = ("-wal", "-shm", "-journal")  # the files SQLite keeps beside a database
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite 3 database


def _damaged(path: Path, detail: str) -> DamagedStoreError:
    return DamagedStoreError(
        f"The data store {str(path)!r} is damaged ({detail}) and was left untouched. "
        "Restore a backup, or move it aside and start again with no accounts.",
        path=path,
    )


def set_aside(path: Path, *, now: float | None = None, label: str = "damaged") -> Path:
    """Rename a damaged store (and its -wal/-shm/-journal files) out of the way,
    to `<name>.damaged-YYYYmmdd-HHMMSS` (`.replaced-...` when a backup is put in
    its place), so the next start creates a fresh one. Nothing is deleted: the
    person or a helper can still try to recover it."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    target = path.with_name(f"{path.name}.{label}-{stamp}")
    n = 1
    while target.exists():  # two set-asides in one second keep both
        n += 1
        target = path.with_name(f"{path.name}.{label}-{stamp}-{n}")
    moved: list[tuple[Path, Path]] = []
    try:
        for suffix in COMPANIONS:  # companions first: the main file is what marks "still there"
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                os.replace(companion, target.with_name(target.name + suffix))
                moved.append((target.with_name(target.name + suffix), companion))
        os.replace(path, target)
    except OSError:
        # The main file would not move: its -wal (commits not yet in the file)
        # must not stay apart from it. Put everything back as it was.
        for now_at, was_at in reversed(moved):
            with contextlib.suppress(OSError):
                os.replace(now_at, was_at)
        raise
    return target


class StoreDatabase(Protocol):
    """What the store modules use of a database: SQLite's `Database` here, or
    PostgreSQL's (pg.PgDatabase). `write()` is one transaction, serialized with
    every other writer; the connection takes `?` placeholders."""

    dialect: str
    path: Any  # what messages name: a file, or a URL without its password

    def write(self, *, wait: bool = True) -> contextlib.AbstractContextManager[Any]: ...

    def read(self) -> contextlib.AbstractContextManager[Any]: ...

    def close(self) -> None: ...


def _begin_immediate(conn: sqlite3.Connection, *, wait: bool = True) -> None:
    """BEGIN IMMEDIATE, retried every fraction of a millisecond while another
    connection holds the write lock, for up to BUSY_TIMEOUT_MS.

    Not SQLite's busy handler: it sleeps 1, 2, 5 ... then 100 ms between tries,
    and a writer in another process that commits and begins again at once holds
    the lock at nearly every one of them. Measured here with three such writers:
    8 saves in 6 s, the slowest 1.3 s. A try is one lock call, so trying often
    costs little, and a waiting writer takes the lock in the gaps between the
    others' transactions. Only the BEGIN is retried: in WAL mode, once it holds
    the write lock a transaction does not wait again."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    conn.execute("PRAGMA busy_timeout = 0")  # a pragma costs microseconds; the usual BEGIN succeeds at once
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = getattr(exc, "sqlite_errorcode", 0) & 0xFF == _SQLITE_BUSY
                if busy and not wait:
                    raise StoreBusy() from None
                if not busy or time.monotonic() > deadline:
                    raise
            time.sleep(random.uniform(0.0001, 0.0005))
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


class Database:
    """One connection, serialised by a lock, shared by the server's threads.
    (pg.PgDatabase is the same three methods on PostgreSQL.)

    SQLite statements here take well under a millisecond, so a lock is simpler
    and no slower than a pool. Other processes (the `users` CLI while the app
    runs) are handled by SQLite's own locking plus `busy_timeout`.
    """

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = self._open(path)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        hint = "Move it aside (or restore a backup) and start again; it was left untouched."
        if path.exists() and not path.is_file():
            raise StoreError(f"The data store {str(path)!r} is not a file. {hint}")
        # Look at the header before SQLite does: on a file that is not a database,
        # SQLite's open can still delete a -wal file beside it, and we promise to
        # leave everything of an unreadable store as it is.
        try:
            with open(path, "rb") as f:
                header = f.read(len(SQLITE_HEADER))
        except FileNotFoundError:
            header = b""
        except OSError as exc:
            raise StoreError(
                f"Cannot read the data store {str(path)!r}: {exc.strerror or exc}. "
                "Check the permissions of the data directory or choose another with --data-dir."
            ) from None
        if header and header != SQLITE_HEADER:
            raise _damaged(path, "file is not a database")
        try:
            # Create the file ourselves so it is owner-only from its first byte;
            # SQLite gives the -wal and -shm files the same mode.
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
            conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
            )
        except OSError as exc:
            raise StoreError(
                f"Cannot open the data store {str(path)!r}: {exc.strerror or exc}. "
                "Check the permissions of the data directory or choose another with --data-dir."
            ) from None
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open the data store {str(path)!r}: {exc}. {hint}") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Reading the schema version is the first read of the file: a file
            # that is not a database fails here, before anything is written.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"The data store {str(path)!r} was written by a newer version of the app "
                    f"(schema {version}, this version knows {SCHEMA_VERSION}). "
                    "Install the newer version again; the file was left untouched."
                )
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise _damaged(path, check)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            if version < SCHEMA_VERSION:
                conn.execute("BEGIN IMMEDIATE")
                # executescript() would COMMIT first; one statement at a time keeps
                # the whole migration inside this transaction.
                for statement in SCHEMA_SQL.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
        except StoreError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
                raise _damaged(path, str(exc)) from None
            raise StoreError(f"Cannot read the data store {str(path)!r}: {exc}. {hint}") from None
        return conn

    @contextlib.contextmanager
    def write(self, *, wait: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE takes the write lock up front, so
        two processes never deadlock half-way through a read-then-write.
        `wait=False`: StoreBusy at once if another process is writing (for
        bookkeeping that may be skipped)."""
        with self._lock:
            conn = self._conn
            try:
                _begin_immediate(conn, wait=wait)
            except sqlite3.Error as exc:
                raise self._write_error(exc) from None
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")  # the record stays wholly as it was
                if isinstance(exc, sqlite3.Error):
                    raise self._write_error(exc) from None
                raise

    def _write_error(self, exc: sqlite3.Error) -> StoreError:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        where = str(self.path)
        if code == _SQLITE_FULL:
            return StoreError(f"The disk that holds the data store {where!r} is full, so this was not saved. "
                              "Free some space and try again.",
                              public="The disk is full, so this was not saved. Free some space and try again.")
        if code == _SQLITE_READONLY:
            return StoreError(f"The data store {where!r} cannot be written ({exc}). "
                              "Check that the data directory is writable.",
                              public="The app's data cannot be written, so this was not saved. "
                                     "Check that its data folder is writable.")
        return StoreError(f"Cannot write the data store {where!r}: {exc}.")

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def close(self) -> None:
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                # Fold the WAL back into the main file so a copied data dir is complete.
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.close()
