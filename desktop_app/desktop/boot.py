"""The desktop: one instance, a window at once, the runtime beside it, and a
clean stop when the window closes (or on SIGINT/SIGTERM, which close it).

    main thread:    window.run()  -- the GUI loop, until the window closes
    boot thread:    runtime.start() -> window.show_url -> Gradio build -> watch
    after the loop: runtime.stop() (server joined, store closed) -> lock released -> exit 0

Everything but the window's own steps is the runtime's (runtime.py), which
headless mode runs too.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from desktop_app.errors import Cancelled, DamagedStoreError, UserError
from desktop_app.identity import current
from desktop_app.logs import FILE_ONLY
from desktop_app.runtime import Runtime
from desktop_app.settings import Settings
from desktop_app.signals import SignalWatcher

if TYPE_CHECKING:
    from desktop_app.desktop.window import DesktopWindow

log = logging.getLogger(__name__)

# Without a kept session the build waits for the login page (see Boot._start);
# this bounds that wait if the page never reports its load.
LOGIN_PAGE_WAIT_SECONDS = 3.0


def run_desktop(settings: Settings, t0: float) -> int:
    from desktop_app.desktop.window import DesktopWindow

    runtime = Runtime(settings, t0=t0)
    try:
        acquired = runtime.open()
    except UserError as exc:
        # No usable data directory (read-only, say): a person who double-clicked
        # sees no terminal, so the sentence goes in a window.
        return _show_only_error(settings, exc.message)
    except OSError as exc:
        return _show_only_error(settings, f"Cannot use the data directory {str(settings.data_dir)!r}: "
                                          f"{exc.strerror or exc}. Choose another with --data-dir.")
    if not acquired:
        return runtime.hand_over()
    try:
        window = DesktopWindow(settings)
        boot = Boot(runtime, window)
        watcher = SignalWatcher(lambda signum: window.close()).install()
        window.run(boot.run)
        if watcher.received is not None:
            log.info("signal %s: window closed", watcher.received)
        runtime.stop()
        log.info("stopped cleanly")
        return 1 if boot.failed else 0
    finally:
        runtime.close()


def _show_only_error(settings: Settings, message: str) -> int:
    """A window with the error screen and nothing else; exit 1 when it closes."""
    from desktop_app.desktop.window import DesktopWindow

    log.error("cannot start: %s", message)
    print(f"{current().slug}: error: {message}", file=sys.stderr)
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


class Boot:
    """The window's steps on top of the runtime, run in pywebview's worker thread."""

    def __init__(self, runtime: Runtime, window: DesktopWindow) -> None:
        self.runtime = runtime
        self.window = window
        self.failed = False  # the window showed an error instead of the app

    def run(self) -> None:
        t0 = self.runtime.t0
        log.info("GUI loop running after %.3fs", time.perf_counter() - t0)
        # Importing the server's modules (~0.25 s) while WebKit starts the loading
        # page delayed that page by ~0.06 s here, so wait for it first.
        self.window.wait_first_load(2.0)
        log.info("loading screen shown after %.3fs", time.perf_counter() - t0)
        while True:
            try:
                self._start()
            except Cancelled:
                log.info("window closed while starting")
            except DamagedStoreError as exc:
                if self._choose_a_way_out(exc):
                    continue  # and start again, on the backup or on a new store
            except UserError as exc:
                self._fail(exc.message)
            except Exception as exc:  # a bug: the log gets the traceback, the window one sentence
                log.exception("start failed", extra=FILE_ONLY)
                self._fail(f"Unexpected error: {type(exc).__name__}: {exc}")
            return

    def _start(self) -> None:
        runtime, window = self.runtime, self.window
        url = runtime.start(build_now=False, remember_port=True, on_show=window.bring_to_front)
        loader = runtime.loader
        assert loader is not None
        loads = window.loads
        window.show_url(url)
        # Once the login page is in the window, start Gradio's ~3 s import: it
        # competes for the GIL with the server serving that page (measured here:
        # the page took 0.26 s after READY with both at once). A kept session
        # never shows the login page: the build has started in runtime.start, or
        # (one the store did not predict) its request for /gradio/ starts it at
        # once (DeferredApp), so this wait ends on `loader.started` then.
        deadline = time.monotonic() + LOGIN_PAGE_WAIT_SECONDS
        while not (window.wait_next_load(loads, timeout=0.02) or loader.started):
            if time.monotonic() > deadline:
                break
        loader.start("the login page loaded" if window.loads > loads else
                     f"the window's page did not load within {LOGIN_PAGE_WAIT_SECONDS:g} s")
        # For the rest of the run: if the server's thread ends without being
        # asked to, or the UI cannot be built, say so rather than leave a dead page.
        runtime.watch(if_server_dies="Close this window and start the app again.")

    def _fail(self, message: str, *, offer_fresh_start: bool = False, backup_made: str | None = None) -> None:
        log.error("start failed: %s", message)
        self.failed = True
        self.window.show_error(message, offer_fresh_start=offer_fresh_start, backup_made=backup_made)

    def _choose_a_way_out(self, exc: DamagedStoreError) -> bool:
        """The damaged-store screen until the person picks a way out that works
        (True), or closes the window (False). The file stays as it is unless they
        press a button; a restore that fails says why and offers both again."""
        from desktop_app.store.backups import latest_usable_backup

        message = exc.message
        while True:
            last = latest_usable_backup(self.runtime.settings.dirs.backups)
            made = time.strftime("%Y-%m-%d %H:%M", time.localtime(last.made)) if last else None
            self._fail(message, offer_fresh_start=True, backup_made=made)
            choice = self._wait_for_choice()
            if choice is None:
                return False
            if choice == "restore" and last is None:  # not offered: never read as "start fresh"
                continue
            problem = self._replace_store(exc.path, last.path if choice == "restore" and last else None)
            if problem is None:
                return True
            message = problem

    def _wait_for_choice(self) -> str | None:
        while not self.runtime.should_exit.is_set() and not self.window.closed:
            choice = self.window.store_choice()
            if choice is not None:
                return choice
            time.sleep(0.2)
        return None

    def _replace_store(self, path: Path, backup: Path | None) -> str | None:
        """The damaged store at `path` set aside, and `backup` restored in its
        place (None: nothing, a fresh start). Runs while this process holds the
        instance lock, the app closed but for this window. Returns None when
        done, else the sentence that says why not."""
        from desktop_app.store.backups import restore_backup
        from desktop_app.store.db import set_aside

        def replace() -> Path | None:
            return set_aside(path) if backup is None else restore_backup(backup, path, label="damaged")

        try:
            moved = self.runtime.unless_stopping(replace)  # not while stop() runs
        except Cancelled:
            return "The app is closing."
        except (OSError, UserError) as exc:
            what = "move the damaged store aside" if backup is None else "restore the backup"
            detail = exc.message if isinstance(exc, UserError) else f"{exc.strerror or exc}."
            log.error("could not %s: %s", what, detail)
            return f"Could not {what}: {detail} The damaged store was left as it was."
        if backup is None:
            log.warning("the damaged store was moved to %s at the person's request", moved)
        else:
            log.warning("the backup %s was restored at the person's request; the damaged store was moved to %s",
                        backup.name, moved)
        self.failed = False
        self.window.show_loading()
        return None
