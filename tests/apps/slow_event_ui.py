"""The demo with one slow event (`slow`, 3 s), for what happens to an event in
flight when a team server is asked to stop."""

import time

from desktop_app.context import user_data
from desktop_app.ui import demo

SECONDS = 3.0


def build():  # type: ignore[no-untyped-def]
    import gradio as gr

    def slow(request: gr.Request) -> str:
        return _slow(request)

    blocks = demo.build()
    with blocks:
        done = gr.Textbox(visible=False)
        gr.Button(visible=False).click(slow, None, done, api_name="slow")
    return blocks


def _slow(request) -> str:  # type: ignore[no-untyped-def]
    user_data(request).set("slow", "started")  # a test waits for this rather than guessing with a sleep
    time.sleep(SECONDS)
    user_data(request).set("slow", "finished")  # seen in the store after the process is gone
    return "finished"
