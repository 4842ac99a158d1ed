"""`python -m desktop_app.freeze.check_ui MODULE:FUNCTION`: build the UI once, as
the app would, before minutes of freezing: a `ui` that cannot be imported, or
that returns no Blocks, is one line on stderr (exit 2) instead of a bundle
that cannot start. Run by bundle.py in a process of its own, in the project."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from desktop_app.errors import UserError


def main(argv: list[str]) -> int:
    """argv: the `ui` value, and the folder for the log (a traceback goes there)."""
    from desktop_app.logs import setup_logging
    from desktop_app.settings import Settings
    from desktop_app.web.gradio_mount import build_blocks

    ui, log_dir = argv
    with tempfile.TemporaryDirectory(prefix="desktop-app-check-") as scratch:
        settings = Settings.build({"ui": ui, "data_dir": str(Path(scratch)), "log_dir": log_dir}, environ={})
        setup_logging(settings)
        try:
            build_blocks(settings)
        except UserError as exc:
            print(exc.message, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
