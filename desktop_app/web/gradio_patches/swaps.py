"""Patch 6 (see __init__.py): a library function stood in for, in one thread,
while some of Gradio's modules execute."""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from desktop_app.web.gradio_patches.patches import _parameters

# --- a function stood in for while some of Gradio's modules run ---------------

_OWN = object()  # what a stand-in's answer() returns for "the original's answer, as it is"


class WhileTheyRun:
    """While the modules it is listed for execute, `OWNER.NAME` is a stand-in
    for the one thread running them (any other thread gets the original), put
    back after unless someone replaced it meanwhile. `after` says whether that
    module's own code got the stand-in's answer (False: Gradio changed). A
    second thread importing one of those modules meanwhile is left as it is."""

    OWNER = NAME = ""

    def __init__(self) -> None:
        self._thread: int | None = None
        self._counts: list[int] = []  # one per module running, innermost last: its stand-in answers
        self._lock = threading.RLock()
        self._original: Callable[..., Any] | None = None

    def accepts(self, original: Any) -> bool:
        raise NotImplementedError

    def answer(self, original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def before(self, module: Any) -> Callable[[], bool]:
        owner = sys.modules.get(self.OWNER) or _import_or_none(self.OWNER)
        with self._lock:
            if not self._counts:
                current = getattr(owner, self.NAME, None)
                if self._original is not None and current is not self._original:
                    return _not_applied  # someone else's function since: theirs stays as it is
                if not callable(current) or not self.accepts(current):
                    return _not_applied  # not the library we know: left as it is
                self._original, self._thread = current, threading.get_ident()
                setattr(owner, self.NAME, self._stand_in)
            elif self._thread != threading.get_ident():
                return _not_applied  # another thread's import meanwhile: the original for it
            self._counts.append(0)

        def after() -> bool:
            with self._lock:
                took = self._counts.pop() > 0
                if not self._counts:
                    self._thread = None
                    if getattr(owner, self.NAME, None) == self._stand_in:  # not if replaced since
                        setattr(owner, self.NAME, self._original)
                return took

        return after

    def _stand_in(self, *args: Any, **kwargs: Any) -> Any:
        original = self._original
        assert original is not None
        if threading.get_ident() == self._thread:
            with self._lock:  # reentrant: an answer may import
                value = self.answer(original, *args, **kwargs)
                if value is not _OWN and self._counts:
                    self._counts[-1] += 1
                    return value
        return original(*args, **kwargs)


def _not_applied() -> bool:
    return False


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


def _import_or_none(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
