"""What app.spec leaves out of the bundle, and why. Used by app.spec only.

Measured on the Linux build (PyInstaller 6.22, Debian 12): the unfiltered
onedir bundle is 374 MB; most of the excess is the build machine's GTK stack
(libraries, icon themes, translations) that PyInstaller's gi hooks copy in.
"""

from __future__ import annotations

import sys
from typing import Any

# Never imported by the app, but reachable through optional imports.
EXCLUDED_MODULES = [
    "tkinter", "_tkinter",
    # Other webview toolkits: the Linux bundle uses the system's WebKitGTK.
    "PyQt6", "PyQt5", "PySide6", "PySide2", "qtpy",
    # Test and development tools that may be installed in the build venv.
    "pytest", "_pytest", "playwright", "IPython", "matplotlib", "PyInstaller",
    # Hugging Face's transfer client: only for hub uploads/downloads, which an
    # offline desktop app never does (huggingface_hub checks for it lazily).
    "hf_xet",
    # Only a fallback import in semantic_version (which finds its version through
    # importlib.metadata first); bundled, it also brings PyInstaller's runtime
    # hook that imports pkg_resources at every start.
    "pkg_resources", "setuptools",
]

# PyInstaller's runtime hooks for the gi hooks' copies: they point GTK,
# GIO and gdk-pixbuf at files we leave out, away from the system's.
_GTK_RUNTIME_HOOKS = {"pyi_rth_gi", "pyi_rth_gtk", "pyi_rth_glib", "pyi_rth_gio", "pyi_rth_gdkpixbuf"}
# Where the gi hooks put what they collect from the build machine: typelibs,
# GIO modules, pixbuf loaders, icon themes, translations, fontconfig files and
# GSettings schemas (compiled into a temp dir first). No Python package puts
# data at these top-level names.
_GTK_DATA_PREFIXES = ("gi_typelibs/", "gio_modules/", "lib/gdk-pixbuf/", "share/", "etc/")
_SYSTEM_LIB_DIRS = ("/usr/lib", "/lib", "/usr/lib64", "/lib64", "/usr/local/lib")


def _is_system_library(source: str) -> bool:
    return source.startswith(_SYSTEM_LIB_DIRS)


def apply(analysis: Any) -> None:
    """Filter the Analysis in place (Linux only; other systems use it as is).

    Linux: the bundle carries Python and the Python packages (with the
    libraries their wheels ship, under mangled names), never the
    distribution's own C libraries. Those come from the system, so that:
    - the system's GTK and WebKitGTK (loaded through gi) never meet an older
      or newer copy of libglib, libstdc++ or libffi from the build machine;
    - OpenSSL, SQLite and WebKit get the distribution's security updates.
    build/linux/make_deb turns what the bundle then needs from the system into
    the package's Depends (dpkg-shlibdeps), so nothing is left to chance.
    """
    if not sys.platform.startswith("linux"):
        return
    analysis.binaries = [entry for entry in analysis.binaries if not _is_system_library(entry[1])]
    analysis.datas = [entry for entry in analysis.datas if not entry[0].startswith(_GTK_DATA_PREFIXES)]
    analysis.scripts = [entry for entry in analysis.scripts if entry[0] not in _GTK_RUNTIME_HOOKS]

