"""What an optional part of this package needs, as a pip command a person can
run. The names come from this package's own metadata (pyproject's extras), so
the advice stays true; "desktop-app[window]" would not do: that name on PyPI is
somebody else's project.
"""

from __future__ import annotations

import importlib.metadata


def pip_install(extra: str) -> str:
    """'pip install pywebview==6.2.1 PyGObject==3.50.2 ...' for `extra` on this system."""
    from packaging.requirements import InvalidRequirement, Requirement

    wanted = []
    try:
        lines = importlib.metadata.requires("desktop-app") or []
    except importlib.metadata.PackageNotFoundError:  # e.g. a frozen app without its metadata
        lines = []
    for line in lines:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and req.marker.evaluate({"extra": extra}) and not req.marker.evaluate({"extra": ""}):
            wanted.append(f"{req.name}{req.specifier}")
    if not wanted:
        return f"pip install this package with its [{extra}] extra"
    return "pip install " + " ".join(wanted)
