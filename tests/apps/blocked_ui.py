"""A UI factory that does not return until the test lets it: a build stuck on
the network, say. RELEASE lets it go on (it builds the demo then)."""

import threading

from desktop_app.ui import demo

RELEASE = threading.Event()


def build():  # type: ignore[no-untyped-def]
    RELEASE.wait(120)
    return demo.build()
