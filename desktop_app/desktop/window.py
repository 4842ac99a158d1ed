"""The native window: the one class that drives pywebview.

The window opens at once on a loading page that needs no server; `run()` then
calls `boot` in a pywebview worker thread, which starts the server and calls
`show_url`. The GUI loop owns the main thread until the window closes. Which
engine (backends.py), the fixes to pywebview (patches.py) and the saved size
and position (geometry.py) live beside it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.desktop import patches, screens
from desktop_app.desktop.backends import has_gpu_render_node, linux_backend
from desktop_app.desktop.geometry import MIN_SIZE, load_geometry, save_geometry
from desktop_app.desktop.links import use_persons_browser
from desktop_app.identity import current
from desktop_app.logs import FILE_ONLY
from desktop_app.paths import WEBVIEW_STORAGE, WINDOW_GEOMETRY
from desktop_app.settings import Settings

log = logging.getLogger(__name__)


class DesktopWindow:
    def __init__(self, settings: Settings) -> None:
        import webview

        self._webview = webview
        self.settings = settings
        self.geometry_path = settings.data_dir / WINDOW_GEOMETRY
        geometry = load_geometry(self.geometry_path)
        # Kept up to date from the resized/moved events: asking the window for
        # its size while it closes would deadlock the GUI thread on itself.
        self.geometry = dict(geometry)
        self.closed = False
        window = webview.create_window(
            current().name,
            html=screens.loading_page(log_file=str(settings.dirs.log_file)),
            width=geometry["width"], height=geometry["height"],
            x=geometry.get("x"), y=geometry.get("y"),
            min_size=MIN_SIZE,
            text_select=True,
        )
        assert window is not None  # pywebview returns None only for a window it could not make
        self.window = window
        # Pages loaded so far. Replacing the page before the loading page has
        # finished loading races pywebview's own script injection into it, so
        # show_* wait for that first load.
        self._loads = 0
        self._loaded = threading.Condition()
        self.window.events.loaded += self._on_loaded
        self.window.events.resized += self._on_resized
        self.window.events.moved += self._on_moved
        self.window.events.closing += self._on_closing
        self.window.events.closed += self._on_closed

    def run(self, boot: Callable[[], Any]) -> None:
        """Run the GUI loop on this (main) thread until the window closes."""
        webview = self._webview
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # QtWebEngine (the Qt backend) refuses to start as root with its
            # sandbox on; only root gets it turned off. WebKitGTK ignores this.
            os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
        # Files the UI offers for download get a save dialog instead of nothing.
        webview.settings["ALLOW_DOWNLOADS"] = True
        storage: Path | None = self.settings.data_dir / WEBVIEW_STORAGE
        try:
            storage.mkdir(mode=0o700, exist_ok=True)  # type: ignore[union-attr]
        except OSError as exc:  # an unusable data dir: the window still shows why
            log.warning("no persistent webview storage: %s", exc)
            storage = None
        gui = linux_backend(self.settings.webview)
        if gui == "qt":
            patches.fix_qt_platform(storage)
        if gui == "gtk":
            patches.fix_gtk_save_dialog_folder()
            if not has_gpu_render_node():
                # No GPU: WebKit's accelerated compositing would run on Mesa's
                # software GL. Measured here (Xvfb, 2 cores, n=7): without it the
                # loading screen is on screen 0.14 s sooner and the Gradio UI
                # usable 0.17 s sooner after sign-in. Someone who wants it
                # anyway sets WEBKIT_DISABLE_COMPOSITING_MODE=0.
                os.environ.setdefault("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        webview.settings["OPEN_EXTERNAL_LINKS_IN_BROWSER"] = True  # through webbrowser: see links.py
        use_persons_browser()
        webview.start(
            boot,
            gui=gui,
            # Persistent storage (not pywebview's private default), so a
            # "remember me" cookie survives a restart of the app.
            private_mode=storage is None,
            storage_path=str(storage) if storage else None,
            debug=self.settings.debug,
            # The taskbar / dock icon (GTK and Qt; Windows and macOS take the executable's).
            icon=current().icon,
        )
        if gui == "qt":
            try:
                patches.close_qt_profiles()
            except Exception:  # only a flush: the server must still be stopped and the store closed
                log.warning("could not close Qt's web profile; cookies of the last 30 s may be lost",
                            exc_info=True, extra=FILE_ONLY)
        save_geometry(self.geometry_path, self.geometry)

    def wait_first_load(self, timeout: float) -> bool:
        return self.wait_next_load(0, timeout)

    def wait_next_load(self, after: int, timeout: float) -> bool:
        """Wait until more than `after` pages have loaded (see `loads`)."""
        with self._loaded:
            return self._loaded.wait_for(lambda: self._loads > after or self.closed, timeout)

    @property
    def loads(self) -> int:
        return self._loads

    def show_url(self, url: str) -> None:
        self.wait_first_load(5)
        if not self.closed:
            self.window.load_url(url)

    def store_choice(self) -> str | None:
        """What the person pressed on the damaged-store screen: "restore",
        "fresh", or None (nothing yet)?

        Polled from Python rather than offered as a pywebview js_api: an API
        object would be exposed to every page the window loads, Gradio's too,
        and pywebview's injection of it breaks on our CSP-protected pages."""
        if self.closed:
            return None
        try:
            choice = self.window.evaluate_js("window.storeChoice || null")
        except Exception:  # the page is changing or the window closing: not yet
            return None
        return choice if choice in ("restore", "fresh") else None

    def show_loading(self) -> None:
        if not self.closed:
            self.window.load_html(screens.loading_page(log_file=str(self.settings.dirs.log_file)))

    def show_error(self, message: str, *, offer_fresh_start: bool = False, backup_made: str | None = None) -> None:
        self.wait_first_load(5)
        if not self.closed:
            self.window.load_html(screens.error_page(message=message, log_file=str(self.settings.dirs.log_file),
                                                     offer_fresh_start=offer_fresh_start, backup_made=backup_made))

    def bring_to_front(self) -> None:
        if self.closed:
            return
        self.window.restore()
        self.window.show()
        # Toggling "on top" is the portable way to raise a window without focus-stealing rules.
        self.window.on_top = True
        self.window.on_top = False

    def close(self) -> None:
        if not self.closed:
            self.window.destroy()

    def _on_loaded(self) -> None:
        with self._loaded:
            self._loads += 1
            self._loaded.notify_all()
        # bench/window_start.py reads these lines (their timestamps) from the log.
        log.info("page %d loaded in the window", self._loads)

    def _on_resized(self, width: int, height: int) -> None:
        self.geometry.update(width=int(width), height=int(height))

    def _on_moved(self, x: int, y: int) -> None:
        self.geometry.update(x=int(x), y=int(y))

    def _on_closing(self) -> None:
        log.info("window closing")

    def _on_closed(self) -> None:
        with self._loaded:  # nobody waits for a page in a closed window
            self.closed = True
            self._loaded.notify_all()

