"""Copies of the store, and putting one back.

A backup is made with SQLite's online backup API from a connection of its own:
in WAL mode its read transaction blocks no writer, so it is safe while the app
runs and writes, and the copy is one consistent moment of the store. A copy is
called done only after `integrity_check` passes on it, and only then gets its
name (written as `.partial`, fsynced, renamed): a crash mid-backup leaves no
file that looks like a backup.

Restoring happens only while the app is closed (the caller holds the instance
lock). The store it replaces is set aside (renamed, never deleted), and the
restored copy's sessions and sign-in failures are cleared: a backup may hold
sessions that were ended since (a password changed, a device revoked), so after
a restore everyone signs in again; accounts, their data and file claims stay.

The daily backups live in DATA_DIR/backups as `<slug>-YYYYmmdd-HHMMSS.sqlite3`;
`prune` keeps the newest N of them.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from desktop_app.errors import StoreError
from desktop_app.identity import current
from desktop_app.store.db import BUSY_TIMEOUT_MS, COMPANIONS, SCHEMA_VERSION, SQLITE_HEADER, set_aside

DAY_SECONDS = 86400
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_STAMP = "%Y%m%d-%H%M%S"


@dataclass(frozen=True)
class Backup:
    path: Path
    made: float  # when it was made (seconds since the epoch)
    size: int
    accounts: int | None = None  # known once checked (make_backup)


def _name_pattern() -> re.Pattern[str]:
    return re.compile(re.escape(current().slug) + r"-(\d{8}-\d{6})(?:-(\d+))?\.sqlite3")


def next_backup_path(folder: Path, now: float) -> Path:
    """`<slug>-YYYYmmdd-HHMMSS.sqlite3` in `folder`; -2, -3 ... after a second one in the same second."""
    stem = f"{current().slug}-{time.strftime(_STAMP, time.localtime(now))}"
    path, n = folder / f"{stem}.sqlite3", 1
    while path.exists() or path.is_symlink():
        n += 1
        path = folder / f"{stem}-{n}.sqlite3"
    return path


def list_backups(folder: Path, *, now: float | None = None) -> list[Backup]:
    """The backups in `folder` made by this app, oldest first (by the time in
    their names, which a copy or a touch does not change). A name later than
    now (a clock that was wrong once) is left out: it would look like the
    newest for ever, and the rotation would keep it and drop the real ones."""
    pattern, found = _name_pattern(), []  # (made, n of -n, backup)
    latest = (time.time() if now is None else now) + 60
    try:
        entries = list(folder.iterdir())
    except OSError:  # none yet, not a folder, not readable: no backups to offer
        return []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not entry.is_file() or entry.is_symlink():
            continue
        try:
            made = time.mktime(time.strptime(match.group(1), _STAMP))
            size = entry.stat().st_size
        except (ValueError, OSError, OverflowError):  # 20261399-...: not a time; or gone meanwhile
            continue
        if made > latest:
            continue
        found.append((made, int(match.group(2) or 1), Backup(path=entry, made=made, size=size)))
    return [backup for *_, backup in sorted(found, key=lambda t: t[:2])]


def latest_usable_backup(folder: Path) -> Backup | None:
    """The newest backup that `check_backup` accepts: what the damaged-store
    screen offers (a damaged newest one must not hide the one before it)."""
    for backup in reversed(list_backups(folder)):
        try:
            check_backup(backup.path)
        except StoreError:
            continue
        return backup
    return None


def make_backup(source: Path, target: Path) -> Backup:
    """Copy the store at `source` to `target` (a new file), checked before it is
    given its name. StoreError, in one line, if it cannot be done; `target` is
    then not there, nor anything half-written beside it."""
    if not source.is_file():
        raise StoreError(f"There is no data store at {str(source)!r} to back up.")
    if target.exists() or target.is_symlink():
        raise StoreError(f"{str(target)!r} already exists; give the backup a new name.")
    with contextlib.suppress(OSError):
        # Beside the store, a backup could take the name of its -wal or -journal
        # (SQLite would delete it at the next open): only its backups folder.
        if os.path.samefile(target.parent, source.parent):
            raise StoreError(f"{str(target)!r} is in the data directory itself; put the backup elsewhere, "
                             f"or leave PATH out for {str(source.parent / 'backups')!r}.")
    partial = target.with_name(target.name + ".partial")
    _remove_with_companions(partial)  # a leftover of a backup cut short (or a symlink): never written through
    try:
        with contextlib.closing(connect(source)) as src, _copied(src, partial) as dst:
            accounts = _check(dst, what=f"The data store {str(source)!r}")
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    except sqlite3.Error as exc:
        _remove_with_companions(partial)
        raise StoreError(f"Could not back up the data store {str(source)!r} to {str(target)!r}: {exc}.") from None
    except OSError as exc:
        _remove_with_companions(partial)
        raise StoreError(f"Could not write the backup {str(target)!r}: {exc.strerror or exc}. "
                         "Check that its folder exists and is writable, and that the disk has room.") from None
    except BaseException:
        _remove_with_companions(partial)
        raise
    return Backup(path=target, made=time.time(), size=target.stat().st_size, accounts=accounts)


def check_backup(path: Path) -> int:
    """The number of accounts in a usable backup; StoreError (one line) if it
    is not one: not a file, not a database, damaged, or from a newer version."""
    if not path.is_file():
        raise StoreError(f"There is no backup file at {str(path)!r}.")
    try:
        with open(path, "rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"Cannot read the backup {str(path)!r}: {exc.strerror or exc}.") from None
    if header != SQLITE_HEADER:
        raise StoreError(f"{str(path)!r} is not a backup of the data store (not a database).")
    wal = path.with_name(path.name + "-wal")
    with contextlib.suppress(OSError):
        if wal.stat().st_size > 0:  # read as immutable, the copy would leave out what the -wal holds
            raise StoreError(f"{str(path)!r} has a -wal file beside it, so it is not a whole backup; "
                             "make one with 'store backup' instead.")
    try:
        with contextlib.closing(_open_unchanged(path)) as conn:
            return _check(conn, what=f"The backup {str(path)!r}")
    except sqlite3.Error as exc:
        raise StoreError(f"The backup {str(path)!r} cannot be read ({exc}).") from None


def restore_backup(backup: Path, store: Path, *, label: str = "replaced") -> Path | None:
    """Put a copy of `backup` in place of the store at `store`, which is set
    aside first, as `<name>.<label>-STAMP` (that name is returned; None if there
    was no store). The caller holds the instance lock. The backup file itself
    is left as it is."""
    with contextlib.suppress(OSError):
        if os.path.samefile(backup, store):
            raise StoreError(f"{str(backup)!r} is the data store itself, not a backup of it.")
    check_backup(backup)
    incoming = store.with_name(store.name + ".restoring")
    _remove_with_companions(incoming)
    try:
        with contextlib.closing(_open_unchanged(backup)) as src, _copied(src, incoming) as dst:
            dst.execute("BEGIN IMMEDIATE")
            dst.execute("DELETE FROM sessions")
            dst.execute("DELETE FROM login_failures")
            dst.execute("COMMIT")
            _check(dst, what=f"The restored copy {str(incoming)!r}")
        _fsync(incoming)
        replaced = set_aside(store, label=label) if store.exists() else None
        os.replace(incoming, store)
        _fsync(store.parent)
    except sqlite3.Error as exc:
        _remove_with_companions(incoming)
        raise StoreError(f"Could not restore {str(backup)!r}: {exc}. The store was left as it was.") from None
    except OSError as exc:
        _remove_with_companions(incoming)
        raise StoreError(f"Could not restore {str(backup)!r}: {exc.strerror or exc}. "
                         "Check that the data directory is writable and the disk has room.") from None
    return replaced


def prune(folder: Path, keep: int, *, now: float | None = None) -> list[Path]:
    """Delete all but the newest `keep` backups in `folder`, and what a backup
    cut short (the process killed) left over an hour ago; return what went."""
    now = time.time() if now is None else now
    backups = list_backups(folder, now=now)
    doomed = [b.path for b in (backups[:-keep] if keep > 0 else backups)]
    cutoff = now - 3600
    pattern = _name_pattern()
    for leftover in folder.glob("*.sqlite3.partial*"):
        stem = leftover.name[: leftover.name.index(".partial")]
        with contextlib.suppress(OSError):
            if pattern.fullmatch(stem) and leftover.lstat().st_mtime < cutoff:
                doomed.append(leftover)
    for path in doomed:
        _remove(path)
    return doomed


def due(folder: Path, now: float) -> bool:
    """Is a daily backup due: none yet, or the newest is a day old (or from
    the future, a clock put back)?"""
    backups = list_backups(folder, now=now)
    return not backups or now - backups[-1].made >= DAY_SECONDS


# -- helpers ---------------------------------------------------------------
@contextlib.contextmanager
def _copied(src: sqlite3.Connection, path: Path) -> Iterator[sqlite3.Connection]:
    """A copy of `src` in a new file at `path`, open: created O_EXCL | O_NOFOLLOW
    (our own file, never one that was put there, nor what a symlink names), and
    in journal mode DELETE: one file, no -wal beside it, copied and moved as it is."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600))
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
        yield dst


