"""The desktop lifecycle: one instance, a window at once, the server beside it,
and a clean stop when the window closes (or on SIGINT/SIGTERM, which close it).

    main thread:    window.run()  -- the GUI loop, until the window closes
    boot thread:    store -> socket -> Gradio loader -> server -> window.show_url
    after the loop: server.stop() + join -> store closed -> lock released -> exit 0
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

from typing import NoReturn

from desktop_app.errors import DamagedStoreError, UserError
from desktop_app.identity import APP_SLUG
from desktop_app.instance import InstanceLock, ask_to_show
from desktop_app.paths import ensure_private_dir
from desktop_app.settings import Settings
from desktop_app.signals import SignalWatcher

log = logging.getLogger(__name__)
START_TIMEOUT_SECONDS = 120


def run_desktop(settings: Settings, t0: float) -> int:
    from desktop_app.desktop.window import DesktopWindow

    lock = InstanceLock(settings.data_dir)
    try:
        ensure_private_dir(settings.data_dir, what="data directory", flag="--data-dir")
        acquired = lock.acquire()
    except UserError as exc:
        # No usable data directory (read-only, say): a person who double-clicked
        # sees no terminal, so the sentence goes in a window.
        return _show_only_error(settings, exc.message)
    except OSError as exc:
        return _show_only_error(settings, f"Cannot use the data directory {str(settings.data_dir)!r}: "
                                          f"{exc.strerror or exc}. Choose another with --data-dir.")
    if not acquired:
        return _hand_over(settings)
    try:
        window = DesktopWindow(settings)
        session = _Session(settings, window, lock, t0)
        watcher = SignalWatcher(lambda signum: window.close()).install()
        window.run(session.boot)
        if watcher.received is not None:
            log.info("signal %s: window closed", watcher.received)
        session.shutdown()
        return 1 if session.failed else 0
    finally:
        lock.release()


def _show_only_error(settings: Settings, message: str) -> int:
    """A window with the error screen and nothing else; exit 1 when it closes."""
    from desktop_app.desktop.window import DesktopWindow

    log.error("cannot start: %s", message)
    print(f"{APP_SLUG}: error: {message}", file=sys.stderr)
    window = DesktopWindow(settings)
    SignalWatcher(lambda signum: window.close()).install()
    window.run(lambda: window.show_error(message))
    return 1


def exit_now(code: int) -> NoReturn:
    """End the process once everything of ours is stopped, closed and flushed.

    Why not return normally: pywebview injects its JS bridge into each page from
    a non-daemon thread that waits on the page; if the window closes during that
    wait, the thread never ends and the interpreter would wait for it forever
    (seen here about 1 launch in 10 when closed within a second of start).
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None in a windowed (no console) Windows build
            stream.flush()
    os._exit(code)


def _hand_over(settings: Settings) -> int:
    """Another instance owns this data dir: bring its window up and leave."""
    answer = ask_to_show(settings.data_dir)
    if answer == "shown":
        print(f"{APP_SLUG}: already running; its window was brought to the front.", file=sys.stderr)
        return 0
    if answer == "headless":
        raise UserError(
            f"{APP_SLUG} is already running without a window on the data directory "
            f"{str(settings.data_dir)!r}. Stop it first, or use another --data-dir."
        )
    raise UserError(
        f"Another copy of {APP_SLUG} holds the data directory {str(settings.data_dir)!r} "
        "but does not answer (it may still be starting). Try again in a moment."
    )


class _Cancelled(Exception):
    """The window was closed while the app was still starting."""


