"""The desktop lifecycle: one instance, a window at once, the server beside it,
and a clean stop when the window closes (or on SIGINT/SIGTERM, which close it).

    main thread:    window.run()  -- the GUI loop, until the window closes
    boot thread:    store -> socket -> Gradio loader -> server -> window.show_url
    after the loop: server.stop() + join -> store closed -> lock released -> exit 0
"""

from __future__ import annotations

import logging
import sys
import time

from desktop_app.errors import UserError
from desktop_app.identity import APP_SLUG
from desktop_app.instance import InstanceLock, ask_to_show
from desktop_app.paths import ensure_private_dir
from desktop_app.settings import Settings
from desktop_app.signals import SignalWatcher

log = logging.getLogger(__name__)
START_TIMEOUT_SECONDS = 120


def run_desktop(settings: Settings, t0: float) -> int:
    from desktop_app.window import DesktopWindow

    ensure_private_dir(settings.data_dir, what="data directory", flag="--data-dir")
    lock = InstanceLock(settings.data_dir)
    if not lock.acquire():
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


def _import_server_modules() -> None:
    import desktop_app.app  # noqa: F401
    import desktop_app.server  # noqa: F401
    import desktop_app.services  # noqa: F401


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


class _Session:
    """What the boot thread starts, and what shutdown() stops, in order."""

    def __init__(self, settings: Settings, window, lock: InstanceLock, t0: float) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        self.window = window
        self.lock = lock
        self.t0 = t0
        self.services = None
        self.server = None
        self.failed = False  # the window showed an error instead of the app

    def boot(self) -> None:
        log.info("GUI loop running after %.3fs", time.perf_counter() - self.t0)
        # The server's modules (~0.3 s of imports) load while WebKit starts its
        # processes for the loading page, which needs little of the GIL; Gradio's
        # import (~3 s) waits until the login page is up (measured: together they
        # delayed the loading screen by 0.2 s and the login page by 0.1-0.5 s).
        self.window.wait_first_load(2.0)
        _import_server_modules()
        log.info("loading screen shown after %.3fs", time.perf_counter() - self.t0)
        try:
            self._start()
        except UserError as exc:
            self._fail(exc.message)
        except Exception as exc:  # a bug: the log gets the traceback, the window one sentence
            from desktop_app.logs import FILE_ONLY

            log.exception("start failed", extra=FILE_ONLY)
            self._fail(f"Unexpected error: {type(exc).__name__}: {exc}")

    def _fail(self, message: str) -> None:
        log.error("start failed: %s", message)
        self.failed = True
        self.window.show_error(message)

    def _start(self) -> None:
        from desktop_app.app import create_app
        from desktop_app.gradio_mount import GradioLoader
        from desktop_app.server import ServerThread, bind_socket
        from desktop_app.services import open_services

        settings = self.settings
        self.services = open_services(settings)
        sock = bind_socket(settings.host, settings.port)
        loader = GradioLoader(settings)
        app = create_app(settings, self.services, loader, instance=self.lock, on_show=self.window.bring_to_front)
        self.server = ServerThread(app, sock)
        self.server.start()
        if not self.server.wait_started(START_TIMEOUT_SECONDS):
            raise UserError(f"The local server did not start ({self.server.error or 'timed out'}).")
        self.lock.publish(self.server.url)
        log.info("serving %s (ready after %.3fs)", self.server.url, time.perf_counter() - self.t0)
        print(f"READY {self.server.url}", flush=True)
        self.window.show_url(self.server.url + "login")
        # Only now start Gradio's ~3 s import: it would otherwise compete for the
        # GIL with the server start and the window, delaying the login page.
        loader.start()
        loader.wait()
        if loader.error is not None:
            self._fail(loader.error.message)

    def shutdown(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self.services is not None:
            self.services.close()
        log.info("stopped cleanly")
