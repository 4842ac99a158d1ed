"""Gradio's start-up work the shell skips (desktop_app/web/gradio_patches/): in a
fresh interpreter, as the app's loader thread does it, each beside Gradio as it
is; in the running app; and each patch's fallback when Gradio changes."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_app.web.gradio_patches import patches, swaps
from tests.support.helpers import PASSWORD, AppProcess, assert_gradio_patches_applied, launched_client, run_cli, sign_in
from tests.test_web import call_event

# Each check runs in a fresh interpreter, as the app's loader thread imports
# Gradio, beside the same check on Gradio as it is. An interpreter that imports
# Gradio costs ~4 s of CPU here, so each runs several checks in turn (three
# interpreters at once, not eight one after the other); their order matters:
# the checks that pandas is not imported yet come before those that import it.
FRESH = """
import json, sys
sys.path.insert(0, {folder!r})
if {patch}:
    from desktop_app.web import gradio_patches
    gradio_patches.install()
import gradio as gr
results = {{"after_import": {{"pandas": "pandas" in sys.modules}}}}
for name, body in {checks!r}:
    out = {{}}
    exec(body, {{"gr": gr, "sys": sys, "out": out}})
    results[name] = out
print(json.dumps(results))
"""

COMPONENT = 'import gradio as gr\n\n\nclass Shout(gr.Textbox):\n    """A textbox, louder."""\n'
STUB = """
import my_component  # a developer's own component class, defined at import
out["stub_function"] = gr.component_meta.create_or_modify_pyi.__name__
out["value"] = my_component.Shout(value="hi").value
"""

PANDAS = """
from gradio import caching
out["plain_hash"] = caching.cache_hash([1, "a"])
out["still_deferred"] = "pandas" in sys.modules
import pandas as pd  # anyone else importing pandas gets the real module
out["real"] = type(pd) is type(sys) and hasattr(pd, "DataFrame")
out["frame_hash"] = caching.cache_hash(pd.DataFrame({"x": [1, 2]}))
out["caching_pd_is_real"] = caching.pd is pd
"""

APPS = """
from gradio import routes
built = []
original = routes.App.create_app
def counting(*args, **kwargs):
    built.append(1)
    return original(*args, **kwargs)
routes.App.create_app = staticmethod(counting)
with gr.Blocks() as demo:
    gr.Textbox()
out["during_build"] = len(built)
from fastapi import FastAPI
gr.mount_gradio_app(FastAPI(), demo, path="/ui")
out["after_mount"] = len(built)
holder, config = demo.state_holder, demo.config  # the mounted app's: every session's state
out["root_path"] = demo.app.root_path  # someone asks for Blocks' own app: built then, as before
out["asked"] = len(built)
out["is_app"] = isinstance(demo.app, routes.App) and callable(demo.app)
out["kept_the_mounts_state"] = demo.state_holder is holder and demo.config is config
"""

SUMMARY = """
with gr.Blocks() as demo:
    gr.Textbox()
records = [{{"function": "f", "status": "success", "process_time": 0.1}}] * 3
demo._queue.events_recorded = 3
demo.enable_monitoring = {monitoring}
out["summary"] = demo._queue.compute_analytics_summary(records)
out["pandas"] = "pandas" in sys.modules
"""

DOCS = """
import hashlib, inspect
import my_component
classes = [c for _, c in inspect.getmembers(gr.components, inspect.isclass)] + [my_component.Shout]
docs = {f"{c.__name__}.{e.event_name if hasattr(e, 'event_name') else e}": getattr(c, getattr(e, "event_name", e)).__doc__
        for c in classes for e in getattr(c, "EVENTS", [])}
out["count"] = len(docs)
out["digest"] = hashlib.sha256(repr(sorted(docs.items())).encode()).hexdigest()
out["sample"] = docs["Button.click"][:60]
out["ours"] = type(gr.events.Template).__name__ == "CompiledOnce"
"""

SSL = """
import httpx
from gradio import processing_utils, routes, workflow
contexts = [processing_utils.sync_client._transport._pool._ssl_context,
            workflow._HF_CLIENT._transport._pool._ssl_context, routes._proxy_transport._pool._ssl_context]
