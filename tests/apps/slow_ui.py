"""A UI factory that takes a while, so tests can hit /gradio before it is built."""

import time

from desktop_app.ui import demo

DELAY_SECONDS = 2.0


def build():  # type: ignore[no-untyped-def]
    time.sleep(DELAY_SECONDS)
    return demo.build()
