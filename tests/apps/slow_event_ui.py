"""The demo with one slow event (`slow`, 3 s), for what happens to an event in
flight when a team server is asked to stop."""

import time

from desktop_app.ui import demo

SECONDS = 3.0


def build():  # type: ignore[no-untyped-def]
    import gradio as gr

    blocks = demo.build()
    with blocks:
        done = gr.Textbox(visible=False)
        gr.Button(visible=False).click(_slow, None, done, api_name="slow")
    return blocks


def _slow() -> str:
    time.sleep(SECONDS)
    return "finished"
