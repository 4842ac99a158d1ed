"""Who the app is: the one place for its name, version, ids, icon and UI.

The CLI, the paths, the page titles, the window, the PyInstaller spec
(`app.spec`), pyproject's version and the installers under `build/` all read
these, so renaming the product is a one-file change. The installer scripts,
which are not Python, read them through `build/identity.py`.
"""

APP_NAME = "Desktop App"
# Used for directory names (platformdirs), the cookie prefix, the command, the
# executable and the Linux package name: lowercase letters, digits and '-'.
APP_SLUG = "desktop-app"
APP_AUTHOR = "desktop-app"
VERSION = "0.1.0"
# Reverse-DNS id: macOS CFBundleIdentifier, the Linux desktop entry's file name.
BUNDLE_ID = "org.desktopapp.DesktopApp"
DESCRIPTION = "A Gradio app on this computer, behind a local login."
# Windows: the installer's AppId. Keep it for the life of the product, or
# upgrades install beside the old version instead of over it.
WINDOWS_APP_ID = "7C1D5E0A-3B8F-4D62-9A57-2E4F6B1C8D93"
MAINTAINER = "Desktop App developers <maintainers@desktopapp.invalid>"
# Inside the package: the window icon, the favicon, and the source that the spec
# and the installers convert to .ico / .icns / hicolor PNGs.
ICON = "web/static/icon.png"
# The Gradio UI that ships (`--ui` overrides it at run time). The spec bundles
# this module's whole package, so a developer's UI needs no hidden imports.
UI_FACTORY = "desktop_app.ui.demo:build"

