"""Patches 6 and 7 (see __init__.py): a library function stood in for, in one
thread, while some of Gradio's modules execute."""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from desktop_app.web.gradio_patches.patches import _parameters

# --- 6 and 7: a function stood in for while some of Gradio's modules run -----

_OWN = object()  # what a stand-in's answer() returns for "the original's answer, as it is"


class WhileTheyRun:
    """While the modules it is listed for execute, `OWNER.NAME` is a stand-in
    for the thread running them (any other thread gets the original), put back
    after unless someone replaced it meanwhile. `after` says whether the
    module's code got the stand-in's own answer (False: Gradio changed)."""

    OWNER = NAME = ""

    def __init__(self) -> None:
        self._depth, self._hits = 0, 0
        self._thread: int | None = None
        self._lock = threading.Lock()
        self._original: Callable[..., Any] | None = None

    def accepts(self, original: Any) -> bool:
        raise NotImplementedError

    def answer(self, original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def before(self, module: Any) -> Callable[[], bool]:
        owner = sys.modules.get(self.OWNER) or _import_or_none(self.OWNER)
        with self._lock:
            if self._depth == 0:
                original = getattr(owner, self.NAME, None)
                if not callable(original) or not self.accepts(original):
                    return lambda: False  # not the library we know: left as it is
                self._original, self._thread = original, threading.get_ident()
                setattr(owner, self.NAME, self._stand_in)
            self._depth += 1
            hits_before = self._hits

        def after() -> bool:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    self._thread = None
                    if getattr(owner, self.NAME, None) == self._stand_in:
                        setattr(owner, self.NAME, self._original)
                return self._hits > hits_before

        return after

    def _stand_in(self, *args: Any, **kwargs: Any) -> Any:
        original = self._original
        assert original is not None
        if threading.get_ident() == self._thread:
            with self._lock:
                value = self.answer(original, *args, **kwargs)
                if value is not _OWN:
                    self._hits += 1
                    return value
        return original(*args, **kwargs)


class SharedSslContext(WhileTheyRun):
    """6: httpx's `create_ssl_context` gives the default context (verify=True,
    no client cert) made once, instead of loading certifi's CA bundle again for
    each client (~22 ms a time here)."""

    OWNER, NAME = "httpx._transports.default", "create_ssl_context"

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[tuple[str | None, str | None], Any] = {}

    def accepts(self, original: Any) -> bool:
        return _parameters(original) == ["verify", "cert", "trust_env"]

    def answer(self, original: Callable[..., Any], verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is not True or cert is not None or not trust_env:
            return _OWN
        key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))  # what httpx reads
        if key not in self._made:
            self._made[key] = original(verify=verify, cert=cert, trust_env=trust_env)
        return self._made[key]


class PluginsOnDemand(WhileTheyRun):
    """7: `PIL.Image.init()` (importing every one of Pillow's ~40 format
    plugins) is not run at Gradio's import: Pillow 9.4 and later import them
    itself the first time a format needs them, which is why Gradio's own comment
    on the call says to remove it then (gradio-app/gradio#2843)."""

    OWNER, NAME = "PIL.Image", "init"

    def accepts(self, original: Any) -> bool:
        version = str(getattr(sys.modules.get("PIL"), "__version__", "")).split(".")[:2]
        return _parameters(original) == [] and all(v.isdigit() for v in version) and (
            tuple(int(v) for v in version) >= (9, 4))

    def answer(self, original: Callable[..., Any]) -> Any:
        return None  # Pillow calls init() itself when a format is not among the ones it preloads


def _import_or_none(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
