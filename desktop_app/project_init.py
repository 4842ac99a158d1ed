"""`desktop-app init`: write the [tool.desktop-app] table into a developer's
pyproject.toml, and what it names when the project has none of it yet (a
minimal `build()` and a placeholder icon).

It asks nothing: each value comes from a flag or a default derived from the
project. It only adds: an existing table, UI module or icon is never touched,
the table is appended to pyproject.toml (its own text and comments stay as they
are), and nothing is written unless the result passes `load_project`.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from desktop_app.errors import UserError
from desktop_app.project import TABLE, Project, find_pyproject, load_project, read_pyproject, slug_of

DEFAULT_ICON = "assets/icon.png"
MINIMAL_UI = '''"""The app's UI: `build()` returns the Gradio Blocks the window shows after sign-in."""

import gradio as gr


def build() -> gr.Blocks:
    with gr.Blocks(title={title!r}) as demo:
        gr.Markdown("# {title}")
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
    pyproject = find_pyproject(start)
    root = pyproject.parent
    data = read_pyproject(pyproject)
    if TABLE in data.get("tool", {}):
        raise UserError(f"{str(pyproject)!r} already has a [tool.{TABLE}] table; edit it there.", exit_code=2)
    dist = str(data.get("project", {}).get("name") or root.name)
    name = name or " ".join(part.capitalize() for part in re.split(r"[-_.\s]+", dist) if part)
    slug_value = slug or slug_of(name)
    package = _package(root, dist)
    ui = ui or f"{package}.app:build"
    icon = icon or DEFAULT_ICON
    bundle_id = bundle_id or f"org.example.{slug_value.replace('-', '')}"
    table = {"name": name, "ui": ui, "icon": icon, "bundle-id": bundle_id, **({"slug": slug} if slug else {})}
    text = _table_text(table)
    merged = read_pyproject_text(pyproject.read_text(encoding="utf-8") + text, pyproject)

    files = [pyproject]
    module = ui.split(":")[0]
    new_ui = not _importable_from(root, module)
    icon_path = root / icon
    if Path(icon).is_absolute() or not icon_path.resolve().is_relative_to(root.resolve()):
        raise UserError(f"--icon {icon!r} is outside the project; give a path inside it.", exit_code=2)
    new_icon = not icon_path.exists()
    made = [d for d in (icon_path.parent, *icon_path.parent.parents) if not d.exists()]
    if new_icon:  # a placeholder, so that the check below reads a real icon; gone again if it fails
        icon_path.parent.mkdir(parents=True, exist_ok=True)
        icon_path.write_bytes(_png(512, 512, (234, 88, 12)))
        files.append(icon_path)
    try:
        project = load_project(pyproject, merged)
    except UserError:
        if new_icon:
            icon_path.unlink()
            for folder in made:  # innermost first: only the folders made here
                folder.rmdir()
        raise
    if new_ui:
        ui_file = _module_file(root, module)
        ui_file.parent.mkdir(parents=True, exist_ok=True)
        init_py = ui_file.parent / "__init__.py"
        if ui_file.parent != root and not init_py.exists():
            init_py.write_text("")
            files.append(init_py)
        ui_file.write_text(MINIMAL_UI.format(title=name))
        files.append(ui_file)
    with pyproject.open("a", encoding="utf-8") as f:
        f.write(text)
    return Written(project=project, files=files)


def read_pyproject_text(text: str, pyproject: Path) -> dict:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # a value of ours that TOML cannot hold: say which
        raise UserError(f"The table for {str(pyproject)!r} would not be valid TOML ({exc}).", exit_code=2) from None


def _table_text(table: dict[str, str]) -> str:
    lines = [f"{key} = {_toml_string(value)}" for key, value in table.items()]
    return (f"\n[tool.{TABLE}]\n" + "\n".join(lines) +
            "\n# version: [project].version; slug: from name unless `slug =` is given\n")


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    if any(ord(c) < 32 or ord(c) == 127 for c in escaped):
        raise UserError(f"{value!r} holds control characters; give plain text.", exit_code=2)
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
    base = root / "src" if (root / "src" / top).is_dir() and not (root / top).is_dir() else root
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
            + chunk(b"IDAT", zlib.compress(row * height, 9)) + chunk(b"IEND", b""))
