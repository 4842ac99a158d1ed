"""`desktop-app store ...`: the store file's own commands, for a person asking
"where is my data, and can I get it back".

    store info                what is kept where, and how big it is
    store backup [PATH]       a checked copy, safe while the app runs
    store restore PATH        put a backup back (only while the app is closed)
    store set-aside           move a damaged store aside and start fresh
    store init --store URL    create or upgrade a team server's store on PostgreSQL
    store copy --from PATH --to URL   a desktop's accounts and saved values onto it

Every failure is a UserError (one line on stderr, from cli.main). Nothing here
runs at import: the parser is built by `add_commands`, the work by `run`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from desktop_app.errors import DamagedStoreError, UserError
from desktop_app.identity import current
from desktop_app.settings import Settings


def add_commands(sub: argparse._SubParsersAction, add_options: Callable[[argparse.ArgumentParser], None]) -> None:
    store = sub.add_parser("store", help="the data store: info, backups, restore")
    actions = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    add_options(actions.add_parser("info", help="where the data is, how big, the sessions and the last backup"))
    p = actions.add_parser("backup", help="copy the store (safe while the app runs); "
                                          "default: into the data directory's backups folder")
    p.add_argument("path", nargs="?", metavar="PATH", help="the new backup file")
    add_options(p)
    p = actions.add_parser("restore", help="replace the store with a backup (the app must be closed; "
                                           "the current store is kept, renamed)")
    p.add_argument("path", metavar="PATH", help="a backup file, e.g. from the backups folder")
    p.add_argument("--yes", action="store_true", help="do not ask before replacing the store")
    add_options(p)
    add_options(actions.add_parser("set-aside", help="move a damaged store aside (renamed, not deleted) "
                                                     "and start fresh"))
    add_options(actions.add_parser("init", help="create or upgrade the store in the PostgreSQL database "
                                                "that --store names (a team server)"))
    p = actions.add_parser("copy", help="copy a desktop's accounts and saved values to a team server's store "
                                        "(never sessions, never over an account it already has)")
    p.add_argument("--from", dest="source", required=True, metavar="PATH", help="a data directory, or its store file")
    p.add_argument("--to", dest="target", metavar="URL", help="the server's postgresql:// URL (default: --store)")
    add_options(p)


def run(settings: Settings, args: argparse.Namespace) -> int:
    action = args.store_command
    if action == "init":
        return init(settings)
    if action == "copy":
        return copy(settings, Path(args.source), args.target)
    if settings.store_url is not None:
        raise UserError(f"store {action} is for the SQLite store in a data directory; on PostgreSQL use "
                        "its own tools (pg_dump, pg_restore, psql).", exit_code=2)
    if action == "info":
        return info(settings)
    if action == "backup":
        if args.path == "":
            raise UserError("store backup: PATH is empty; give a file name, or leave it out for the backups folder.",
                            exit_code=2)
        return backup(settings, Path(args.path) if args.path is not None else None)
    if action == "restore":
        return restore(settings, Path(args.path), yes=args.yes)
    return set_aside(settings)


# -- PostgreSQL ----------------------------------------------------------------
def init(settings: Settings) -> int:
    from desktop_app.store.pg import migrate, redact

    if settings.store_url is None:
        raise UserError("store init sets up a team server's store: give --store postgresql://USER@HOST/DB "
                        "(the SQLite store in a data directory sets itself up).", exit_code=2)
    found, now = migrate(settings.store_url)
    where = redact(settings.store_url)
    if found == now:
        print(f"The store in {where} is up to date (schema {now}).")
    elif found is None:
        print(f"Created the store in {where} (schema {now}). Add the first account with: "
              f"{current().slug} users add NAME --store URL")
    else:
        print(f"Upgraded the store in {where} from schema {found} to {now}.")
    return 0


def copy(settings: Settings, source: Path, target: str | None) -> int:
    from desktop_app.paths import db_filename
    from desktop_app.store.pg import PgDatabase
    from desktop_app.store.transfer import copy_accounts, read_desktop_store
    from desktop_app.values import parse_store

    url = parse_store(target, name="--to") if target else settings.store_url
    if url is None:
        raise UserError("store copy: say where to, with --to postgresql://USER@HOST/DB.", exit_code=2)
    path = source / db_filename() if source.is_dir() else source
    if not path.is_file():
        raise UserError(f"There is no data store at {str(path)!r}.", exit_code=2)
    users, values = read_desktop_store(path)  # first: a bad source is said before the server is reached
    db = PgDatabase(url)
    try:
        done = copy_accounts(users, values, db)
    finally:
        db.close()
    skipped = f"; skipped {len(done.skipped)} the server already has: {', '.join(done.skipped)}" if done.skipped else ""
    print(f"Copied {len(done.accounts)} account(s) and {done.values} saved value(s) to {db.path}{skipped}.")
    return 0


# -- backup and restore ------------------------------------------------------
def backup(settings: Settings, target: Path | None) -> int:
    from desktop_app.paths import ensure_private_dir
    from desktop_app.store.backups import make_backup, next_backup_path

    if target is None:
        folder = ensure_private_dir(settings.dirs.backups, what="backups folder", flag="--data-dir")
        target = next_backup_path(folder, time.time())
    elif target.is_dir():
        raise UserError(f"{str(target)!r} is a folder; give the backup file's name, e.g. {str(target / 'store.sqlite3')!r}.",
                        exit_code=2)
    made = make_backup(settings.dirs.db_path, target)
    print(f"Backed up {made.accounts} account(s) to {made.path} ({_size(made.size)}), checked.")
    return 0


def restore(settings: Settings, source: Path, *, yes: bool) -> int:
    from desktop_app.store.backups import check_backup, restore_backup

    accounts = check_backup(source)  # before any question: a bad file is said at once
    store = settings.dirs.db_path
    if not yes:  # asked before the lock is taken: an open question must not keep the app from starting
        _confirm(f"Replace the data store {str(store)!r} with the backup {str(source)!r} "
                 f"({accounts} account(s))? Everyone signs in again; the current store is kept, renamed.")
    with _app_closed(settings):
        replaced = restore_backup(source, store)
    kept = f" The store it replaced is kept as {replaced}." if replaced else ""
    print(f"Restored {accounts} account(s) from {source}.{kept}")
    return 0


def set_aside(settings: Settings) -> int:
    """The person's explicit "start fresh" after a damaged store. Only a store
    that really cannot be read is moved, and only while no app runs on it."""
    from desktop_app.store.db import Database
    from desktop_app.store.db import set_aside as move_aside

    path = settings.dirs.db_path
    if not path.exists():
        raise UserError(f"There is no data store at {str(path)!r}; nothing to set aside.")
    with _app_closed(settings):
        try:
            Database(path).close()
        except DamagedStoreError:
            moved = move_aside(path)
            print(f"Moved the damaged store to {moved}. The next start begins with no accounts.")
            return 0
    raise UserError(f"The data store {str(path)!r} opens fine, so it was not moved.")


def damaged_store_hint(settings: Settings) -> str:
    """What to run after a damaged store: restore the last backup, if there is one, or start fresh."""
    from desktop_app.store.backups import latest_usable_backup

    slug, where = current().slug, shlex.quote(str(settings.data_dir))
    last = latest_usable_backup(settings.dirs.backups)
    fresh = f"move it aside and start fresh: {slug} store set-aside --data-dir {where}"
    if last is None:
        return f"To {fresh}"
    made = time.strftime("%Y-%m-%d %H:%M", time.localtime(last.made))
    return (f"To restore the last backup ({made}): {slug} store restore {shlex.quote(str(last.path))} "
            f"--data-dir {where}; or to {fresh}")


@contextlib.contextmanager
def _app_closed(settings: Settings) -> Iterator[None]:
    from desktop_app.instance import InstanceLock
    from desktop_app.paths import ensure_private_dir

    ensure_private_dir(settings.data_dir, what="data directory", flag="--data-dir")
    lock = InstanceLock(settings.data_dir)
    if not lock.acquire():
        raise UserError(f"{current().slug} is running on the data directory {str(settings.data_dir)!r}; close it first.")
    try:
        yield
    finally:
        lock.release()


def _confirm(question: str) -> None:
    if not sys.stdin or not sys.stdin.isatty():
        raise UserError("There is no terminal to answer the question; add --yes to restore without asking.",
                        exit_code=2)
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise UserError("Not restored; nothing was changed.")


# -- info ----------------------------------------------------------------------
def info(settings: Settings) -> int:
    """Read-only: works while the app runs, and creates nothing."""
    from desktop_app.store.backups import list_backups

    dirs = settings.dirs
    rows: list[tuple[str, str]] = []
    store = dirs.db_path
    if store.is_file():
        rows.append(("Data store", f"{store} ({_size(_store_size(store))})"))
        rows += _store_counts(store, settings)
    else:
        rows.append(("Data store", f"{store} (not created yet)"))
    files, size = _folder_size(dirs.gradio_temp)
    rows.append(("Temporary files", f"{dirs.gradio_temp} ({files} file(s), {_size(size)}; "
                                    f"removed after {_duration(settings.temp_max_age_seconds)} unused)"))
    log_files, log_size = _folder_size(dirs.log)
    rows.append(("Logs", f"{dirs.log} ({log_files} file(s), {_size(log_size)})"))
    backups = list_backups(dirs.backups)
    if backups:
        last = backups[-1]
        rows.append(("Backups", f"{dirs.backups} ({len(backups)}, {_size(sum(b.size for b in backups))}; "
                                f"the last {time.strftime('%Y-%m-%d %H:%M', time.localtime(last.made))}: {last.path.name})"))
    else:
        rows.append(("Backups", f"{dirs.backups} (none yet)"))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label + ':':<{width + 1}} {value}")
    return 0


def _store_counts(store: Path, settings: Settings) -> list[tuple[str, str]]:
    from desktop_app.store.backups import connect
    from desktop_app.store.sessions import FROM_LIVE, KEPT, LIVE

    now = time.time()
    bounds = (now - settings.session_idle_seconds, now - settings.session_max_seconds)
    try:
        with contextlib.closing(connect(store)) as conn:  # reads only
            one = lambda sql, *a: conn.execute(sql, a).fetchone()[0]  # noqa: E731
            check = one("PRAGMA quick_check")
            version = one("PRAGMA user_version")
            accounts = one("SELECT count(*) FROM users")
            sessions = one("SELECT count(*) FROM sessions")
            live = one(f"SELECT count(*) {FROM_LIVE} WHERE {LIVE}", *bounds)
            kept = one(f"SELECT count(*) {FROM_LIVE} WHERE {LIVE} AND {KEPT['sqlite']}", *bounds)
            values = one("SELECT count(*) FROM user_data")
    except sqlite3.Error as exc:
        raise UserError(f"Cannot read the data store {str(store)!r} ({exc}). {damaged_store_hint(settings)}") from None
    health = "ok" if check == "ok" else f"DAMAGED ({check}); see '{current().slug} store restore'"
    return [("Check", health), ("Schema", str(version)), ("Accounts", str(accounts)),
            ("Sessions", f"{live} live ({kept} kept signed in), {sessions - live} ended, purged hourly while running"),
            ("Saved values", str(values))]


def _store_size(store: Path) -> int:
    from desktop_app.store.db import COMPANIONS

    total = 0
    for suffix in ("", *COMPANIONS):
        with contextlib.suppress(OSError):
            total += os.stat(store.with_name(store.name + suffix)).st_size
    return total


def _folder_size(folder: Path) -> tuple[int, int]:
    files = size = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(OSError):
                size += os.lstat(os.path.join(root, name)).st_size
                files += 1
    return files, size


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    raise AssertionError


def _duration(seconds: int) -> str:
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % length == 0:
            return f"{seconds // length}{unit}"
    return f"{seconds}s"
