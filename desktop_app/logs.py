"""Logging: a rotating file in the user log dir, and stderr for warnings.

The file is where a person who never sees a terminal (and whoever helps them)
finds what went wrong; pages and error lines point to it.
"""

from __future__ import annotations

import logging
import logging.handlers

from desktop_app.errors import UserError
from desktop_app.paths import ensure_private_dir
from desktop_app.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Pass as `extra=` for records (tracebacks, mostly) that belong in the log file
# only: the person sees the one-line error instead.
FILE_ONLY = {"file_only": True}


class _ConsoleFormatter(logging.Formatter):
    """One line per record on stderr: tracebacks stay in the log file, even
    when a library (uvicorn's lifespan, say) puts one in the message itself."""

    def format(self, record: logging.LogRecord) -> str:
        lines = [line for line in record.getMessage().splitlines() if line.strip()]
        if len(lines) <= 1:
            return f"{record.levelname}: {lines[0] if lines else ''}"
        summary = lines[-1].strip() if lines[0].startswith("Traceback") else lines[0]
        return f"{record.levelname}: {summary} (details in the log)"


def _not_file_only(record: logging.LogRecord) -> bool:
    return not getattr(record, "file_only", False)


def setup_logging(settings: Settings) -> None:
    # A log line that cannot be written (a full disk, say) is dropped quietly,
    # instead of logging's default "--- Logging error ---" traceback on stderr.
    logging.raiseExceptions = False
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    level = logging.DEBUG if settings.debug else logging.INFO
    root.setLevel(level)

    console = logging.StreamHandler()  # stderr: stdout carries only READY and CLI output
    console.setLevel(logging.DEBUG if settings.debug else logging.WARNING)
    console.setFormatter(_ConsoleFormatter())
    console.addFilter(_not_file_only)
    root.addHandler(console)

    try:
        ensure_private_dir(settings.dirs.log, what="log directory", flag="--log-dir")
        file_handler = logging.handlers.RotatingFileHandler(
            settings.dirs.log_file, maxBytes=1 << 20, backupCount=3, encoding="utf-8"
        )
    except (UserError, OSError) as exc:
        # No log file is no reason to refuse to start; say so once on stderr.
        logging.getLogger(__name__).warning("Logging to stderr only: %s", exc)
        return
    file_handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(file_handler)
    # httpx (used by gradio) logs every request at INFO; not worth a line each.
    logging.getLogger("httpx").setLevel(logging.WARNING)
