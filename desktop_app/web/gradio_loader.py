"""The loader thread: `import gradio` and the UI's build, beside the server.

`import gradio` alone takes ~3 s here; the login page must not wait for it, so
the server starts at once and /gradio (deferred.py) waits for this thread.
What is built and how it is mounted is gradio_mount.py's.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from desktop_app.errors import UserError
from desktop_app.logs import FILE_ONLY
from desktop_app.settings import Settings
from desktop_app.web import GRADIO_PATH, gradio_patches
from desktop_app.web.gradio_mount import build_mounted, files_in_config, prepare_gradio_environment

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)


class GradioLoader:
    """Imports Gradio and builds the UI in a background thread.

    `import gradio` alone takes ~3 s here; the login page must not wait for it.
    The thread is a daemon: it holds no file or lock, and if the person closes
    the app while Gradio is still importing, nothing is lost by not waiting.
    """

    def __init__(self, settings: Settings, *, path: str = GRADIO_PATH) -> None:
        self.settings = settings
        self.path = path
        self.app: Any = None  # the Gradio ASGI app, once built
        self.host: FastAPI | None = None  # owns the lifespan that starts Gradio's queue
        self.error: UserError | None = None
        # The files the built UI itself carries (default values, examples): every
        # account may fetch them (see gradio_shield.py). None until built.
        self.shared_files: list[str] | None = None
        self.seconds: float | None = None
        self.finished_at: float | None = None  # time.monotonic() when built or failed
        self._done = threading.Event()
        self._start_lock = threading.Lock()
        self._started = False
        self._thread = threading.Thread(target=self._run, name="gradio-loader", daemon=True)

    def start(self, reason: str = "at start") -> GradioLoader:
        """Start the build, once; later calls do nothing. `reason` goes to the log
        (the window starts it when the login page has loaded, or as soon as a
        request for the UI arrives: a kept session goes straight there)."""
        with self._start_lock:
            if self._started:
                return self
            self._started = True
        log.info("Gradio build started (%s)", reason)
        self._thread.start()
        return self

    @property
    def started(self) -> bool:
        return self._started

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            # Before anything imports gradio: several of its modules (and
            # huggingface_hub's) read these variables once, at import.
            prepare_gradio_environment(self.settings)
            gradio_patches.install()  # Gradio's start-up work it need not do (see gradio_patches/)
            with _no_garbage_collection():
                importlib.import_module("gradio")
            self.host, self.app = build_mounted(self.settings, self.path)
            self.shared_files = files_in_config(self.app)
        except UserError as exc:
            self.error = exc
        except Exception as exc:  # a bug of ours or Gradio's: log it, show one line
            log.exception("building the Gradio UI failed", extra=FILE_ONLY)
            self.error = UserError(
                f"The UI could not be built ({type(exc).__name__}: {exc}); "
                f"see the log at {self.settings.dirs.log_file}."
            )
        finally:
            self.seconds = time.perf_counter() - t0
            self.finished_at = time.monotonic()
            if self.error is None:
                log.info("Gradio UI ready after %.2fs (%s)", self.seconds, gradio_patches.summary())
            else:  # the caller shows the error; the log keeps it too
                log.error("Gradio UI failed: %s", self.error, extra=FILE_ONLY)
            self._done.set()


    def events_queued(self) -> int:
        """Events Gradio's queue is running or holds: what a draining team server
        waits for, beside the requests in flight (an event started by `call/`
        runs on with no request open). Gradio has no public way to ask (no
        upstream issue found; gradio/queueing.py `Queue`): its `active_jobs` and
        `event_queue_per_concurrency_id` are read, and if a release renames them
        the answer is 0, so the drain waits for the requests alone, as before."""
        try:
            queue = self.app.get_blocks()._queue
            running = sum(1 for job in queue.active_jobs if job)
            return int(running + sum(len(q.queue) for q in queue.event_queue_per_concurrency_id.values()))
        except Exception:
            return 0


_FROZEN = threading.Event()  # set by the first import in this process (see below)


@contextlib.contextmanager
def _no_garbage_collection() -> Iterator[None]:
    """`import gradio` creates ~120,000 objects that live as long as the
    process, and the cycle collector scanned them again and again while they
    were made: paused, the kept-session launch came 0.36 s sooner here
    (bench/startup.py, A/B), and the import left only ~2,000 objects of garbage.
    After the process's first import they are moved out of the collector's
    sight for good (`gc.freeze`), or its next collections would walk them all
    at once (a full one took 0.24 s) at some moment after the UI is up, in a
    person's first event. Only the import: the developer's UI is built with the
    collector on, so its garbage is collected as ever. Paused for the whole
    process, for the import only; later imports in the same process (tests)
    only resume it."""
    if not gc.isenabled():  # someone turned it off on purpose: leave it to them
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if not _FROZEN.is_set():
            _FROZEN.set()
            gc.freeze()
        gc.enable()
