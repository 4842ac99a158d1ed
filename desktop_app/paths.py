"""Where files live. The only module that asks platformdirs.

Default locations follow each OS's conventions (XDG on Linux, ~/Library on macOS,
%LOCALAPPDATA% on Windows). When the user names a data directory, the cache and
log directories move inside it unless named too, so one flag (or one temp dir in a
test) keeps everything the app writes in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from desktop_app.errors import UserError
from desktop_app.identity import APP_AUTHOR, APP_SLUG

DB_FILENAME = "desktop-app.sqlite3"
INSTANCE_LOCK = "instance.lock"
INSTANCE_INFO = "instance.json"
WINDOW_GEOMETRY = "window.json"
WEBVIEW_STORAGE = "webview"  # the window's cookies and cache


@dataclass(frozen=True)
class AppDirs:
    data: Path
    cache: Path
    log: Path

    @property
    def db_path(self) -> Path:
        return self.data / DB_FILENAME

    @property
    def gradio_temp(self) -> Path:
        return self.cache / "gradio"

    @property
    def log_file(self) -> Path:
        return self.log / f"{APP_SLUG}.log"

    def private_paths(self) -> list[Path]:
        """What Gradio's file route must never serve: the whole data dir, or,
        when the cache (Gradio's own temp files) lives inside it, everything
        in it but the cache; and the logs."""
        if not self.gradio_temp.is_relative_to(self.data):
            return [self.data, self.log]
        names = [DB_FILENAME, *(DB_FILENAME + suffix for suffix in ("-wal", "-shm", "-journal")),
                 INSTANCE_LOCK, INSTANCE_INFO, WINDOW_GEOMETRY, WEBVIEW_STORAGE]
        return [self.data / name for name in names] + [self.log]


def resolve_dirs(
    data: Path | None = None, cache: Path | None = None, log: Path | None = None
) -> AppDirs:
    """Pick the three directories; nothing is created here."""
    import platformdirs  # imported here so importing this module stays cheap

    if data is None:
        data = platformdirs.user_data_path(APP_SLUG, APP_AUTHOR)
        cache = cache or platformdirs.user_cache_path(APP_SLUG, APP_AUTHOR)
        log = log or platformdirs.user_log_path(APP_SLUG, APP_AUTHOR)
    else:
        data = data.expanduser().absolute()
        cache = cache or data / "cache"
        log = log or data / "logs"
    return AppDirs(data=data, cache=cache.expanduser().absolute(), log=log.expanduser().absolute())


def ensure_private_dir(path: Path, *, what: str, flag: str) -> Path:
    """Create `path` (and parents) readable by the owner only (0700).

    An existing directory is tightened to 0700 too: our data dir holds password
    hashes and session ids, and other local users have no business listing it.
    """
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(path, 0o700)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UserError(
            f"Cannot use {what} {str(path)!r}: {reason}. Choose another with {flag}."
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(
            f"Cannot write to {what} {str(path)!r}: permission denied. Choose another with {flag}."
        )
    return path