class _Session:
    """What the boot thread starts, and what shutdown() stops, in order.

    The window can close at any moment, even while boot() is half-way; each
    thing boot starts is registered under a lock that shutdown() takes too, so
    nothing is started after shutdown has begun, and nothing started is missed.
    """

    def __init__(self, settings: Settings, window, lock: InstanceLock, t0: float) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        self.window = window
        self.lock = lock
        self.t0 = t0
        self.services = None
        self.server = None
        self.failed = False  # the window showed an error instead of the app
        self._guard = threading.Lock()
        self._closing = threading.Event()

    def boot(self) -> None:
        log.info("GUI loop running after %.3fs", time.perf_counter() - self.t0)
        # Importing the server's modules (~0.25 s) while WebKit starts the loading
        # page delayed that page by ~0.06 s here, so wait for it first. Gradio's
        # import (~3 s) waits until the login page is up.
        self.window.wait_first_load(2.0)
        log.info("loading screen shown after %.3fs", time.perf_counter() - self.t0)
        self._run()

    def _run(self) -> None:
        try:
            self._start()
        except _Cancelled:
            log.info("window closed while starting")
        except DamagedStoreError as exc:
            self._fail(exc.message, offer_fresh_start=True)
            # The file stays as it is unless the person presses the button.
            if self._wait_for_fresh_start() and self._set_aside(exc.path):
                self._run()
        except UserError as exc:
            self._fail(exc.message)
        except Exception as exc:  # a bug: the log gets the traceback, the window one sentence
            from desktop_app.logs import FILE_ONLY

            log.exception("start failed", extra=FILE_ONLY)
            self._fail(f"Unexpected error: {type(exc).__name__}: {exc}")

    def _fail(self, message: str, *, offer_fresh_start: bool = False) -> None:
        log.error("start failed: %s", message)
        self.failed = True
        self.window.show_error(message, offer_fresh_start=offer_fresh_start)

    def _wait_for_fresh_start(self) -> bool:
        while not self._closing.is_set() and not self.window.closed:
            if self.window.fresh_start_requested():
                return True
            time.sleep(0.2)
        return False

    def _set_aside(self, path) -> bool:  # type: ignore[no-untyped-def]
        from desktop_app.store.db import set_aside

        with self._guard:  # not while shutdown() runs
            if self._closing.is_set():
                return False
            try:
                moved = set_aside(path)
            except OSError as exc:
                failure = exc
            else:
                failure = None
        if failure is not None:  # said outside the lock: the window call may wait on the GUI thread
            self._fail(f"Could not move the damaged store aside: {failure.strerror or failure}. "
                       "It was left as it was.")
            return False
        log.warning("the damaged store was moved to %s at the person's request", moved)
        self.failed = False
        self.window.show_loading()
        return True

    def _start(self) -> None:
        from desktop_app.web.gradio_mount import GradioLoader
        from desktop_app.store import open_store

        settings = self.settings
        with self._guard:
            if self._closing.is_set():
                raise _Cancelled
            self.services = open_store(settings)
        loader = GradioLoader(settings)
        if self.services.sessions.any_kept():
            # "Keep me signed in": the window will go straight to the UI, so the
            # build starts now, before the server and its imports (measured: it
            # started 0.13-0.28 s sooner). Without a kept session it waits for
            # the login page below.
            loader.start("a kept session is in the store")

        from desktop_app.web.app import create_app
        from desktop_app.web.launch import launch_url, new_launch_token
        from desktop_app.web.server import ServerThread, bind_socket

        # With the default port 0, the window's port from the last run if free (see last_port).
        sock = bind_socket(settings.host, settings.port, preferred=self.window.last_port)
        token = new_launch_token() if settings.launch_token else None
        app = create_app(settings, self.services, loader, instance=self.lock,
                         on_show=self.window.bring_to_front, launch_token=token)
        with self._guard:
            if self._closing.is_set():
                sock.close()
                raise _Cancelled
            self.server = ServerThread(app, sock)
            self.server.start()
        if not self.server.wait_started(START_TIMEOUT_SECONDS):
            raise UserError(f"The local server did not start ({self.server.error or 'timed out'}).")
        self.lock.publish(self.server.url)
        self.window.remember_port(self.server.port)
        log.info("serving %s (ready after %.3fs)", self.server.url, time.perf_counter() - self.t0)
        url = launch_url(self.server.url, token)
        print(f"READY {url}", flush=True)
        loads = self.window.loads
        self.window.show_url(url)
        # Once the login page is in the window, start Gradio's ~3 s import: it
        # competes for the GIL with the server serving that page (measured here:
        # the page took 0.26 s after READY with both at once). A kept session
        # never shows the login page: the build has started above, or (one the
        # store did not predict) its request for /gradio/ starts it at once
        # (DeferredApp), so this wait ends on `loader.started` then.
        deadline = time.monotonic() + 3.0
        while not (self.window.wait_next_load(loads, timeout=0.02) or loader.started):
            if time.monotonic() > deadline:
                break
        loader.start("the login page loaded" if self.window.loads > loads else
                     "the window's page did not load within 3 s")
        while not loader.wait(0.2):
            if self._closing.is_set():
                return  # the loader is a daemon thread; nobody needs its result now
        if loader.error is not None:
            self._fail(loader.error.message)
            return
        # For the rest of the run, watch the server: if its thread ends without
        # being asked to, say so in the window rather than leave a dead page.
        while not self._closing.wait(0.5):
            if not self.server.alive and not self._closing.is_set():
                raise UserError(f"{self.server.death_notice()} Close this window and start the app again.")

    def shutdown(self) -> None:
        with self._guard:
            self._closing.set()
            server, services = self.server, self.services
        if server is not None:
            server.stop()
        if services is not None:
            services.close()
        log.info("stopped cleanly")
