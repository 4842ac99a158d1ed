"""A UI factory that also kills the app's server thread a moment after the UI
is built, the way an unexpected exception inside the server would: the app
must say so in one sentence (stderr, or the window) and in its log, not hang.

    desktop-app --ui tests.apps.server_killer_ui:build
"""

from __future__ import annotations

import ctypes
import threading


class InjectedFault(RuntimeError):
    """Raised inside the server thread by this test module."""


def _kill_server_thread() -> None:
    for thread in threading.enumerate():
        if thread.name == "desktop-app-server" and thread.ident is not None:
            # CPython raises the exception in that thread at its next bytecode.
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(InjectedFault))


def build():  # type: ignore[no-untyped-def]
    import gradio as gr

    threading.Timer(1.0, _kill_server_thread).start()
    with gr.Blocks() as demo:
        gr.Markdown("This server is about to die.")
    return demo
