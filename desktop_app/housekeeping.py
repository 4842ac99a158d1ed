"""Housekeeping: what keeps a long run bounded. `Runtime.watch` calls these once
the UI's build is a few seconds behind, then hourly. A failure is logged and
tried again next time; only the store's steps hold the lock `Runtime.stop` waits for.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from desktop_app.errors import Cancelled
from desktop_app.paths import ensure_private_dir

if TYPE_CHECKING:
    from desktop_app.runtime import Runtime

log = logging.getLogger("desktop_app.runtime")  # the lines it always wrote: a log watcher's patterns hold


def purge_sessions(runtime: Runtime) -> None:
    """Sessions past their idle or absolute timeout are deleted: the gate
    already refuses them, and without this the table only grows."""
    store = runtime.store
    try:
        purged = runtime.unless_stopping(store.sessions.purge_expired) if store else 0
    except Cancelled:
        return
    except Exception as exc:  # a busy or full disk must not end the app
        log.warning("housekeeping: could not purge expired sessions, will try again: %s", exc)
        return
    log.info("housekeeping: %d expired session(s) purged", purged)


def sweep_files(runtime: Runtime) -> None:
    """Gradio's temp files nobody was given for --temp-max-age are deleted
    (files.FileOwners.choose_stale says which stay)."""
    store, loader = runtime.store, runtime.loader
    if store is None or loader is None:
        return
    older_than = time.time() - runtime.settings.temp_max_age_seconds
    try:
        candidates = store.files.old_files(older_than)  # no lock: a walk may be long
        removed = 0
        if candidates and not runtime.should_exit.is_set():
            stale = runtime.unless_stopping(lambda: store.files.choose_stale(
                candidates, older_than=older_than, live=store.sessions.live_bounds(),
                keep=loader.shared_files or ()))
            removed = store.files.remove_if_still_old(stale, older_than)
    except Cancelled:
        return
    except Exception as exc:
        log.warning("housekeeping: could not remove old temporary files, will try again: %s", exc)
        return
    log.info("housekeeping: %d temporary file(s) removed", removed)


def back_up_daily(runtime: Runtime) -> None:
    """A checked copy of the store at most once a day in DATA_DIR/backups,
    the newest --keep-backups kept: a damaged store can come back without
    anyone having thought of it. From a connection of its own, so it holds
    no lock of the app's (SQLite's backup API lets the app write meanwhile)."""
    from desktop_app.store import backups

    folder, keep = runtime.settings.dirs.backups, runtime.settings.keep_backups
    if keep == 0 or runtime.settings.store_url is not None:  # PostgreSQL is backed up with its own tools
        return
    try:
        if not backups.due(folder, time.time()):
            return
        ensure_private_dir(folder, what="backups folder", flag="--data-dir")
        made = backups.make_backup(runtime.settings.dirs.db_path, backups.next_backup_path(folder, time.time()))
        removed = backups.prune(folder, keep)
    except Exception as exc:
        log.warning("housekeeping: could not back up the store, will try again: %s", exc)
        return
    log.info("housekeeping: store backed up to %s (%d account(s)), %d old backup(s) removed",
             made.path.name, made.accounts, len(removed))
