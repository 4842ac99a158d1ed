"""Which web engine the window can use here, and why none can. Imports the
toolkits only to probe for them, inside functions.

Linux: WebKitGTK (PyGObject + the system's libwebkit2gtk-4.1), chosen over Qt
for size (2 MB in the venv instead of 526 MB) at the same start time; Qt
(PyQt6-WebEngine) when only that is installed, or when --webview qt says so.
Other systems: pywebview's choice, the system webview.
"""

from __future__ import annotations

import os
import sys

from desktop_app.extras import pip_install


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
        return f"the desktop window needs pywebview: {pip_install('window')}"
    if sys.platform.startswith("linux") and linux_backend(engine) is None:
        if engine == "qt":
            return f"--webview qt: Qt WebEngine is not installed ({pip_install('window-qt')})"
        if engine == "gtk":
            return ("--webview gtk: WebKitGTK is not installed (apt-get install gir1.2-webkit2-4.1, "
                    f"then {pip_install('window')})")
        return ("no webview toolkit found: install WebKitGTK (apt-get install gir1.2-webkit2-4.1) "
                f"and {pip_install('window')}")
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
