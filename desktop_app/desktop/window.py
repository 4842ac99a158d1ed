"""The native window. The only module that imports `webview` (pywebview).

The window opens at once on a loading page that needs no server; `run()` then
calls `boot` in a pywebview worker thread, which starts the server and calls
`show_url`. The GUI loop owns the main thread until the window closes.

Linux backend: WebKitGTK (PyGObject + the system's libwebkit2gtk-4.1), chosen
over Qt for size (2 MB in the venv instead of 526 MB) at the same start time;
Qt (PyQt6-WebEngine) when only that is installed, or when --webview qt says so.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.desktop import screens
from desktop_app.identity import APP_NAME, ICON
from desktop_app.logs import FILE_ONLY
from desktop_app.paths import WEBVIEW_STORAGE, WINDOW_GEOMETRY
from desktop_app.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1100, 760)
MIN_SIZE = (480, 360)


def unavailable_reason(engine: str = "auto") -> str | None:
    """Why no window can open here, in one phrase; None if it can.
    `engine`: the --webview setting (auto, gtk or qt; Linux only)."""
    # DISPLAY / WAYLAND_DISPLAY describe the platform, not our configuration,
    # so they are read here, next to the toolkit that needs them.
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "no display found (DISPLAY and WAYLAND_DISPLAY are not set)"
    try:
        import webview  # noqa: F401
    except ImportError:
        return "the desktop window needs pywebview: pip install 'desktop-app[window]'"
    if sys.platform.startswith("linux") and linux_backend(engine) is None:
        if engine == "qt":
            return "--webview qt: Qt WebEngine is not installed (pip install 'desktop-app[window-qt]')"
        if engine == "gtk":
            return ("--webview gtk: WebKitGTK is not installed (apt-get install gir1.2-webkit2-4.1, "
                    "then pip install 'desktop-app[window]')")
        return ("no webview toolkit found: install WebKitGTK (apt-get install gir1.2-webkit2-4.1) "
                "and pip install 'desktop-app[window]'")
    return None


def linux_backend(engine: str = "auto") -> str | None:
    """'gtk' or 'qt' (None: the one asked for, or any, is not installed), chosen
    here rather than by pywebview, whose own fallback prints a traceback on
    stderr for the toolkit it could not load."""
    if not sys.platform.startswith("linux"):
        return None  # pywebview's choice: the system webview
    if engine in ("auto", "gtk") and _has_gtk_webkit():
        return "gtk"
    if engine in ("auto", "qt") and _has_qt_webengine():
        return "qt"
    return None


def _has_gtk_webkit() -> bool:
    try:
        import gi

        gi.require_version("Gtk", "3.0")
        gi.require_version("WebKit2", "4.1")
        return True
    except (ImportError, ValueError):
        return False


def has_gpu_render_node() -> bool:
    """A GPU the kernel offers for rendering (Linux: /dev/dri/renderD*). VMs,
    Xvfb and remote sessions usually have none, so GL there is software."""
    try:
        return any(name.startswith("renderD") for name in os.listdir("/dev/dri"))
    except OSError:
        return False


def _has_qt_webengine() -> bool:
    try:
        import PyQt6.QtWebEngineWidgets  # noqa: F401
        return True
    except ImportError:
        return False


def load_geometry(path: Path) -> dict[str, int]:
    """Last size and position, and the last server port (see `last_port`);
    defaults for a missing or unreadable file."""
    geometry = {"width": DEFAULT_SIZE[0], "height": DEFAULT_SIZE[1]}
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        return geometry
    except (OSError, ValueError) as exc:
        log.warning("ignoring window geometry in %s: %s", path, exc)
        return geometry
    for key, low, high in (("width", MIN_SIZE[0], 10000), ("height", MIN_SIZE[1], 10000),
                           ("x", -10000, 10000), ("y", -10000, 10000), ("port", 1024, 65535)):
        value = saved.get(key) if isinstance(saved, dict) else None
        if isinstance(value, int) and low <= value <= high:
            geometry[key] = value
    return geometry


def save_geometry(path: Path, geometry: dict[str, int]) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(geometry, f)
        os.replace(tmp, path)
    except OSError as exc:  # losing the window position is not worth an error
        log.warning("could not save window geometry to %s: %s", path, exc)


def _download_folder() -> Path:
    """Where a save dialog starts: ~/Downloads, or the home folder without one."""
    downloads = Path.home() / "Downloads"
    return downloads if downloads.is_dir() else Path.home()


def _fix_gtk_save_dialog_folder() -> None:
    """pywebview's GTK save dialog (downloads) opens in the XDG download folder;
    GLib reports none when ~/.config/user-dirs.dirs is missing (minimal installs,
    servers, CI), and then `set_current_folder(None)` raises a TypeError inside
    the download callback: the download silently does nothing. Start such a
    dialog in ~/Downloads, or the home folder, instead."""
    from webview.platforms import gtk as gtk_platform

    view = gtk_platform.BrowserView
    if getattr(view.create_file_dialog, "_desktop_app_fixed", False):
        return
    original = view.create_file_dialog

    def create_file_dialog(self, dialog_type, directory, *args):  # type: ignore[no-untyped-def]
        return original(self, dialog_type, directory or str(_download_folder()), *args)

    create_file_dialog._desktop_app_fixed = True  # type: ignore[attr-defined]
    view.create_file_dialog = create_file_dialog


def _fix_qt_platform(storage: Path | None) -> None:
    """Two fixes to pywebview 6.2's Qt backend. Its download handler calls
    `setPath`, which Qt 6 removed: every download raised an AttributeError and
    nothing was saved (it also offered the URL's path, /gradio/gradio_api/file=...,
    as the file name); this one offers ~/Downloads (or home) and the file's own
    name. And its profile must be told our storage folder (see below)."""
    from qtpy.QtWidgets import QFileDialog
    from webview.platforms import qt as qt_platform

    if storage is not None:
        # pywebview reads start()'s storage_path into this at the module's
        # import, which it expects to do itself inside start(); importing it
        # here first would put the cookies in ~/.pywebview (seen in testing).
        qt_platform._profile_storage_path = str(storage)
    view = qt_platform.BrowserView
    if getattr(view.on_download_requested, "_desktop_app_fixed", False):
        return

    def on_download_requested(self, download):  # type: ignore[no-untyped-def]
        name = download.downloadFileName() or "download"
        path, _ = QFileDialog.getSaveFileName(self, self.localization["global.saveFile"],
                                              str(_download_folder() / name))
        if not path:
            download.cancel()
            return
        download.setDownloadDirectory(str(Path(path).parent))
        download.setDownloadFileName(Path(path).name)
        download.accept()

    on_download_requested._desktop_app_fixed = True  # type: ignore[attr-defined]
    view.on_download_requested = on_download_requested


def _close_qt_profiles() -> None:
    """Qt WebEngine (Chromium) writes cookies to disk every 30 s and when its
    profile is destroyed; pywebview never destroys it, and we end the process
    with os._exit (see desktop.exit_now). So a "keep me signed in" cookie set
    less than 30 s before the window closed was lost. Destroying the profiles
    here, after the GUI loop and before the exit, writes them."""
    import gc

    from qtpy import sip
    from qtpy.QtCore import QCoreApplication, QEvent
    from qtpy.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    # A profile outlives its pages, or its destruction is put off (Qt warns).
    # The window's page was only scheduled for deletion (the loop ended first);
    # pywebview's link handler is a second page, owned by Python alone.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    # Found through the garbage collector because nothing else lists them (and
    # asking the view for its page() would make a new one): ~0.09 s with Gradio
    # loaded, after the window is gone from the screen.
    for page in [o for o in gc.get_objects() if isinstance(o, QWebEnginePage)]:
        if not sip.isdeleted(page):
            sip.delete(page)
    for widget in app.topLevelWidgets():
        profile = getattr(widget, "profile", None)
        if isinstance(profile, QWebEngineProfile) and not sip.isdeleted(profile):
            sip.delete(profile)


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
        self.window = webview.create_window(
            f"{APP_NAME}",
            html=screens.loading_page(log_file=str(settings.dirs.log_file)),
            width=geometry["width"], height=geometry["height"],
            x=geometry.get("x"), y=geometry.get("y"),
            min_size=MIN_SIZE,
            text_select=True,
        )
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
            _fix_qt_platform(storage)
        if gui == "gtk":
            _fix_gtk_save_dialog_folder()
            if not has_gpu_render_node():
                # No GPU: WebKit's accelerated compositing would run on Mesa's
                # software GL. Measured here (Xvfb, 2 cores, n=7): without it the
                # loading screen is on screen 0.14 s sooner and the Gradio UI
                # usable 0.17 s sooner after sign-in. Someone who wants it
                # anyway sets WEBKIT_DISABLE_COMPOSITING_MODE=0.
                os.environ.setdefault("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        webview.settings["OPEN_EXTERNAL_LINKS_IN_BROWSER"] = True
        webview.start(
            boot,
            gui=gui,
            # Persistent storage (not pywebview's private default), so a
            # "remember me" cookie survives a restart of the app.
            private_mode=storage is None,
            storage_path=str(storage) if storage else None,
            debug=self.settings.debug,
            # The taskbar / dock icon (GTK and Qt; Windows and macOS take the executable's).
            icon=str(Path(__file__).parents[1] / ICON),  # ICON is relative to the package
        )
        if gui == "qt":
            try:
                _close_qt_profiles()
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

    @property
    def last_port(self) -> int | None:
        """The server's port in the last run. Serving on it again keeps the page
        origin the same, and with it the window's web cache and local storage:
        on a new port each launch, WebKit fetched all of Gradio's ~60 scripts
        and stylesheets again at the first sign-in."""
        return self.geometry.get("port")

    def remember_port(self, port: int) -> None:
        self.geometry["port"] = port  # saved with the geometry when the window closes

    def show_url(self, url: str) -> None:
        self.wait_first_load(5)
        if not self.closed:
            self.window.load_url(url)

    def fresh_start_requested(self) -> bool:
        """Has the person pressed "start fresh" on the damaged-store screen?

        Polled from Python rather than offered as a pywebview js_api: an API
        object would be exposed to every page the window loads, Gradio's too,
        and pywebview's injection of it breaks on our CSP-protected pages."""
        if self.closed:
            return False
        try:
            return self.window.evaluate_js("window.startFresh === true") is True
        except Exception:  # the page is changing or the window closing: not yet
            return False

    def show_loading(self) -> None:
        if not self.closed:
            self.window.load_html(screens.loading_page(log_file=str(self.settings.dirs.log_file)))

    def show_error(self, message: str, *, offer_fresh_start: bool = False) -> None:
        self.wait_first_load(5)
        if not self.closed:
            self.window.load_html(screens.error_page(message=message, log_file=str(self.settings.dirs.log_file),
                                                     offer_fresh_start=offer_fresh_start))

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

