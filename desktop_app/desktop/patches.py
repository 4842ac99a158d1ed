"""Workarounds for pywebview 6.2's GTK and Qt backends, each guarded: it applies
only to the pywebview releases it was written against (FIXED_UP_TO) and only if
what it replaces is still there; otherwise pywebview behaves as it does, and
the log says so once. Searched on 2026-12-02, no upstream issue exists for any
of them yet (r0x0r/pywebview): each says what one should report.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

log = logging.getLogger(__name__)

# The newest pywebview (major, minor) these were tested on. A later release is
# left alone: re-test the downloads and the Qt cookie tests, then raise this.
FIXED_UP_TO = (6, 2)


def applies(what: str, *, installed: str | None = None) -> bool:
    """Whether the installed pywebview is one the workaround `what` was made for."""
    if installed is None:
        try:
            installed = version("pywebview")
        except PackageNotFoundError:
            # No metadata (a bundle built without it): what it replaces is still
            # checked before each patch, so apply it rather than lose the fix.
            log.info("pywebview's version is unknown: %s is applied", what)
            return True
    try:
        major_minor = tuple(int(part) for part in installed.split(".")[:2])
    except ValueError:
        major_minor = (999, 0)
    if major_minor <= FIXED_UP_TO:
        return True
    log.info("pywebview %s is newer than %d.%d: %s is not applied", installed, *FIXED_UP_TO, what)
    return False


def download_folder() -> Path:
    """Where a save dialog starts: ~/Downloads, or the home folder without one."""
    downloads = Path.home() / "Downloads"
    return downloads if downloads.is_dir() else Path.home()


def fix_gtk_save_dialog_folder() -> None:
    """pywebview's GTK save dialog (downloads) opens in the XDG download folder;
    GLib reports none when ~/.config/user-dirs.dirs is missing (minimal installs,
    servers, CI), and then `set_current_folder(None)` raises a TypeError inside
    the download callback: the download silently does nothing. Start such a
    dialog in ~/Downloads, or the home folder, instead.
    To report upstream: webview/platforms/gtk.py, download with no XDG download dir."""
    if not applies("the GTK save-dialog folder fix"):
        return
    from webview.platforms import gtk as gtk_platform

    view = getattr(gtk_platform, "BrowserView", None)
    original = getattr(view, "create_file_dialog", None)
    if view is None or original is None or getattr(original, "_desktop_app_fixed", False):
        return

    def create_file_dialog(self, dialog_type, directory, *args):
        return original(self, dialog_type, directory or str(download_folder()), *args)

    create_file_dialog._desktop_app_fixed = True  # type: ignore[attr-defined]
    view.create_file_dialog = create_file_dialog


def fix_qt_platform(storage: Path | None) -> None:
    """Two fixes to pywebview 6.2's Qt backend.
    - Its download handler calls `setPath`, which Qt 6 removed: every download
      raised an AttributeError and nothing was saved (it also offered the URL's
      path, /gradio/gradio_api/file=..., as the file name); this one offers
      ~/Downloads (or home) and the file's own name.
    - Its profile must be told our storage folder (see below).
    To report upstream: webview/platforms/qt.py `on_download_requested` on Qt 6."""
    if not applies("the Qt download and storage fixes"):
        return
    from qtpy.QtWidgets import QFileDialog
    from webview.platforms import qt as qt_platform

    if storage is not None and hasattr(qt_platform, "_profile_storage_path"):
        # pywebview reads start()'s storage_path into this at the module's
        # import, which it expects to do itself inside start(); importing it
        # here first would put the cookies in ~/.pywebview (seen in testing).
        qt_platform._profile_storage_path = str(storage)
    view = getattr(qt_platform, "BrowserView", None)
    original = getattr(view, "on_download_requested", None)
    if view is None or original is None or getattr(original, "_desktop_app_fixed", False):
        return

    def on_download_requested(self, download):
        name = download.downloadFileName() or "download"
        path, _ = QFileDialog.getSaveFileName(self, self.localization["global.saveFile"],
                                              str(download_folder() / name))
        if not path:
            download.cancel()
            return
        download.setDownloadDirectory(str(Path(path).parent))
        download.setDownloadFileName(Path(path).name)
        download.accept()

    on_download_requested._desktop_app_fixed = True  # type: ignore[attr-defined]
    view.on_download_requested = on_download_requested


def close_qt_profiles() -> None:
    """Qt WebEngine (Chromium) writes cookies to disk every 30 s and when its
    profile is destroyed; pywebview never destroys it, and we end the process
    with os._exit (see boot.exit_now). So a "keep me signed in" cookie set
    less than 30 s before the window closed was lost. Destroying the profiles
    here, after the GUI loop and before the exit, writes them.
    To report upstream: the Qt backend could destroy its profile when the
    last window closes. Harmless on any release: it only flushes."""
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
    for widget in app.topLevelWidgets():  # type: ignore[attr-defined]  # a QApplication: pywebview made it
        profile = getattr(widget, "profile", None)
        if isinstance(profile, QWebEngineProfile) and not sip.isdeleted(profile):
            sip.delete(profile)
