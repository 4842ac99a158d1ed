"""Print the app's identity for the installer scripts, which are not Python:

    eval "$(python build/identity.py)"          # shell: APP_NAME, APP_SLUG, APP_VERSION, ...
    python build/identity.py --format iss > x   # Inno Setup: #define AppName "..." ...

The values live in desktop_app/identity.py; this only translates them.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> None:
    fmt = argv[argv.index("--format") + 1] if "--format" in argv else "shell"
    if fmt not in ("shell", "iss"):
        sys.exit(f"identity.py: --format must be shell or iss, not {fmt!r}")
    sys.path.insert(0, str(ROOT))
    from desktop_app import identity as i

    values = {
        "APP_NAME": i.APP_NAME, "APP_SLUG": i.APP_SLUG, "APP_VERSION": i.VERSION,
        "BUNDLE_ID": i.BUNDLE_ID, "APP_DESCRIPTION": i.DESCRIPTION,
        "WINDOWS_APP_ID": i.WINDOWS_APP_ID, "MAINTAINER": i.MAINTAINER,
        "APP_ICON": str(ROOT / "desktop_app" / i.ICON),
    }
    for key, value in values.items():
        if fmt == "shell":
            print(f"{key}={shlex.quote(value)}")
        else:  # APP_NAME -> AppName; ISPP strings have no escapes, so refuse a quote
            if '"' in value:
                sys.exit(f"identity.py: {key} contains a double quote, which Inno Setup cannot take: {value!r}")
            print(f'#define {"".join(w.capitalize() for w in key.lower().split("_"))} "{value}"')


if __name__ == "__main__":
    main(sys.argv[1:])
