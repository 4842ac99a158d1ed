"""`desktop-app init`: write the [tool.desktop-app] table into a developer's
pyproject.toml, and what it names when the project has none of it yet (a
minimal `build()` and a placeholder icon).

It asks nothing: each value comes from a flag or a default derived from the
project. It only adds: an existing table, UI module or icon is never touched,
the table is appended to pyproject.toml (its own text and comments stay as they
are), and nothing is written unless the result passes `load_project`.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from desktop_app.errors import UserError
from desktop_app.project import TABLE, Project, find_pyproject, load_project, read_pyproject, slug_of

# At the root, not in a folder of its own: setuptools' automatic discovery takes
# a new top-level folder such as assets/ for a second package and refuses to
# install a flat-layout project ("Multiple top-level packages discovered").
DEFAULT_ICON = "icon.png"
PLACEHOLDER_MARK = b"desktop-app init: a placeholder icon"
MINIMAL_UI = '''"""The app's UI: `build()` returns the Gradio Blocks the window shows after sign-in."""

import gradio as gr


def build() -> gr.Blocks:
    with gr.Blocks(title={title!r}) as demo:
        gr.Markdown({heading!r})
        name = gr.Textbox(label="Your name")
        greeting = gr.Textbox(label="Greeting")
        gr.Button("Greet").click(lambda n: f"Hello, {{n or 'there'}}!", name, greeting)
    return demo
