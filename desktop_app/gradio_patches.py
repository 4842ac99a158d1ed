"""Workarounds for Gradio's own behaviour, each guarded: if a Gradio release
renames what it relies on, it does nothing and Gradio behaves as it always did.

`skip_stub_regeneration()`: Gradio's component metaclass regenerates the type
stub (`.pyi`) of every component class at every import, in production too: for
each class it reads and `ast.parse`s the class's source file, renders a
template, reads the `.pyi` beside it and compares (gradio/component_meta.py,
`create_or_modify_pyi`). That was most of Gradio's own import time here
(`import gradio` ~2.9 s -> ~1.25 s without it), spent at every launch on files
only an editor reads. Upstream: gradio-app/gradio#7791 (open), #11394.

It must act before `gradio/__init__.py` imports the components, so it is an
import hook: when `gradio.component_meta` has been executed, its module-level
`create_or_modify_pyi` (which the metaclass looks up at each class creation)
becomes a no-op. Installed from the Gradio loader thread, before the first
`import gradio`; it works in the frozen bundle too (it wraps whichever finder
finds the module, PyInstaller's included).
"""

from __future__ import annotations

import importlib.abc
import inspect
import logging
import sys
from typing import Any

log = logging.getLogger(__name__)

_TARGET = "gradio.component_meta"
_FUNCTION = "create_or_modify_pyi"
_EXPECTED_PARAMETERS = ["component_class", "class_name", "events"]


def _no_stub(component_class: Any, class_name: str, events: Any) -> None:
    """Stubs are for editors; a running app needs none."""


def _patch(module: Any) -> bool:
    original = getattr(module, _FUNCTION, None)
    if not callable(original):
        return False
    try:
        parameters = list(inspect.signature(original).parameters)
    except (TypeError, ValueError):
        return False
    if parameters != _EXPECTED_PARAMETERS:
        return False  # not the function we know: leave Gradio as it is
    setattr(module, _FUNCTION, _no_stub)
    return True


class _PatchOnLoad(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != _TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _PatchingLoader(spec.loader)
                return spec
            if spec is not None:
                return spec  # a loader we cannot wrap: Gradio as it is
        return None


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def create_module(self, spec: Any) -> Any:
        return self.inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.inner.exec_module(module)
        if _patch(module):
            log.debug("Gradio's stub regeneration skipped")
        else:
            log.info("gradio.component_meta has changed; its stubs are regenerated as usual")

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, get_filename, ...
        return getattr(self.inner, name)


def skip_stub_regeneration() -> None:
    """Call before the first `import gradio`; harmless after it (then it is too late
    for this process, and says so)."""
    if _TARGET in sys.modules:
        if not _patch(sys.modules[_TARGET]):
            log.info("gradio.component_meta has changed; its stubs are regenerated as usual")
        return
    if not any(isinstance(f, _PatchOnLoad) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnLoad())
