"""Which account each of Gradio's temp files belongs to.

Gradio keeps every upload and every file an event returns in one folder shared
by all users of the process (named by a hash of the content), and its `file=`
route serves any of them to anyone who has the path. The shell records who was
given each file (GradioShield claims it when Gradio answers an upload or an
event) and serves a file in that folder only to an account that holds a claim.
Files the UI itself carries (a component's default value, an example) are
claimed for everyone with the name SHARED.

The claims live in the store, not in memory, so `desktop-app users delete` in
another process can delete that account's files: a file goes once no other
account, and not everyone, still holds it. Nothing of HTTP or Gradio here.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

from desktop_app.store.db import StoreDatabase
from desktop_app.store.sessions import FROM_LIVE, LIVE

SHARED = ""  # the owner of files that are part of the UI itself, for every account


def normalize(path: str | os.PathLike[str]) -> str:
    """One spelling per file: absolute, symlinks resolved (as Gradio resolves them
    before serving: `/proc/self/root/<temp>/...` is the temp folder too), `..`
    and `.` folded, case folded where the file system ignores case. Raises
    OSError where a part of the path cannot be read (`/proc/1/root`)."""
    path = os.fspath(path)
    if "\0" in path:  # no file has such a name; realpath would raise
        return os.path.normcase(os.path.abspath(path.replace("\0", "")))
    return os.path.normcase(os.path.realpath(path))


def spellings(path: str) -> set[str]:
    """The files a client's `path` may name: resolved as the kernel resolves it
    (symlinks first), and as Gradio opens it (`..` folded first, by abspath, then
    resolved). `/bin/../<temp>/f` is `<temp>/f` to Gradio but `/<temp>/f`'s
    parent's parent to the kernel when /bin is a link; a check must cover both."""
    return {normalize(path), normalize(os.path.abspath(path))}


