"""Workarounds for Gradio's own start-up work, each guarded: if a Gradio release
renames what one relies on, that one does nothing and Gradio behaves as it
always did (the log says so once).

`install()` must run before the first `import gradio`: it is an import hook, so
each patch applies as its module is executed, before anything uses it. It wraps
whichever finder finds the module (PyInstaller's too), so it holds in the
frozen bundle. Each patch is measured in docs/performance.md.

1. `gradio.component_meta`: the component metaclass regenerates the type stub
   (`.pyi`) of every component class at every import, in production too: for
   each class it reads and `ast.parse`s the class's source file, renders a
   template, reads the `.pyi` beside it and compares (`create_or_modify_pyi`).
   That was about half of `import gradio` here, spent at every launch on files
   only an editor reads. Upstream: gradio-app/gradio#7791 (open), #11394.
2. `gradio.caching`: imports pandas at the top (~0.3 s, ~20 MiB) only for
   `isinstance` checks in its cache-key hashing, which most UIs never reach.
   Its `pd` is bound to a stand-in that imports pandas at first use. Anything
   else that imports pandas (the developer's UI, gr.Dataframe) gets the real
   module as always. Upstream: gradio-app/gradio#7791 (import time).
3. `gradio.queueing`: after every event the queue builds a pandas DataFrame of
   the last 10,000 events to summarise them for the monitoring dashboard, even
   when monitoring is off (as it is here, `enable_monitoring=False`): pandas at
   the first event, and work that grows with every event for nobody. With
   monitoring off the summary is not computed; with it on, as before.
   Upstream: no issue found (gradio/queueing.py, `compute_analytics_summary`).
4. `gradio.blocks`: `Blocks.__init__` (through `queue()`) and `Blocks.__exit__`
   each build a whole FastAPI app (`App.create_app`, ~245 routes, ~0.1 s each)
   that `mount_gradio_app` then replaces with its own. Those two are built only
   if something asks for them (`blocks.app`), with the same arguments, so
   nothing changes for code that does. Upstream: no issue found.
5. `gradio.events`: every component class renders the docstring of each of its
   event listeners as a Jinja template (`EventListener.set_doc`), compiling
   the same ~40 texts again for each class: 216 compilations, ~0.2 s of the
   import here, for `__doc__` strings. The module's `Template` gives each text
   compiled once (`CompiledOnce`); `set_doc` is Gradio's and renders with Jinja
   as before. Upstream: no issue found (gradio/events.py, `set_doc`).
6. `gradio.processing_utils`, `gradio.routes`, `gradio.workflow` each make an
   httpx client or transport at import (for a URL given as a component's
   value, for `/proxy=`, for workflows), and each loads certifi's CA bundle
   into a new SSL context. While they run, their thread gets one shared
   context (`SharedSslContext`), verified as before; every other thread's
   clients, and every client made later, are made as before. Upstream: no
   issue found.
Patches 1-5 are in patches.py, 6 in swaps.py; this module is the hook that
applies them.
"""

from __future__ import annotations

import importlib.abc
import logging
import sys
from collections.abc import Callable
from typing import Any

from desktop_app.logs import FILE_ONLY
from desktop_app.web.gradio_patches.patches import _defer_pandas, _patch_blocks, _patch_component_meta, _patch_events, _patch_queueing
from desktop_app.web.gradio_patches.swaps import SharedSslContext, not_applied

log = logging.getLogger(__name__)


# --- the import hook ---------------------------------------------------------

_SSL = SharedSslContext()


def _after_only(patch: Callable[[Any], bool]) -> Callable[[Any], Callable[[], bool]]:
    return lambda module: lambda: patch(module)


# module -> (what it saves, a function run before the module's code that
# returns one run after it, True if the patch took).
_PATCHES: dict[str, tuple[str, Callable[[Any], Callable[[], bool]]]] = {
    "gradio.component_meta": ("stub regeneration skipped", _after_only(_patch_component_meta)),
    "gradio.caching": ("pandas imported at first use", _defer_pandas),
    "gradio.queueing": ("no analytics summary while monitoring is off", _after_only(_patch_queueing)),
    "gradio.blocks": ("Blocks' unused apps built only if asked for", _after_only(_patch_blocks)),
    "gradio.events": ("each listener docstring compiled once", _after_only(_patch_events)),
    **{name: ("one SSL context for its httpx client", _SSL.before)
       for name in ("gradio.processing_utils", "gradio.routes", "gradio.workflow")},
}


_outcome: dict[str, bool] = {}  # module -> whether its patch took, once it has been imported


class _PatchOnLoad(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in _PATCHES:
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
        what, before = _PATCHES[module.__name__]
        try:
            after = before(module)
        except Exception:  # a patch of ours that fails must not cost the import: Gradio as it is
            log.warning("%s: could not prepare its patch (%s)", module.__name__, what, exc_info=True,
                        extra=FILE_ONLY)
            after = not_applied
        try:
            self.inner.exec_module(module)
        finally:
            took = after()
            _outcome[module.__name__] = took
        if not took:
            log.info("%s has changed; left as it is (%s: not applied)", module.__name__, what)

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, get_filename, ...
        return getattr(self.inner, name)


def install() -> None:
    """Call before the first `import gradio`. A module already imported is too
    late for its patch in this process: it is left as it is, and the log says so."""
    late = [name for name in _PATCHES if name in sys.modules]
    if late:
        log.info("imported before the Gradio patches were installed, left as they are: %s", ", ".join(late))
    if not any(isinstance(f, _PatchOnLoad) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnLoad())


def summary() -> str:
    """One line for the log, after the build: which patches took."""
    took = [name for name in _PATCHES if _outcome.get(name)]
    left = [name for name in _PATCHES if not _outcome.get(name)]
    return f"Gradio patches applied: {', '.join(took) or 'none'}" + (
        f"; not applied: {', '.join(left)}" if left else "")
