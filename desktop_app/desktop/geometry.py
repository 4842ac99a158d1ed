"""The window's size and position between runs (`window.json` in the data dir).

A missing or unreadable file gives the defaults; a value out of range is
ignored on its own. Written once, when the window closes, like every file we
keep: owner-only, atomically and synced (paths.write_private).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from desktop_app.paths import write_private

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1100, 760)
MIN_SIZE = (480, 360)


def load_geometry(path: Path) -> dict[str, int]:
    """Last size and position; defaults for a missing or unreadable file."""
    geometry = {"width": DEFAULT_SIZE[0], "height": DEFAULT_SIZE[1]}
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        return geometry
    except (OSError, ValueError) as exc:
        log.warning("ignoring window geometry in %s: %s", path, exc)
        return geometry
    for key, low, high in (("width", MIN_SIZE[0], 10000), ("height", MIN_SIZE[1], 10000),
                           ("x", -10000, 10000), ("y", -10000, 10000)):
        value = saved.get(key) if isinstance(saved, dict) else None
        if isinstance(value, int) and low <= value <= high:
            geometry[key] = value
    return geometry


def save_geometry(path: Path, geometry: dict[str, int]) -> None:
    try:
        write_private(path, json.dumps(geometry))
    except OSError as exc:  # losing the window position is not worth an error
        log.warning("could not save window geometry to %s: %s", path, exc)
