"""Gradio's start-up work the shell skips (desktop_app/gradio_patches.py): in a
fresh interpreter, as the app's loader thread does it, and its fallback."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

from desktop_app import gradio_patches

FRESH_IMPORT = """
import sys
sys.path.insert(0, {folder!r})
if {patch}:
    from desktop_app.gradio_patches import skip_stub_regeneration
    skip_stub_regeneration()
import gradio as gr
import my_component  # a developer's own component class, defined at import
print(gr.component_meta.create_or_modify_pyi.__name__)
print(my_component.Shout(value="hi").value)
"""


def run_fresh(folder: Path, patch: bool) -> list[str]:
    r = subprocess.run([sys.executable, "-c", FRESH_IMPORT.format(folder=str(folder), patch=patch)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_no_stub_is_written_and_components_work_the_same(tmp_path: Path) -> None:
    (tmp_path / "my_component.py").write_text(
        "import gradio as gr\n\n\nclass Shout(gr.Textbox):\n    '''A textbox, louder.'''\n"
    )
    assert run_fresh(tmp_path, patch=True) == ["_no_stub", "hi"]
    assert not (tmp_path / "my_component.pyi").exists()
    # The reference: Gradio as it is writes a stub beside the developer's file at each import.
    assert run_fresh(tmp_path, patch=False) == ["create_or_modify_pyi", "hi"]
    assert (tmp_path / "my_component.pyi").exists()


def test_a_gradio_that_renamed_its_internals_is_left_as_it_is() -> None:
    def create_or_modify_pyi(component_class, class_name):  # type: ignore[no-untyped-def]  # another signature
        return "gradio's own"

    changed = types.ModuleType("gradio.component_meta")
    changed.create_or_modify_pyi = create_or_modify_pyi  # type: ignore[attr-defined]
    assert not gradio_patches._patch(changed)
    assert changed.create_or_modify_pyi is create_or_modify_pyi  # type: ignore[attr-defined]
    assert not gradio_patches._patch(types.ModuleType("gradio.component_meta"))  # gone altogether
