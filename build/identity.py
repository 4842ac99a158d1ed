"""Print the app's identity as shell assignments, for the installer scripts:

    eval "$(python build/identity.py)"    # APP_NAME, APP_SLUG, APP_VERSION, ...

The values live in desktop_app/identity.py; this only translates them.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from desktop_app import identity as i

    values = {
        "APP_NAME": i.APP_NAME, "APP_SLUG": i.APP_SLUG, "APP_VERSION": i.VERSION,
        "BUNDLE_ID": i.BUNDLE_ID, "APP_DESCRIPTION": i.DESCRIPTION,
        "WINDOWS_APP_ID": i.WINDOWS_APP_ID, "MAINTAINER": i.MAINTAINER,
        "APP_ICON": str(ROOT / "desktop_app" / i.ICON),
    }
    for key, value in values.items():
        print(f"{key}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
