"""Links that leave the app open in the person's browser, started as they would
start it: with their own umask, not the app's private 077 (paths.py), or
everything that browser saved (its downloads too) would be unreadable to the
groups the person shares files with.

pywebview opens such links through the standard `webbrowser` module, which
starts the browser with subprocess but no umask of its own; so a controller
registered first in `webbrowser` starts it through xdg-open (Linux) or open
(macOS) with Popen's `umask=`, in the child only. Elsewhere, or without those
commands, `webbrowser` keeps its own choice.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import webbrowser

from desktop_app.paths import persons_umask

NAME = "desktop-app-persons-browser"


class PersonsBrowser(webbrowser.BaseBrowser):
    def __init__(self, opener: str, umask: int) -> None:
        super().__init__(opener)
        self.opener = opener
        self.umask = umask

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        sys.audit("webbrowser.open", url)
        try:
            subprocess.Popen([self.opener, url], umask=self.umask, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError:
            return False
        return True


def use_persons_browser() -> bool:
    """Make it `webbrowser`'s first choice; False if there is nothing to do."""
    umask = persons_umask()
    if sys.platform.startswith("linux"):
        opener = shutil.which("xdg-open")
    elif sys.platform == "darwin":
        opener = shutil.which("open")
    else:
        opener = None
    if umask is None or opener is None:
        return False
    webbrowser.register(NAME, None, PersonsBrowser(opener, umask), preferred=True)
    return True
