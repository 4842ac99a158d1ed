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
"""

from __future__ import annotations

import importlib
import importlib.abc
import inspect
import logging
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def _parameters(function: Any) -> list[str] | None:
    try:
        return list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return None


# --- 1. gradio.component_meta: no stub regeneration -------------------------

def _no_stub(component_class: Any, class_name: str, events: Any) -> None:
    """Stubs are for editors; a running app needs none."""


def _patch_component_meta(module: Any) -> bool:
    original = getattr(module, "create_or_modify_pyi", None)
    if not callable(original) or _parameters(original) != ["component_class", "class_name", "events"]:
        return False  # not the function we know: leave Gradio as it is
    module.create_or_modify_pyi = _no_stub  # the metaclass looks it up at each class creation
    return True


# --- 2. gradio.caching: pandas at first use ---------------------------------

class DeferredModule(types.ModuleType):
    """Stands for a module not imported yet; the first attribute read imports
    it, rebinds `owner.<name>` to the real module and answers from it."""

    def __init__(self, name: str, owner: types.ModuleType, binding: str) -> None:
        super().__init__(name)
        self._owner = owner
        self._binding = binding
        self._lock = threading.Lock()

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") and attribute not in ("__version__", "__all__"):
            # The import machinery's and introspection's probes (`__path__`
            # above all: importing the real module in the middle of another
            # import would run it twice) are not a use.
            raise AttributeError(attribute)
        with self._lock:
            real = importlib.import_module(self.__name__)
            if real is self:  # another thread, while caching.py runs its imports
                raise ImportError(f"{self.__name__} is being imported; try again")
            if getattr(self._owner, self._binding, None) is self:
                setattr(self._owner, self._binding, real)
        return getattr(real, attribute)


def _defer_pandas(module: Any) -> Callable[[], bool]:
    """Runs before gradio.caching is executed; returns what runs after it."""
    if "pandas" in sys.modules:  # already imported by someone: nothing to save
        return lambda: False
    stand_in = DeferredModule("pandas", module, "pd")
    sys.modules["pandas"] = stand_in  # only while caching.py runs its imports

    def after() -> bool:
        if sys.modules.get("pandas") is stand_in:
            del sys.modules["pandas"]  # everyone else imports the real pandas
        return getattr(module, "pd", None) is stand_in

    return after


# --- 3. gradio.queueing: no analytics summary when monitoring is off --------

def _patch_queueing(module: Any) -> bool:
    queue = getattr(module, "Queue", None)
    original = getattr(queue, "compute_analytics_summary", None)
    if not callable(original) or _parameters(original) != ["self", "records"]:
        return False

    def compute_analytics_summary(self: Any, records: Any) -> Any:
        blocks = getattr(self, "blocks", None)
        if getattr(blocks, "enable_monitoring", None) is False and hasattr(self, "cached_event_analytics_summary"):
            return self.cached_event_analytics_summary  # nobody can read it: not computed
        return original(self, records)

    compute_analytics_summary.__wrapped__ = original  # type: ignore[attr-defined]
    queue.compute_analytics_summary = compute_analytics_summary  # type: ignore[union-attr]
    return True


# --- 4. gradio.blocks: Blocks' own unused apps built only if asked for ------

class _DeferredApp:
    """What `Blocks.app` holds until something reads it: then the app is built,
    exactly as Gradio would have built it, and put in its place."""

    def __init__(self, create_app: Callable[..., Any], blocks: Any, kwargs: dict[str, Any]) -> None:
        self.__dict__["_build"] = (create_app, blocks, kwargs, threading.Lock())

    def _real(self) -> Any:
        create_app, blocks, kwargs, lock = self.__dict__["_build"]
        with lock:
            if "_app" not in self.__dict__:
                # Built now, after mount_gradio_app, it would rebind what the
                # mounted app set on the Blocks (its `state_holder`, which holds
                # every session's state, and its `config`): in Gradio as it is
                # this app was built first and the mount's values won. So they
                # are put back.
                before = dict(blocks.__dict__)
                app = create_app(blocks, **kwargs)
                for name, value in before.items():
                    if name != "app" and blocks.__dict__.get(name) is not value:
                        setattr(blocks, name, value)
                self.__dict__["_app"] = app
                if blocks.__dict__.get("app") is self:
                    blocks.app = app
        return self.__dict__["_app"]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # an ASGI app is called
        return self._real()(*args, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._real(), name, value)


class _AppFactory:
    """Stands for `gradio.routes.App` inside gradio/blocks.py only (its module
    global, used by `Blocks.queue` and `Blocks.__exit__`; `launch()` imports the
    real class itself)."""

    def __init__(self, app_class: Any) -> None:
        self._app_class = app_class

    def create_app(self, blocks: Any, *args: Any, **kwargs: Any) -> Any:
        if args or set(kwargs) - {"mcp_server"} or kwargs.get("mcp_server") is not False:
            return self._app_class.create_app(blocks, *args, **kwargs)  # not the calls we know
        return _DeferredApp(self._app_class.create_app, blocks, kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app_class, name)

    # blocks.py's annotations name `App` (`App | None`): typing.get_type_hints still works
    def __or__(self, other: Any) -> Any:
        return self._app_class | other

    def __ror__(self, other: Any) -> Any:
        return other | self._app_class


def _patch_blocks(module: Any) -> bool:
    app_class = getattr(module, "App", None)
    create_app = inspect.getattr_static(app_class, "create_app", None) if app_class is not None else None
    if app_class is None or not isinstance(create_app, staticmethod) or (
            (_parameters(app_class.create_app) or [])[:2] != ["blocks", "app"]):
        return False
    module.App = _AppFactory(app_class)
    return True


# --- the import hook ---------------------------------------------------------

def _after_only(patch: Callable[[Any], bool]) -> Callable[[Any], Callable[[], bool]]:
    return lambda module: lambda: patch(module)


# module -> (what it saves, a function run before the module's code that
# returns one run after it, True if the patch took).
_PATCHES: dict[str, tuple[str, Callable[[Any], Callable[[], bool]]]] = {
    "gradio.component_meta": ("stub regeneration skipped", _after_only(_patch_component_meta)),
    "gradio.caching": ("pandas imported at first use", _defer_pandas),
    "gradio.queueing": ("no analytics summary while monitoring is off", _after_only(_patch_queueing)),
    "gradio.blocks": ("Blocks' unused apps built only if asked for", _after_only(_patch_blocks)),
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
        after = before(module)
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
