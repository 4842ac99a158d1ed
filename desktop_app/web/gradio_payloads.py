"""What a Gradio payload names: URLs a `file=` value or a file input must not
be, and the temp-file paths an answer gives out or a request refers to.
Pure functions on parsed JSON, nothing of ASGI (gradio_shield.py uses them).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*:", re.I)


_DRIVE = re.compile(r"^[a-z]:[\\/]", re.I)  # C:\ or C:/ on Windows is a path, not a scheme


_BLANKS = "".join(chr(c) for c in range(33))  # what URL parsers strip before a scheme


def names_a_url(value: str) -> bool:
    """True for anything a client could take as a URL rather than a local path:
    a scheme (`http:`, `HTTPS:`, `file:`, `data:`...) or a network path (`//`,
    `\\\\`, `/\\`), however often percent-encoded, after the blanks and control
    characters that URL parsers skip."""
    for _ in range(10):  # %25252F...: decode until nothing changes
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    # WHATWG URL parsing drops tabs and newlines anywhere ("ht\ttp:").
    value = re.sub(r"[\t\n\r]", "", value).lstrip(_BLANKS).replace("\\", "/")
    if os.name == "nt" and _DRIVE.match(value):
        return False
    return bool(_SCHEME.match(value)) or value.startswith("//")


def dicts(value: Any) -> Iterator[dict]:
    """Every dict in a JSON value, at any depth (iteratively: no recursion limit)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def file_paths(value: Any) -> Iterator[str]:
    """The path of every Gradio FileData in a JSON value."""
    for item in dicts(value):
        path, meta = item.get("path"), item.get("meta")
        if isinstance(path, str) and isinstance(meta, dict) and meta.get("_type") == "gradio.FileData":
            yield path


def input_paths(value: Any) -> Iterator[str]:
    """Stricter than file_paths, for what a client sends: any dict's "path"."""
    for item in dicts(value):
        if isinstance(item.get("path"), str):
            yield item["path"]


TOO_DEEP = object()


def parse_body(body: bytes) -> Any:
    """(payload, the paths it names) or None (not JSON) or TOO_DEEP."""
    try:
        payload = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None
    except RecursionError:  # nested deeper than any parser here can follow
        return TOO_DEEP
    return payload, list(input_paths(payload))


def dumps(payload: Any) -> bytes:
    # ASCII: a lone surrogate (half an emoji, as JSON.stringify sends it) stays an
    # escape instead of failing to encode.
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()
