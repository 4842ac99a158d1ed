"""The runtime's own small parts; its start sequence is tested through the real
app in test_cli.py (headless) and test_desktop.py (the window)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.paths import LAST_PORT
from desktop_app.runtime import _last_port
from desktop_app.settings import Settings


@pytest.mark.parametrize(("text", "port"), [
    ("8080", 8080), (" 40000\n", 40000),
    # A damaged file costs a new port, never the start (the review found "²" raised).
    ("²", None), ("8080²", None), ("9" * 5000, None), ("80", None), ("", None), ("port", None), ("-1", None),
])
def test_the_last_port_file_is_read_or_ignored(tmp_path: Path, text: str, port: int | None) -> None:
    settings = Settings.build({"data_dir": str(tmp_path)}, environ={})
    (tmp_path / LAST_PORT).write_text(text)
    assert _last_port(settings) == port
    (tmp_path / LAST_PORT).unlink()
    assert _last_port(settings) is None
