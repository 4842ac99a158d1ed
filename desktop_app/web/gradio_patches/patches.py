"""The patches themselves; which module each applies to, and the hook that
applies them, are in __init__.py (its docstring says what each saves)."""

from __future__ import annotations

import importlib
import inspect
import sys
import threading
import types
from collections.abc import Callable
from typing import Any


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


# --- 5. gradio.events: each listener's docstring template compiled once ------

class CompiledOnce:
    """Stands for `gradio.events.Template` (jinja2's): `Template(text)` gives the
    template compiled the first time that text came, so `set_doc`, whatever it
    does with it, renders with Jinja as before. Any other call: Jinja's own."""

    def __init__(self, template: type) -> None:
        self.__wrapped__ = template
        self._compiled: dict[str, Any] = {}  # text -> its Template; ~40 texts, each compiled once
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != 1 or type(args[0]) is not str:
            return self.__wrapped__(*args, **kwargs)
        text = args[0]
        with self._lock:
            if text not in self._compiled:
                self._compiled[text] = self.__wrapped__(text)
            return self._compiled[text]


def _patch_events(module: Any) -> bool:
    template = getattr(module, "Template", None)
    listener = getattr(module, "EventListener", None)
    if not isinstance(template, type) or template.__module__.split(".")[0] != "jinja2" or not callable(
            getattr(listener, "set_doc", None)):
        return False  # not the module we know: left as it is
    module.Template = CompiledOnce(template)  # set_doc looks the name up at each call
    return True