out["distinct"] = len({id(c) for c in contexts})
out["verified"] = all(c.verify_mode.name == "CERT_REQUIRED" and c.check_hostname for c in contexts)
out["ca_certs"] = sorted({c.cert_store_stats()["x509_ca"] for c in contexts})
later = httpx.Client()._transport._pool._ssl_context  # a client made after the import: its own, as ever
out["later_shared"] = any(later is c for c in contexts)
"""

# Each interpreter: patched or not, and its checks in order (APPS patches Gradio: last).
RUNS = {
    "patched": (True, [("summary_off", SUMMARY.format(monitoring=False)), ("pandas", PANDAS),
                       ("stub", STUB), ("docs", DOCS), ("ssl", SSL), ("apps", APPS)]),
    "monitoring": (True, [("summary_on", SUMMARY.format(monitoring=True))]),  # imports pandas for it
    "plain": (False, [("summary_off", SUMMARY.format(monitoring=False)), ("pandas", PANDAS),
                      ("stub", STUB), ("docs", DOCS), ("ssl", SSL), ("apps", APPS)]),
}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Each run's results by check name, and the folder it imported my_component from."""
    procs = {}
    for name, (patch, checks) in RUNS.items():
        folder = tmp_path_factory.mktemp(name)
        (folder / "my_component.py").write_text(COMPONENT)
        code = FRESH.format(folder=str(folder), patch=patch, checks=checks)
        procs[name] = (folder, subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE, text=True))
    results = {}
    for name, (folder, proc) in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results[name] = {**json.loads(out.splitlines()[-1]), "folder": folder}
    return results


def test_no_stub_is_written_and_components_work_the_same(fresh: dict[str, dict]) -> None:
    patched, plain = fresh["patched"], fresh["plain"]
    assert patched["stub"] == {"stub_function": "_no_stub", "value": "hi"}
    assert not (patched["folder"] / "my_component.pyi").exists()
    # The reference: Gradio as it is writes a stub beside the developer's file at each import.
    assert plain["stub"] == {"stub_function": "create_or_modify_pyi", "value": "hi"}
    assert (plain["folder"] / "my_component.pyi").exists()


def test_listener_docstrings_are_compiled_once_and_read_the_same(fresh: dict[str, dict]) -> None:
    patched, plain = fresh["patched"]["docs"], fresh["plain"]["docs"]
    assert patched["ours"] and not plain["ours"]
    assert patched["count"] == plain["count"] > 200  # every component's every event, the developer's too
    assert patched["digest"] == plain["digest"]
    assert patched["sample"].startswith("Triggered when the Button is clicked.")


def test_gradios_import_time_clients_share_one_verified_ssl_context(fresh: dict[str, dict]) -> None:
    patched, plain = fresh["patched"]["ssl"], fresh["plain"]["ssl"]
    assert plain["distinct"] == 3 and patched["distinct"] == 1  # the reference: one CA bundle loaded each
    assert patched["verified"] and plain["verified"]
    assert patched["ca_certs"] == plain["ca_certs"] and patched["ca_certs"][0] > 100
    assert not patched["later_shared"] and not plain["later_shared"]


def test_pandas_waits_for_its_first_use_and_hashes_the_same(fresh: dict[str, dict]) -> None:
    patched, plain = fresh["patched"]["pandas"], fresh["plain"]["pandas"]
    assert fresh["plain"]["after_import"]["pandas"] is True  # the reference: Gradio imports pandas at once
    assert fresh["patched"]["after_import"]["pandas"] is False and patched["still_deferred"] is False
    assert patched["real"] and patched["caching_pd_is_real"]
    assert (patched["plain_hash"], patched["frame_hash"]) == (plain["plain_hash"], plain["frame_hash"])


def test_blocks_build_their_own_apps_only_when_asked(fresh: dict[str, dict]) -> None:
    patched, plain = fresh["patched"]["apps"], fresh["plain"]["apps"]
    assert plain["during_build"] == 2 and plain["after_mount"] == 3  # the reference: two built for nothing
    assert patched["during_build"] == 0 and patched["after_mount"] == 1
    assert patched["asked"] == 2 and patched["is_app"] and plain["is_app"]
    # Built late, it must not rebind the Blocks' session state to a holder nobody serves
    assert patched["kept_the_mounts_state"] and plain["kept_the_mounts_state"]
    assert patched["root_path"] == plain["root_path"]