class FileOwners:
    def __init__(self, db: StoreDatabase, folder: Path) -> None:
        self.db = db
        self.folder = normalize(folder)  # Gradio's temp folder: the only files claims are about

    def covers(self, path: str) -> bool:
        """True if `path` (normalized) is inside Gradio's temp folder."""
        return path.startswith(self.folder + os.sep)

    def claim(self, username: str, paths: Iterable[str], *, session_id: str | None = None) -> int | None:
        """Record that `username` was given these files; returns how many were new.
        With `session_id` (the session the answer goes to), only while that session
        lives, checked in the same transaction: a file an event made after its
        account was deleted belongs to nobody (None is returned, and the files
        nobody holds are deleted), not to the next account of that name."""
        rows = [p for p in {normalize(p) for p in paths} if self.covers(p)]
        if not rows:
            return 0
        now = time.time()
        with self.db.write() as conn:
            if session_id is not None and conn.execute(
                "SELECT 1 FROM sessions WHERE id_hash = ? AND username = ?", (session_id, username)
            ).fetchone() is None:
                orphans = [p for p in rows if conn.execute(
                    "SELECT 1 FROM user_files WHERE path = ?", (p,)).fetchone() is None]
            else:
                new = sum(conn.execute(
                    "INSERT INTO user_files (path, username, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (p, username, now)).rowcount for p in rows)
                # A file's time is when it was last given out: `choose_stale` keeps
                # what a page open since then may still show.
                for p in rows:
                    with contextlib.suppress(OSError):
                        os.utime(p)
                return new
        self.remove(orphans)
        return None

    def allowed(self, username: str, path: str) -> bool:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM user_files WHERE path = ? AND username IN (?, ?) LIMIT 1",
                (normalize(path), username, SHARED),
            ).fetchone()
        return row is not None

    def forget_user(self, conn, username: str) -> list[str]:
        """Inside the caller's write transaction (the account's deletion): drop the
        account's claims; returns the files that nobody holds any more, to delete
        with `remove` once the transaction has committed."""
        orphans = [row[0] for row in conn.execute(
            "SELECT path FROM user_files AS mine WHERE username = ? AND NOT EXISTS "
            "(SELECT 1 FROM user_files AS other WHERE other.path = mine.path AND other.username != ?)",
            (username, username),
        )]
        conn.execute("DELETE FROM user_files WHERE username = ?", (username,))
        return orphans

    # -- housekeeping: old temp files (housekeeping.sweep_files) -----------
    # Deleting is in three steps so that the slow ones (walking the folder,
    # unlinking) hold no lock: `old_files`, then `choose_stale` in one write
    # transaction, then `remove_if_still_old`.

    def old_files(self, older_than: float) -> list[str]:
        """Gradio's cached files (FOLDER/<content hash>/<name>, nothing else: a
        cache folder the person pointed at may hold other things) whose time is
        before `older_than`."""
        found = []
        with contextlib.suppress(OSError):
            for hashed in os.scandir(self.folder):
                if not (_GRADIO_HASH.fullmatch(hashed.name) and hashed.is_dir(follow_symlinks=False)):
                    continue
                with contextlib.suppress(OSError):
                    for entry in os.scandir(hashed.path):
                        if entry.is_file(follow_symlinks=False) and _age_of(entry.path) < older_than:
                            found.append(normalize(entry.path))
        return found

    def choose_stale(self, candidates: Iterable[str], *, older_than: float, live: tuple[float, float],
                     keep: Iterable[str] = ()) -> list[str]:
        """Of `candidates`, the files nobody may still be shown, with their claims
        deleted; the caller then removes them (remove_if_still_old).

        Kept: `keep` (the running UI's own files), files claimed SHARED, and a file
        that an account holding it may still be showing: one of its live sessions
        (`live`: SqlSessionStore.live_bounds) began before the file was last
        given out (its time: `claim` sets it, in its own write transaction, so the
        time read here, inside this one, is current)."""
        keep = {normalize(p) for p in keep}
        stale = []
        with self.db.write() as conn:
            for path in candidates:
                if path in keep:
                    continue
                given = _age_of(path)
                if given >= older_than:
                    continue  # given out again since it was found
                if conn.execute("SELECT 1 FROM user_files WHERE path = ? AND username = ?",
                                (path, SHARED)).fetchone() is not None:
                    continue
                first = conn.execute(f"SELECT MIN(s.created_at) {FROM_LIVE} JOIN user_files f ON f.username = "
                                     f"s.username WHERE f.path = ? AND {LIVE}", (path, *live)).fetchone()[0]
                if first is None or first > given:
                    stale.append(path)
            conn.executemany("DELETE FROM user_files WHERE path = ?", [(p,) for p in stale])
        return stale

    def remove_if_still_old(self, paths: Iterable[str], older_than: float) -> int:
        return self.remove(path for path in paths if _age_of(path) < older_than)

    def remove(self, paths: Iterable[str]) -> int:
        """Delete these files (and the folders Gradio made for them, once empty).
        Only ever inside Gradio's temp folder, whatever the store says."""
        removed = 0
        for path in paths:
            path = normalize(path)
            if not self.covers(path):
                continue
            target = Path(path)
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
                target.unlink()
                removed += 1
            parent = target.parent
            while normalize(parent) != self.folder and self.covers(normalize(parent)):
                try:
                    parent.rmdir()  # only if empty
                except OSError:
                    break
                parent = parent.parent
        return removed


# Gradio names each cached file's folder by a hash of its content (sha1/sha256 in hex).
_GRADIO_HASH = re.compile(r"[0-9a-f]{32,64}")


def _age_of(path: str) -> float:
    """When the file was made or last given out: the later of its own time and
    its folder's. Gradio copies a file into its cache with copy2, which keeps
    the source's (old) time, but the copy lands in a folder it has just made or
    written to; `claim` sets the file's time. Missing: now (nothing to delete)."""
    try:
        return max(os.lstat(path).st_mtime, os.lstat(os.path.dirname(path)).st_mtime)
    except OSError:
        return time.time()