'''


@dataclass(frozen=True)
class Written:
    project: Project
    files: list[Path]  # what init created or changed, pyproject.toml first


def init(start: Path, *, name: str | None = None, ui: str | None = None, icon: str | None = None,
         bundle_id: str | None = None, slug: str | None = None) -> Written:
    """Check everything first, then write; if a write fails, what was written goes again."""
    pyproject = find_pyproject(start)
    root = pyproject.parent
    if pyproject.is_symlink():  # appending would write wherever it points
        raise UserError(f"{str(pyproject)!r} is a symbolic link; run init where the real file is.", exit_code=2)
    data = read_pyproject(pyproject)
    tool, project_table = data.get("tool", {}), data.get("project", {})
    if not isinstance(tool, dict) or not isinstance(project_table, dict):
        raise UserError(f"[tool] and [project] in {str(pyproject)!r} must be tables.", exit_code=2)
    if TABLE in tool:
        raise UserError(f"{str(pyproject)!r} already has a [tool.{TABLE}] table; edit it there.", exit_code=2)
    dist = str(project_table.get("name") or root.name)
    if name is None:
        name = " ".join(part.capitalize() for part in re.split(r"[-_.\s]+", dist) if part)
    name = name.strip()
    slug_value = slug if slug is not None else slug_of(name)
    if ui is None:
        ui = f"{_package(root, dist)}.app:build"
    icon = DEFAULT_ICON if icon is None else icon
    if bundle_id is None:
        bundle_id = f"org.example.{slug_value.replace('-', '')}"
    table = {"name": name, "ui": ui, "icon": icon, "bundle-id": bundle_id, **({"slug": slug} if slug is not None else {})}
    text = _table_text(table)
    merged = read_pyproject_text(pyproject.read_text(encoding="utf-8") + text, pyproject)

    icon_path = _inside(root, icon, "--icon")
    new_icon = not icon_path.exists() and not icon_path.is_symlink()
    project = load_project(pyproject, merged, read_icon=not new_icon)  # every value, before any write
    module = ui.split(":")[0]
    to_write: list[tuple[Path, bytes]] = []
    if new_icon:
        to_write.append((icon_path, _png(512, 512, (234, 88, 12))))
    if not _importable_from(root, module):
        ui_file = _inside(root, str(_module_file(root, module).relative_to(root)), "--ui")
        init_py = ui_file.parent / "__init__.py"
        if ui_file.parent != root and ui_file.parent.name != "src" and not init_py.exists():
            to_write.append((init_py, b""))
        to_write.append((ui_file, MINIMAL_UI.format(title=name, heading="# " + name).encode("utf-8")))
    for path, _ in to_write:
        if path.exists() or path.is_symlink():
            raise UserError(f"{str(path)!r} is in the way (it exists but is not a module or icon); "
                            "move it, or name another with a flag.", exit_code=2)
    if not os.access(pyproject, os.W_OK):
        raise UserError(f"Cannot write to {str(pyproject)!r}: permission denied.", exit_code=2)
    _write_all(pyproject, text, to_write)
    return Written(project=project, files=[pyproject, *(path for path, _ in to_write)])


def _write_all(pyproject: Path, text: str, files: list[tuple[Path, bytes]]) -> None:
    """Create `files` (each new: never over anything), then append `text`; on any
    failure remove what was created, folders too, and say so in one line."""
    created: list[Path] = []
    try:
        for path, content in files:
            missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
            for folder in reversed(missing):
                folder.mkdir(mode=0o755)
                created.append(folder)
            with path.open("xb") as f:  # "x": fails rather than follow or replace anything
                created.append(path)
                f.write(content)
        with pyproject.open("a", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        for made in reversed(created):
            with contextlib.suppress(OSError):
                made.rmdir() if made.is_dir() else made.unlink()
        raise UserError(f"Could not write {exc.filename or str(pyproject)!r}: {exc.strerror or exc}; "
                        "nothing was changed.") from None


def _inside(root: Path, relative: str, flag: str) -> Path:
    """`root / relative`, refused unless it stays inside the project, through
    every symbolic link on the way, with no '..' to wander by."""
    parts = Path(relative).parts
    if not relative or Path(relative).is_absolute() or ".." in parts:
        raise UserError(f"{flag} {relative!r}: give a path inside the project, relative to pyproject.toml, "
                        "without '..'.", exit_code=2)
    path = root / relative
    if not path.resolve().is_relative_to(root.resolve()) or not path.parent.resolve().is_relative_to(root.resolve()):
        raise UserError(f"{flag} {relative!r} leads outside the project (through a symbolic link).", exit_code=2)
    for folder in (path.parent, *path.parent.parents):
        if folder == root:
            break
        if folder.exists() and not folder.is_dir():
            raise UserError(f"{flag} {relative!r}: {str(folder)!r} is a file, not a folder.", exit_code=2)
    return path


def read_pyproject_text(text: str, pyproject: Path) -> dict:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # a value of ours that TOML cannot hold: say which
        raise UserError(f"The table for {str(pyproject)!r} would not be valid TOML ({exc}); is [tool] written "
                        "as an inline table there?", exit_code=2) from None


def _table_text(table: dict[str, str]) -> str:
    lines = [f"{key} = {_toml_string(value)}" for key, value in table.items()]
    return (f"\n[tool.{TABLE}]\n" + "\n".join(lines) +
            "\n# version: [project].version; slug: from name unless `slug =` is given\n")


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    if any(ord(c) < 32 or ord(c) == 127 for c in escaped):
        raise UserError(f"{value!r} holds control characters; give plain text.", exit_code=2)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # bytes from the command line that were not UTF-8
        raise UserError(f"{value!r} is not valid UTF-8 text; use a UTF-8 terminal.", exit_code=2) from None
    return f'"{escaped}"'


def _package(root: Path, dist: str) -> str:
    """The project's import package: the folder named after the distribution, or
    the only top-level package there is; else the distribution's name."""
    module = re.sub(r"[-.]+", "_", dist).lower()
    for base in (root, root / "src"):
        if (base / module / "__init__.py").is_file():
            return module
    found = [p.parent.name for base in (root, root / "src") for p in base.glob("*/__init__.py")
             if p.parent.name not in ("tests", "test", "docs") and p.parent.name.isidentifier()]
    return found[0] if len(found) == 1 else module


def _module_file(root: Path, module: str) -> Path:
    """Where a new module goes: beside its package, in src/ if that is where it is."""
    relative = Path(*module.split(".")).with_suffix(".py")
    top = module.split(".")[0]
    src_layout = (root / "src" / top).is_dir() or ((root / "src").is_dir() and not (root / top).exists())
    base = root / "src" if src_layout else root
    return base / relative


def _importable_from(root: Path, module: str) -> bool:
    relative = Path(*module.split("."))
    return any((base / relative).with_suffix(".py").is_file() or (base / relative / "__init__.py").is_file()
               for base in (root, root / "src"))


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG, written by hand (no imaging library needed)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", b"Comment\x00" + PLACEHOLDER_MARK)  # so that `build` can say it is still there
            + chunk(b"IDAT", zlib.compress(row * height, 9)) + chunk(b"IEND", b""))