def test_the_analytics_summary_is_computed_only_for_monitoring(fresh: dict[str, dict]) -> None:
    off = fresh["patched"]["summary_off"]
    assert off == {"summary": {"functions": {}}, "pandas": False}
    assert fresh["monitoring"]["after_import"]["pandas"] is False
    on = fresh["monitoring"]["summary_on"]
    assert on["summary"]["functions"]["f"]["total_requests"] == 3 and on["pandas"]
    plain = fresh["plain"]["summary_off"]  # Gradio computes it for nobody
    assert plain["summary"] == on["summary"]


def test_the_running_app_answers_events_without_pandas(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli("users", "add", "alice", "--password-stdin", "--data-dir", str(data),
                   input=PASSWORD + "\n").returncode == 0
    app = AppProcess(data)
    try:
        with launched_client(app.wait_ready()) as client:
            assert sign_in(client, "alice").status_code == 303
            assert client.get("/gradio/config").status_code == 200
            assert call_event(client, "save_notes", ["kept"])[0].startswith("Saved")
            assert call_event(client, "load_notes", [])[0]["value"] == "kept"
            maps = Path(f"/proc/{app.proc.pid}/maps").read_text()
        assert "/pandas/" not in maps  # none of pandas' compiled modules loaded (~35 MiB)
    finally:
        app.stop()
    assert_gradio_patches_applied(data)


def test_a_gradio_that_renamed_its_internals_is_left_as_it_is() -> None:
    def create_or_modify_pyi(component_class, class_name):  # type: ignore[no-untyped-def]  # another signature
        return "gradio's own"

    changed = types.ModuleType("gradio.component_meta")
    changed.create_or_modify_pyi = create_or_modify_pyi  # type: ignore[attr-defined]
    assert not patches._patch_component_meta(changed)
    assert changed.create_or_modify_pyi is create_or_modify_pyi  # type: ignore[attr-defined]
    assert not patches._patch_component_meta(types.ModuleType("gradio.component_meta"))  # gone

    class Queue:
        def compute_analytics_summary(self, records, window):  # type: ignore[no-untyped-def]
            return "gradio's own"

    queueing = types.ModuleType("gradio.queueing")
    queueing.Queue = Queue  # type: ignore[attr-defined]
    assert not patches._patch_queueing(queueing)
    assert Queue().compute_analytics_summary([], 1) == "gradio's own"

    class App:
        def create_app(self, blocks):  # type: ignore[no-untyped-def]  # no longer a staticmethod
            return "gradio's own"

    blocks = types.ModuleType("gradio.blocks")
    blocks.App = App  # type: ignore[attr-defined]
    assert not patches._patch_blocks(blocks)
    assert blocks.App is App  # type: ignore[attr-defined]

    class EventListener:
        def set_doc(self, component):  # type: ignore[no-untyped-def]
            return "gradio's own"

    events = types.ModuleType("gradio.events")  # an events.py that no longer renders with jinja2
    events.EventListener, events.Template = EventListener, str  # type: ignore[attr-defined]
    assert not patches._patch_events(events) and events.Template is str  # type: ignore[attr-defined]

    def create_ssl_context(verify, cert):  # type: ignore[no-untyped-def]  # an httpx whose function changed
        return "httpx's own"

    with fake_httpx_transports(create_ssl_context) as transports:
        assert swaps.SharedSslContext().before(types.ModuleType("gradio.routes"))() is False
        assert transports.create_ssl_context is create_ssl_context

    caching = types.ModuleType("gradio.caching")  # a caching.py that no longer imports pandas as pd
    after = patches._defer_pandas(caching)
    assert not after() and not isinstance(sys.modules.get("pandas"), patches.DeferredModule)


@contextlib.contextmanager
def fake_httpx_transports(create_ssl_context: Callable[..., Any]) -> Iterator[Any]:
    """`httpx._transports.default` as SharedSslContext finds it, for one test."""
    transports = types.ModuleType("httpx._transports.default")
    transports.create_ssl_context = create_ssl_context  # type: ignore[attr-defined]
    saved = sys.modules.get("httpx._transports.default")
    sys.modules["httpx._transports.default"] = transports
    try:
        yield transports
    finally:
        if saved is not None:
            sys.modules["httpx._transports.default"] = saved
        else:
            del sys.modules["httpx._transports.default"]


def test_only_the_importing_thread_shares_the_ssl_context_and_only_while_it_imports() -> None:
    def create_ssl_context(verify=True, cert=None, trust_env=True):  # type: ignore[no-untyped-def]
        return object()  # a new context each call, as httpx makes one

    with fake_httpx_transports(create_ssl_context) as transports:
        shared = swaps.SharedSslContext()
        after = shared.before(types.ModuleType("gradio.processing_utils"))
        mine = transports.create_ssl_context()
        assert transports.create_ssl_context() is mine  # this thread, while the module runs: shared
        assert transports.create_ssl_context(verify=False) is not mine  # other arguments: httpx's own
        others: list[object] = []
        worker = threading.Thread(target=lambda: others.append(transports.create_ssl_context()))
        worker.start()
        worker.join()
        assert others[0] is not mine  # another thread's client, meanwhile: its own context
        assert after() is True and transports.create_ssl_context is create_ssl_context  # restored
        # a module that made no client at import says so (the log then names it as not applied)
        assert shared.before(types.ModuleType("gradio.workflow"))() is False

        def someone_elses(verify=True, cert=None, trust_env=True):  # type: ignore[no-untyped-def]
            return "someone else's"

        after = shared.before(types.ModuleType("gradio.routes"))
        transports.create_ssl_context = someone_elses  # replaced meanwhile: theirs stays
        after()
        assert transports.create_ssl_context is someone_elses
        assert shared.before(types.ModuleType("gradio.routes"))() is False  # and is never wrapped again
        assert transports.create_ssl_context is someone_elses


def test_nested_modules_each_report_their_own_use_and_a_second_thread_is_left_alone() -> None:
    def create_ssl_context(verify=True, cert=None, trust_env=True):  # type: ignore[no-untyped-def]
        return object()

    with fake_httpx_transports(create_ssl_context) as transports:
        shared = swaps.SharedSslContext()
        outer = shared.before(types.ModuleType("gradio.processing_utils"))
        inner = shared.before(types.ModuleType("gradio.routes"))  # imported by the outer one
        transports.create_ssl_context()
        assert inner() is True
        assert outer() is False  # the client was the inner module's: the outer made none itself
        assert transports.create_ssl_context is create_ssl_context

        outer = shared.before(types.ModuleType("gradio.processing_utils"))
        seen: list[object] = []

        def second_thread() -> None:  # another thread imports one of those modules meanwhile
            after = shared.before(types.ModuleType("gradio.workflow"))
            seen.extend([transports.create_ssl_context(), after()])

        worker = threading.Thread(target=second_thread)
        worker.start()
        worker.join()
        assert seen[1] is False  # left as it is, and it got a context of its own
        mine = transports.create_ssl_context()
        assert seen[0] is not mine and outer() is True
        assert transports.create_ssl_context is create_ssl_context


def test_the_collector_pauses_only_for_the_build() -> None:
    import gc

    from desktop_app.web import gradio_loader

    assert gc.isenabled()
    with gradio_loader._no_garbage_collection():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()  # turned off by someone on purpose: stays off
    try:
        with gradio_loader._no_garbage_collection():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    try:  # and a build that fails resumes it too
        with gradio_loader._no_garbage_collection():
            raise RuntimeError("the UI did not build")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_a_patch_that_fails_to_prepare_leaves_the_module_to_load_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_app.web import gradio_patches

    def broken(module: types.ModuleType) -> Callable[[], bool]:
        raise RuntimeError("a bug of ours")

    class Inner:  # the finder's own loader
        def exec_module(self, module: types.ModuleType) -> None:
            module.ran = True  # type: ignore[attr-defined]

    monkeypatch.setitem(gradio_patches._PATCHES, "gradio.example", ("an example", broken))
    module = types.ModuleType("gradio.example")
    gradio_patches._PatchingLoader(Inner()).exec_module(module)
    assert module.ran and gradio_patches._outcome.pop("gradio.example") is False  # type: ignore[attr-defined]
