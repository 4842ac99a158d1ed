"""The walls between the layers, read from the imports (see docs/architecture.md).

Dependencies point down: the store knows nothing of HTTP or Gradio; the web
layer nothing of the window; only desktop/ touches pywebview and its toolkits;
only paths asks platformdirs; nothing but __main__ reaches for the CLI. And no
module grows past what fits in a head.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "desktop_app"
MAX_LINES = 300
TOOLKITS = {"webview", "gi", "qtpy", "PyQt6", "PyQt5"}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(path: Path) -> set[str]:
    """Every module an `import` or `from ... import` in the file names, at any
    depth (imports inside functions count: they are the same dependency)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def importers_of(wanted: set[str]) -> set[str]:
    return {name for name, path in modules().items()
            if any(imported.split(".")[0] in wanted or imported in wanted for imported in imports_of(path))}


def test_only_the_desktop_package_imports_pywebview_or_a_toolkit() -> None:
    offenders = {m for m in importers_of(TOOLKITS) if not m.startswith("desktop_app.desktop")}
    assert not offenders, f"import pywebview or a GUI toolkit outside desktop_app/desktop/: {sorted(offenders)}"


def test_only_paths_imports_platformdirs() -> None:
    assert importers_of({"platformdirs"}) == {"desktop_app.paths"}


def test_the_store_knows_nothing_of_http_gradio_or_the_window() -> None:
    banned = {"starlette", "fastapi", "uvicorn", "gradio", "httpx", *TOOLKITS}
    for name, path in modules().items():
        if not name.startswith("desktop_app.store"):
            continue
        for imported in imports_of(path):
            assert imported.split(".")[0] not in banned, f"{name} imports {imported}"
            assert not imported.startswith(("desktop_app.web", "desktop_app.desktop", "desktop_app.cli")), \
                f"{name} imports {imported}: the store is below the web layer and the window"


def test_the_web_layer_does_not_reach_into_the_window() -> None:
    for name, path in modules().items():
        if name.startswith("desktop_app.web"):
            offending = [i for i in imports_of(path) if i.startswith(("desktop_app.desktop", "desktop_app.cli"))]
            assert not offending, f"{name} imports {offending}"


def test_nothing_but_main_imports_the_cli() -> None:
    assert importers_of({"desktop_app.cli"}) == {"desktop_app.__main__"}


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_over_300_lines(name: str) -> None:
    lines = len(modules()[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it along its jobs"


def test_importing_the_store_web_cli_and_settings_loads_neither_gradio_nor_pywebview() -> None:
    # The login page is served before Gradio (~3 s) is imported, and headless
    # mode never needs a toolkit. Importing a module is cheap everywhere.
    names = [n for n in modules() if n.startswith(("desktop_app.store", "desktop_app.web"))]
    names += ["desktop_app.cli", "desktop_app.settings", "desktop_app.runtime", "desktop_app.context", "desktop_app"]
    code = (f"import importlib, sys\nfor n in {names!r}: importlib.import_module(n)\n"
            f"print(sorted(m for m in {sorted(TOOLKITS | {'gradio', 'fastapi', 'pandas'})!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
