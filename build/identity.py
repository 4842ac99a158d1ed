"""Print the app's identity for the installer scripts, which are not Python:

    eval "$(python build/identity.py)"          # shell: APP_NAME, APP_SLUG, APP_VERSION, ...
    python build/identity.py --format iss > x   # Inno Setup: #define AppName "..." ...

The values are this repository's [tool.desktop-app] table in pyproject.toml (the
demo's identity); this only translates them.
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
    from desktop_app.project import load_project

    i = load_project(ROOT / "pyproject.toml").identity()
    values = {
        "APP_NAME": i.name, "APP_SLUG": i.slug, "APP_VERSION": i.version,
        "BUNDLE_ID": i.bundle_id, "APP_DESCRIPTION": i.description,
        "WINDOWS_APP_ID": i.windows_app_id, "MAINTAINER": i.maintainer, "APP_ICON": i.icon,
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
