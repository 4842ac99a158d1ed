"""Who the app is: its name, slug, version, ids, icon and UI.

One process runs one app, and which app is known before anything else is
read (the command's name in `--help`, `--version`, the folders, the cookies),
so it is chosen once at the edge and read from here at the moment it is used:
- a frozen bundle carries its own (`desktop-app build` writes BUNDLED into it);
- `desktop-app run` uses the project's `[tool.desktop-app]` table (project.py);
- otherwise it is DEMO, this package's own demo, as a source checkout runs it.

Nothing reads it at import time, so `use()` before the first call is enough.
The installer scripts, which are not Python, get it from freeze/installers.py.
"""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

# The tool's own version (the package's, not an app's): pyproject reads it.
VERSION = "0.1.0"
# In a bundle: the identity and icon `desktop-app build` put beside this module.
BUNDLED = "app-identity.json"
BUNDLED_ICON = "app-icon.png"
_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Identity:
    name: str  # the window title, the pages, the installer and menu name
    # Folder names (platformdirs), the cookie prefix, the command, the executable
    # and the Linux package name: lowercase letters, digits and '-'.
    slug: str
    version: str
    # Reverse-DNS id: macOS CFBundleIdentifier, the Linux desktop entry's file name.
    bundle_id: str
    ui: str  # the Gradio UI that ships, as MODULE:FUNCTION (`--ui` overrides it)
    icon: str  # absolute path of a PNG: the window icon, the favicon, the installers' source
    description: str
    maintainer: str  # the .deb's Maintainer: "Name <email>"
    # Windows: the installer's AppId. It must stay the same for the life of the
    # product, or upgrades install beside the old version instead of over it.
    windows_app_id: str
    homepage: str = ""

    @property
    def author(self) -> str:
        # platformdirs' appauthor (a folder level on Windows): the slug, so two
        # apps never share one.
        return self.slug

    def to_json(self) -> str:
        # Without the icon's path (the build machine's): the bundle has its own copy.
        return json.dumps({k: v for k, v in asdict(self).items() if k != "icon"}, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, icon: str) -> Identity:
        return cls(**{**json.loads(text), "icon": icon})


def windows_app_id_for(bundle_id: str) -> str:
    """A stable AppId from the bundle id: the same id gives the same AppId on
    every build machine, so upgrades find the installed version."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, bundle_id)).upper()


DEMO = Identity(
    name="Desktop App",
    slug="desktop-app",
    version=VERSION,
    bundle_id="org.desktopapp.DesktopApp",
    ui="desktop_app.ui.demo:build",
    icon=str(_HERE / "web" / "static" / "icon.png"),
    description="A Gradio app on this computer, behind a local login.",
    maintainer="Desktop App developers <maintainers@desktopapp.invalid>",
    windows_app_id="7C1D5E0A-3B8F-4D62-9A57-2E4F6B1C8D93",
)

_current: Identity | None = None


def bundled() -> Identity | None:
    """The identity a frozen bundle was built with; None anywhere else."""
    path = _HERE / BUNDLED
    if not getattr(sys, "frozen", False) or not path.is_file():
        return None
    return Identity.from_json(path.read_text(encoding="utf-8"), icon=str(_HERE / BUNDLED_ICON))


def use(identity: Identity) -> None:
    """Make `identity` the app this process is (the CLI calls it once, first)."""
    global _current
    _current = identity


def current() -> Identity:
    if _current is None:
        use(bundled() or DEMO)
    assert _current is not None
    return _current
