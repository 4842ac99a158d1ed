"""Patch 6 (see __init__.py): httpx's `create_ssl_context` stood in for, in one
thread, while the Gradio modules that make an httpx client at import execute."""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from desktop_app.web.gradio_patches.patches import _parameters


def not_applied() -> bool:
    return False


class SharedSslContext:
    """While the modules it is listed for execute, httpx's `create_ssl_context`
    gives the thread running them the default context (verify=True, no client
    cert) made once, instead of loading certifi's CA bundle again for each
    client (~22 ms a time here). Any other thread or arguments get httpx's own;
    it is put back after, unless someone replaced it meanwhile. `after` says
    whether that module's own code took a shared context (False: Gradio
    changed). A second thread importing one of those modules meanwhile is left
    as it is."""

    OWNER, NAME = "httpx._transports.default", "create_ssl_context"

    def __init__(self) -> None:
        self._thread: int | None = None
        self._counts: list[int] = []  # one per module running, innermost last: the contexts it took
        self._lock = threading.RLock()
        self._original: Callable[..., Any] | None = None
        self._made: dict[tuple[str | None, str | None], Any] = {}

    def before(self, module: Any) -> Callable[[], bool]:
        owner = sys.modules.get(self.OWNER) or _import_or_none(self.OWNER)
        with self._lock:
            if not self._counts:
                current = getattr(owner, self.NAME, None)
                if self._original is not None and current is not self._original:
                    return not_applied  # someone else's function since: theirs stays as it is
                if not callable(current) or _parameters(current) != ["verify", "cert", "trust_env"]:
                    return not_applied  # not the httpx we know: left as it is
                self._original, self._thread = current, threading.get_ident()
                setattr(owner, self.NAME, self._shared)
            elif self._thread != threading.get_ident():
                return not_applied  # another thread's import meanwhile: httpx's own for it
            self._counts.append(0)

        def after() -> bool:
            with self._lock:
                took = self._counts.pop() > 0
                if not self._counts:
                    self._thread = None
                    if getattr(owner, self.NAME, None) == self._shared:  # not if replaced since
                        setattr(owner, self.NAME, self._original)
                return took

        return after

    def _shared(self, verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        original = self._original
        assert original is not None
        if verify is True and cert is None and trust_env and threading.get_ident() == self._thread:
            key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))  # what httpx reads
            with self._lock:  # reentrant: making the context may import
                if self._counts:
                    self._counts[-1] += 1
                    if key not in self._made:
                        self._made[key] = original(verify=verify, cert=cert, trust_env=trust_env)
                    return self._made[key]
        return original(verify=verify, cert=cert, trust_env=trust_env)


def _import_or_none(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
