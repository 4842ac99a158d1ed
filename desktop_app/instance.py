"""One running app per data directory.

The first launch holds an OS lock on `instance.lock` in the data dir and writes
`instance.json` (owner-only): its URL and a random token. A second launch that
cannot take the lock reads that file and asks the first, over loopback, to bring
its window to the front, then exits. An OS lock dies with its process, so a
crash (even kill -9) leaves no stale lock to clean up: the next launch simply
takes it, and overwrites the old discovery file.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from desktop_app.paths import INSTANCE_INFO as INFO_NAME
from desktop_app.paths import INSTANCE_LOCK as LOCK_NAME
from desktop_app.paths import write_private

TOKEN_HEADER = "X-Desktop-App-Instance"
SHOW_PATH = "/_instance/show"


class InstanceLock:
    def __init__(self, data_dir: Path) -> None:
        self.lock_path = data_dir / LOCK_NAME
        self.info_path = data_dir / INFO_NAME
        self.token = secrets.token_urlsafe(32)
        self._fd: int | None = None

    def acquire(self) -> bool:
        """True if we are now the only instance; False if another one runs."""
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def publish(self, url: str) -> None:
        """Tell later launches where we are (atomically, owner-only)."""
        write_private(self.info_path, json.dumps({"pid": os.getpid(), "url": url, "token": self.token}))

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.info_path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


def ask_to_show(data_dir: Path, timeout: float = 5.0) -> str:
    """Ask the running instance to show its window.

    Returns "shown", "headless" (it runs without a window; nothing to show),
    or "no answer" (it is still starting, or stuck).
    """
    import urllib.error  # here, not at the top: only a second launch needs it
    import urllib.request

    try:
        info = json.loads((data_dir / INFO_NAME).read_text())
        url, token = str(info["url"]).rstrip("/"), str(info["token"])
    except (OSError, ValueError, KeyError, TypeError):
        return "no answer"
    # The Origin header: the server refuses unsafe requests that do not say where they come from.
    request = urllib.request.Request(url + SHOW_PATH, method="POST", headers={TOKEN_HEADER: token, "Origin": url})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback URL we wrote)
            return "shown" if response.status == 204 else "no answer"
    except urllib.error.HTTPError as exc:
        return "headless" if exc.code == 409 else "no answer"
    except (urllib.error.URLError, OSError):
        return "no answer"


if sys.platform == "win32":  # pragma: no cover - exercised on Windows CI only
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
