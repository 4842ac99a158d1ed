"""One start sequence for every way the app runs, as a small lifecycle class
in uvicorn's style (`uvicorn/server.py`): open, start, watch, stop.

    open():   data dir -> instance lock (False: another instance has it)
    start():  store -> Gradio build (now, or when asked) -> socket -> app
              -> server thread -> wait until started -> publish -> READY
    watch():  until asked to stop: the server thread alive, the UI built;
              housekeeping once the build is a few seconds behind, then hourly
              (expired sessions, old temp files, a daily backup of the store)
    stop():   server asked to exit and joined -> store closed
    close():  lock released (the discovery file goes with it)

Headless mode calls these from the main thread; the desktop calls `start` and
`watch` from its boot thread while the GUI loop owns the main thread, and its
window may close at any moment, even half-way through `start`: `stop` may come
from another thread, and nothing is started after it has begun (`Cancelled`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from desktop_app import housekeeping
from desktop_app.errors import Cancelled, UserError
from desktop_app.identity import current
from desktop_app.instance import InstanceLock, ask_to_show
from desktop_app.paths import LAST_PORT, ensure_private_dir, read_private, write_private
from desktop_app.settings import Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from desktop_app.store import Store
    from desktop_app.web.gradio_loader import GradioLoader
    from desktop_app.web.server import ServerThread

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 120
# How often watch() does the housekeeping. Hourly: a team server is never restarted.
HOUSEKEEPING_SECONDS = 3600.0
# Housekeeping waits while Gradio builds and this long after. On the every-day
# launch (a kept session) the window is then loading the UI (its ~60 files, its
# first events), and the temp-file sweep or the day's first backup beside it
# made that later. (Without a kept session the build ends while the person signs in.)
SETTLE_SECONDS = 3.0
HOLD_AT_MOST_SECONDS = 120.0  # a build that never ends must not stop the purge of expired sessions
T = TypeVar("T")


class Runtime:
    def __init__(self, settings: Settings, *, t0: float, housekeeping_every: float = HOUSEKEEPING_SECONDS) -> None:
        self.settings = settings
        self.t0 = t0  # the process's start, for the log's "after N s"
        self.housekeeping_every = housekeeping_every
        self.lock = InstanceLock(settings.data_dir)
        self.store: Store | None = None
        self.loader: GradioLoader | None = None
        self.server: ServerThread | None = None
        self.app: Starlette | None = None
        self._remember_port = False
        self.should_exit = threading.Event()
        self._guard = threading.Lock()  # start's steps against stop()

    # -- lifecycle ---------------------------------------------------------
    def open(self) -> bool:
        """Make sure the data dir is usable and take its lock; False if another
        instance holds it (see `hand_over`). UserError/OSError: no usable data dir."""
        ensure_private_dir(self.settings.data_dir, what="data directory", flag="--data-dir")
        return self.lock.acquire()

    def start(
        self,
        *,
        build_now: bool,
        remember_port: bool = False,
        on_show: Callable[[], None] | None = None,
    ) -> str:
        """Start serving; return the URL to open (with this launch's token).

        `build_now`: start Gradio's build once the port is bound (headless).
        Otherwise it starts here only if a kept session predicts that the UI is
        wanted at once, and the caller starts it when it may be needed
        (`loader.start`), or the first request for /gradio/ does.
        `remember_port`: with the default port 0, serve on the last run's port
        if it is free (the window keeps its web cache and storage per origin).
        `on_show`: what a second launch's "show your window" request runs."""
        from desktop_app.web.gradio_loader import GradioLoader

        settings = self.settings
        store = self.store = self.unless_stopping(self._open_store)
        loader = self.loader = GradioLoader(settings)
        if store.sessions.any_kept():
            # "Keep me signed in": the window will go straight to the UI, so the
            # build starts now, before the server and its imports (measured: it
            # started 0.13-0.28 s sooner).
            loader.start("a kept session is in the store")

        from desktop_app.web.app import create_app
        from desktop_app.web.launch import launch_url, new_launch_token
        from desktop_app.web.server import ServerThread, bind_socket

        preferred = _last_port(settings) if remember_port else None
        sock = bind_socket(settings.host, settings.port, preferred=preferred)  # fails fast, in this thread
        if build_now:
            loader.start("at start")  # Gradio imports while the login page is served
        token = new_launch_token() if settings.launch_token else None
        app = create_app(settings, store, loader, show_token=self.lock.token, on_show=on_show,
                         launch_token=token)

        self.app = app

        def start_server() -> ServerThread:
            server = ServerThread(app, sock, forwarded_allow_ips=settings.forwarded_allow_ips)
            server.start()
            return server

        try:
            server = self.server = self.unless_stopping(start_server)
        except Cancelled:
            sock.close()
            raise
        if not server.wait_started(START_TIMEOUT_SECONDS):
            raise UserError(f"The local server did not start ({server.error or 'timed out'}); "
                            f"see the log at {settings.dirs.log_file}.")
        self.lock.publish(server.url)
        self._remember_port = remember_port  # written in watch(), off the path to the first page
        log.info("serving %s%s (ready after %.3fs)", server.url,
                 f" for {settings.public_url}" if settings.public_url else "", time.perf_counter() - self.t0)
        url = launch_url(server.url, token)
        # Like Jupyter: the address to open carries this launch's token.
        print(f"READY {url}", flush=True)
        return url

    def watch(self, *, if_server_dies: str) -> None:
        """Until `stop()`: raise UserError if the server thread ends by itself
        (`if_server_dies` says what to do then) or the UI cannot be built.
        Without its UI the app is no use: say why, and stop cleanly."""
        assert self.server is not None and self.loader is not None
        if self._remember_port:
            try:
                write_private(self.settings.data_dir / LAST_PORT, str(self.server.port))
            except OSError as exc:  # the next launch takes another port: not worth an error
                log.warning("could not save the server's port: %s", exc)
        began = due = time.monotonic()
        files_due = True
        while not self.should_exit.wait(0.25):
            if not self.server.alive and not self.should_exit.is_set():
                raise UserError(f"{self.server.death_notice()} {if_server_dies}")
            if self.loader.error is not None:
                raise self.loader.error
            if self._building(began):
                continue  # the build, and the first page after it, come first
            if time.monotonic() >= due:
                housekeeping.purge_sessions(self)
                due, files_due = time.monotonic() + self.housekeeping_every, True
            if files_due and self.loader.done:  # the UI built: its own files are known, and kept
                housekeeping.sweep_files(self)
                housekeeping.back_up_daily(self)
                files_due = False

    def _building(self, began: float) -> bool:
        """True while Gradio builds and SETTLE_SECONDS after; never past
        HOLD_AT_MOST_SECONDS since `began` (a UI stuck on the network, say)."""
        loader, now = self.loader, time.monotonic()
        if loader is None or not loader.started or now - began > HOLD_AT_MOST_SECONDS:
            return False
        return loader.finished_at is None or now < loader.finished_at + SETTLE_SECONDS

    def drain(self, timeout: float) -> None:
        """A team server asked to stop (SIGTERM): /readyz answers 503 from now on,
        so the proxy sends nobody new, and Gradio's requests and events in flight
        get up to `timeout` seconds to finish; `stop()` comes next."""
        app, loader = self.app, self.loader
        if app is None or loader is None:
            return
        app.state.draining = True

        def busy() -> int:
            return int(app.state.in_flight()) + loader.events_queued()

        deadline = time.monotonic() + timeout
        log.info("draining: %d Gradio request(s) or event(s) in flight", busy())
        while busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = busy()
        log.log(logging.WARNING if left else logging.INFO, "drained%s",
                f"; {left} still in flight after {timeout:g} s are cut off" if left else "")

    def stop(self) -> None:
        """Ask everything to stop, and wait for it; safe from any thread, at any time."""
        with self._guard:
            self.should_exit.set()
            server, store = self.server, self.store
        if server is not None:
            server.stop()
        if store is not None:
            store.close()

    def close(self) -> None:
        self.lock.release()

    # -- helpers -----------------------------------------------------------
    def unless_stopping(self, step: Callable[[], T]) -> T:
        """Run `step` unless `stop()` has begun (then raise Cancelled): what it
        starts is then seen by `stop()`, never missed or started after it."""
        with self._guard:
            if self.should_exit.is_set():
                raise Cancelled
            return step()

    def _open_store(self) -> Store:
        from desktop_app.store import open_store

        return open_store(self.settings)

    def hand_over(self) -> int:
        """Another instance owns this data dir: bring its window up and leave."""
        settings = self.settings
        answer = ask_to_show(settings.data_dir)
        if answer == "shown":
            print(f"{current().slug}: already running; its window was brought to the front.", file=sys.stderr)
            return 0
        if answer == "headless":
            raise UserError(
                f"{current().slug} is already running without a window on the data directory "
                f"{str(settings.data_dir)!r}. Stop it first, or use another --data-dir."
            )
        raise UserError(
            f"Another copy of {current().slug} holds the data directory {str(settings.data_dir)!r} "
            "but does not answer (it may still be starting). Try again in a moment."
        )


def _last_port(settings: Settings) -> int | None:
    """The server's port in the last windowed run. Serving on it again keeps the
    page origin the same, and with it the window's web cache and local storage:
    on a new port each launch, WebKit fetched all of Gradio's ~60 scripts and
    stylesheets again at the first sign-in."""
    text = read_private(settings.data_dir / LAST_PORT)
    try:
        port = int(text.strip()[:5]) if text is not None and text.strip().isascii() else 0
    except ValueError:  # a damaged file costs a new port, never the start
        return None
    return port if 1024 <= port <= 65535 else None
