"""SIGINT/SIGTERM, handled the same way whether or not a GUI loop owns the main thread.

A Python signal handler only runs when the main thread executes Python code;
in window mode the main thread sits inside the toolkit's C loop. Two paths,
whichever comes first, call `on_signal` (once):

- the Python handler itself: PyGObject wakes the GTK loop on a signal so the
  handler runs promptly (it installs its own wakeup fd while Gtk.main runs);
- a wakeup socket (`signal.set_wakeup_fd`) read by a small thread, for loops
  that never return to Python (Qt), and for headless mode.

We own the signals instead of letting uvicorn do it: uvicorn re-raises a
captured signal after its shutdown, which ends the process with -15, not 0.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
HANDLED = (signal.SIGINT, signal.SIGTERM)


class SignalWatcher:
    def __init__(self, on_signal: Callable[[int], None]) -> None:
        self.on_signal = on_signal
        self.received: int | None = None
        self._once = threading.Lock()
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        self._thread = threading.Thread(target=self._watch, name="signal-watcher", daemon=True)

    def install(self) -> SignalWatcher:
        """Call from the main thread, before the GUI loop or the server starts."""
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for sig in HANDLED:
            signal.signal(sig, self._handle)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while True:
            try:
                data = self._reader.recv(16)
            except OSError:
                return
            if not data:
                return
            for signum in data:
                if signum in HANDLED:
                    self._fire(signum)

    def _handle(self, signum: int, frame: object) -> None:
        self._fire(signum)

    def _fire(self, signum: int) -> None:
        with self._once:
            if self.received is not None:
                return
            self.received = signum
        self.on_signal(signum)


def exit_if_threads_linger(seconds: float) -> None:
    """An event past the drain still runs in a worker thread that Python would
    wait for at exit, however long it takes: a supervisor would SIGKILL us
    first. It gets `seconds`, then the process ends anyway (exit 0: as asked)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lingering = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
        if not lingering:
            return
        lingering[0].join(0.1)
    log.warning("stopping now; %d thread(s) still running an event are cut off", len(lingering))
    logging.shutdown()
    os._exit(0)
