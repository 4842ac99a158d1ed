"""The app in a window on a virtual display, as tests drive it: start, sign in
by typing, close the way a person does, and find the processes it left."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.support.helpers import APP_COMMAND, PASSWORD, AppProcess
from tests.support.xdisplay import VirtualDisplay, login_page_shown


class WindowApp(AppProcess):
    """`python -m desktop_app` (no --headless) on the virtual display."""

    def __init__(self, xdisplay: VirtualDisplay, data_dir: Path | None, command: Sequence[str] = APP_COMMAND,
                 extra_args: Sequence[str] = (), extra_env: dict[str, str] | None = None) -> None:
        self.x = xdisplay
        self.children: set[int] = set()
        for attempt in (1, 2):
            logged = self._log_size(data_dir)
            super().__init__(data_dir, *extra_args, env={**xdisplay.app_env(), **(extra_env or {})},
                             command=command, headless=False)
            try:
                # Qt WebEngine's first window, on a loaded 2-core machine, once took over 30 s.
                self.window = xdisplay.find_window(self.proc.pid, timeout=60, unless_exited=self.proc)
                return
            except AssertionError as exc:
                # Not left running into the next test (its pipes and the process were
                # reported there as unraisable warnings); and say where it stuck.
                self.kill()
                if attempt == 1 and self._x_refused_it(logged):
                    continue
                raise AssertionError(f"{exc}; {self.log_tail(15)}\nstderr: {self.stderr()[-2000:]}") from None

    def _x_refused_it(self, logged: int) -> bool:
        """Qt, now and then in CI, could not connect to the test's Xvfb at its very
        start ("could not connect to display"), while the tests before and after
        it could: then the process ran none of our code (it logged nothing), so a
        second launch is the same test. Anything else fails at once."""
        return "could not connect to display" in self.stderr() and self._log_size(self.data_dir) == logged

    @staticmethod
    def _log_size(data_dir: Path | None) -> int:
        return sum(f.stat().st_size for f in (data_dir / "logs").glob("*.log")) if data_dir and (
            data_dir / "logs").is_dir() else 0

    def note_children(self) -> None:
        self.children |= descendants(self.proc.pid)

    def sign_in(self, remember: bool = False) -> None:
        self.x.wait_for(login_page_shown)
        self.note_children()
        self.x.type_text(self.window, "alice")
        self.x.key("Tab")
        self.x.type_text(self.window, PASSWORD)
        if remember:
            self.x.key("Tab", "space")
        self.x.key("Return")

    def close(self, timeout: float = 30) -> int:
        self.note_children()
        self.x.close_window(self.window)  # once, like one click on the close button
        return self.wait_exit(timeout)

    def wait_exit(self, timeout: float = 30) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the app did not exit within {timeout} s; {self.log_tail(15)}") from None

    def assert_no_helper_left(self, timeout: float = 10) -> None:
        """After the app exited: every process it started (WebKit's helpers) is gone too."""
        assert self.children, "the webview started no helper process? then this check proves nothing"
        deadline = time.monotonic() + timeout
        while any(alive(p) for p in self.children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in self.children if alive(p)], "helper processes survived the window"

    def finish(self) -> str:
        """Killed if still running; its stderr."""
        self.kill()
        return self.stderr()


@contextlib.contextmanager
def launched(xdisplay: VirtualDisplay, data_dir: Path | None, command: Sequence[str] = APP_COMMAND,
             extra_args: Sequence[str] = (), extra_env: dict[str, str] | None = None) -> Iterator[WindowApp]:
    """The app in a window, killed if a test fails half-way; never a traceback on stderr."""
    app = WindowApp(xdisplay, data_dir, command, extra_args, extra_env)
    try:
        yield app
    finally:
        stderr = app.finish()
        assert "Traceback" not in stderr, stderr


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its exit status is left
