"""Who the app is: the one place for its name, version and ids.

The CLI, the paths, the page titles and (later) the PyInstaller spec and the
installers all read these, so renaming the product is a one-file change.
"""

APP_NAME = "Desktop App"
# Used for directory names (platformdirs), the cookie prefix and the console script.
APP_SLUG = "desktop-app"
APP_AUTHOR = "desktop-app"
VERSION = "0.1.0"
BUNDLE_ID = "org.desktopapp.DesktopApp"
