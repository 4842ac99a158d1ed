"""A UI with one thing on it: a wide button that downloads a small text file.
tests/test_desktop.py clicks it in the real window and saves through the real
GTK save dialog."""

from __future__ import annotations

import tempfile
from pathlib import Path

CONTENT = "saved from inside the window\n"


def build():  # type: ignore[no-untyped-def]
    import gradio as gr

    source = Path(tempfile.mkdtemp()) / "report.txt"
    source.write_text(CONTENT)
    with gr.Blocks() as demo:
        gr.DownloadButton("Download the report", value=str(source), variant="primary", size="lg",
                          elem_id="download")
    return demo