def _open_unchanged(path: Path) -> sqlite3.Connection:
    """Read-only and immutable: reading a backup never changes it, nor puts a
    journal beside it (check_backup refuses one with a -wal, which this skips)."""
    return sqlite3.connect("file:" + quote_uri(path) + "?mode=ro&immutable=1", uri=True)


def connect(path: Path) -> sqlite3.Connection:
    """A plain connection for reading a store that exists, perhaps while the
    app writes it. Not `mode=ro`: a read-only connection cannot fold the WAL
    back in when it closes, and left -wal and -shm files behind."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def _check(conn: sqlite3.Connection, *, what: str) -> int:
    """The number of accounts; StoreError naming `what` ("The backup '...'")."""
    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise StoreError(f"{what} failed SQLite's integrity check ({result}).")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"{what} was written by a newer version of the app "
                         f"(schema {version}, this version knows {SCHEMA_VERSION}); install that version to use it.")
    try:
        return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])
    except sqlite3.OperationalError:
        raise StoreError(f"{what} is a database, but not of this app's store.") from None


def quote_uri(path: Path) -> str:
    from urllib.parse import quote

    return quote(str(path.absolute()))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):  # gone already, or a read-only folder: nothing more to do
        path.unlink()


def _remove_with_companions(path: Path) -> None:
    for suffix in ("", *COMPANIONS):
        _remove(path.with_name(path.name + suffix))
