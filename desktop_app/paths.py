"""Where files live. The only module that asks platformdirs.

Default locations follow each OS's conventions (XDG on Linux, ~/Library on macOS,
%LOCALAPPDATA% on Windows). When the user names a data directory, the cache and
log directories move inside it unless named too, so one flag (or one temp dir in a
test) keeps everything the app writes in one place.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from desktop_app.errors import UserError
from desktop_app.identity import current

INSTANCE_LOCK = "instance.lock"
INSTANCE_INFO = "instance.json"
WINDOW_GEOMETRY = "window.json"
LAST_PORT = "last-port"  # the server's port in the last windowed run (runtime.py)
WEBVIEW_STORAGE = "webview"  # the window's cookies and cache
BACKUPS = "backups"  # the store's daily copies (store/backups.py)


def db_filename() -> str:
    """The store's file: desktop-app.sqlite3 for the demo, the slug's for an app
    made with `desktop-app build` (a person may see it in a message)."""
    return f"{current().slug}.sqlite3"


@dataclass(frozen=True)
class AppDirs:
    data: Path
    cache: Path
    log: Path

    @property
    def db_path(self) -> Path:
        return self.data / db_filename()

    @property
    def backups(self) -> Path:
        return self.data / BACKUPS

    @property
    def gradio_temp(self) -> Path:
        return self.cache / "gradio"

    @property
    def log_file(self) -> Path:
        return self.log / f"{current().slug}.log"

    def private_paths(self) -> list[Path]:
        """What Gradio's file route must never serve: the whole data dir, or,
        when the cache (Gradio's own temp files) lives inside it, everything
        in it but the cache; and the logs."""
        if not self.gradio_temp.is_relative_to(self.data):
            return [self.data, self.log]
        db = db_filename()
        names = [db, *(db + suffix for suffix in ("-wal", "-shm", "-journal")),
                 INSTANCE_LOCK, INSTANCE_INFO, WINDOW_GEOMETRY, LAST_PORT, WEBVIEW_STORAGE, BACKUPS]
        return [self.data / name for name in names] + [self.log]


def resolve_dirs(
    data: Path | None = None, cache: Path | None = None, log: Path | None = None
) -> AppDirs:
    """Pick the three directories; nothing is created here."""
    import platformdirs  # imported here so importing this module stays cheap

    if data is None:
        app = current()
        data = platformdirs.user_data_path(app.slug, app.author)
        cache = cache or platformdirs.user_cache_path(app.slug, app.author)
        log = log or platformdirs.user_log_path(app.slug, app.author)
    else:
        data = data.expanduser().absolute()
        cache = cache or data / "cache"
        log = log or data / "logs"
    return AppDirs(data=data, cache=cache.expanduser().absolute(), log=log.expanduser().absolute())


def ensure_private_dir(path: Path, *, what: str, flag: str) -> Path:
    """Make sure `path` is a directory only we can change, and return it.

    What is missing is created owner-only (0700): the leaf and every parent this
    call creates, as the XDG base-directory spec asks of the directories an app
    makes, so a new `--data-dir ~/a/b/data` does not leave ~/a open to listing.
    A directory that already exists is the person's (or the system's: `--data-dir
    /tmp`) and is never chmod-ed. It is refused if someone else could replace what
    we keep in it (see _refusal); one that others may only read (0755) is used as
    it is: their choice, and what we keep there is owner-only itself (the store's
    files are 0600, the logs and cache directories we create 0700).
    """
    try:
        if not _make_dirs(path):
            reason = _refusal(path)
            if reason:
                raise UserError(f"Cannot use {what} {str(path)!r}: {reason}. Choose another with {flag}.")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UserError(
            f"Cannot use {what} {str(path)!r}: {reason}. Choose another with {flag}."
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(
            f"Cannot write to {what} {str(path)!r}: {_why_not_writable(path)}. Choose another with {flag}."
        )
    return path


def keep_new_files_private() -> None:
    """Everything this process creates from now on is the owner's alone: 0700
    folders, 0600 files, whoever creates them. Our own writes choose their modes,
    but the log handler, Gradio (its temp folders and uploads), the webview's
    storage and its helper processes (which inherit the mask) take the umask's,
    which left logs 0644 and Gradio's folders 0755. Called once, at the edge
    (cli.main), before the app writes anything; never in a library import, and
    not for `init` and `build`, whose files are the developer's to share.
    Programs started for the person (their browser) get theirs back:
    `persons_umask`."""
    global _persons_umask
    if os.name == "posix" and _persons_umask is None:
        _persons_umask = os.umask(0o077)


_persons_umask: int | None = None


def persons_umask() -> int | None:
    """The umask the app was started with, for a program it starts on the
    person's behalf (subprocess.Popen's umask=, in the child only: changing
    the process's own, even briefly, would open the files other threads make
    meanwhile). None: not changed, nothing to give back."""
    return _persons_umask


def _make_dirs(path: Path) -> bool:
    """`mkdir -p` that creates each missing directory 0700; True if `path` itself was made.
    (Path.mkdir(parents=True) gives the parents the umask's mode, not ours.)"""
    try:
        os.mkdir(path, 0o700)
    except FileNotFoundError:
        if path.parent == path:
            raise
        _make_dirs(path.parent)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:  # made by someone else meanwhile: checked like any existing one
            return False
    except FileExistsError:
        return False
    if os.name == "posix":
        os.chmod(path, 0o700)  # ours, just made: a umask such as 0277 must not leave it unwritable
    return True


def _refusal(path: Path) -> str | None:
    """Why an existing `path` must not hold our store, or None if it may.

    Write access to a directory is the power to delete, rename and replace what
    is in it: the store (every password hash), the instance lock, the logs. So
    the directory must be ours and writable by no one else. Group-writable is
    refused too: we cannot tell whether the group is just this person (a user-private
    group) or a shared one (`users`, `staff`), and the app never creates such a
    directory itself, so only a shared directory named by hand is turned away. The
    sticky bit (/tmp's 1777) does not help: others can still create our file names
    first. Windows has ACLs, not these bits (st_mode says 0777 for every directory).
    """
    st = path.stat()  # follows a symlink: a data dir linked to another disk is fine
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if os.name != "posix":
        return None
    if st.st_uid != os.geteuid():
        return f"it belongs to another user (uid {st.st_uid}), who could replace what the app keeps there"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (f"other users can write to it (mode {stat.S_IMODE(st.st_mode):04o}), "
                "so they could replace what the app keeps there")
    return None


def _why_not_writable(path: Path) -> str:
    # os.access says only no; a read-only disk is worth naming, since no chmod fixes it.
    try:
        if hasattr(os, "statvfs") and os.statvfs(path).f_flag & os.ST_RDONLY:
            return "Read-only file system"
    except OSError:
        pass
    return "permission denied"


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text`, owner-only (0600), so that a crash leaves the
    old file or the new one, never half of one: written beside it, synced, then
    renamed over it. Raises OSError; the caller decides whether that matters."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_private(path: Path) -> str | None:
    """The text of a small file we keep; None if it is missing or unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
