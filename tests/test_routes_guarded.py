"""Every route of the real app, Gradio's included, refuses requests without a
session, except the few that must be public. The routes are enumerated from the
running app, so a route added by a future Gradio release is tested too."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.routing import Mount, WebSocketRoute

from desktop_app.web.deferred import DeferredApp
from desktop_app.web.gradio_shield import GradioShield
from tests.support.helpers import LiveServer, sign_in

# path -> methods that must answer without a session. Nothing else may.
PUBLIC = {
    ("/healthz", "GET"), ("/healthz", "HEAD"), ("/readyz", "GET"), ("/readyz", "HEAD"),  # a proxy's checks
    ("/login", "GET"), ("/login", "HEAD"), ("/login", "POST"),
    ("/setup", "GET"), ("/setup", "HEAD"), ("/setup", "POST"), ("/logout", "POST"), ("/static/x", "GET"),
    ("/_instance/show", "POST"),  # answers 403 without the instance token (tested in test_desktop)
    ("/static/icon.png", "GET"), ("/static/icon.png", "HEAD"),  # the app's icon, shown on the sign-in page
}


def walk(routes: list, prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Mount):
            sub_app = route.app
            if isinstance(sub_app, GradioShield):  # the shell's filter in front of Gradio
                sub_app = sub_app.app
            if isinstance(sub_app, DeferredApp):  # Gradio, once the loader has built it
                assert sub_app.loader.done and sub_app.loader.error is None
                sub_app = sub_app.loader.app
            sub = getattr(sub_app, "routes", None)
            if sub is None:  # a plain ASGI app, e.g. StaticFiles
                yield prefix + route.path + "/x", "GET"
            else:
                yield from walk(sub, prefix + route.path)
        elif hasattr(route, "original_router"):  # FastAPI's include_router
            yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
        elif isinstance(route, WebSocketRoute):
            yield prefix + route.path, "WEBSOCKET"
        else:
            path = re.sub(r"\{[^}]+\}", "x", prefix + route.path)
            for method in sorted(route.methods or {"GET"}):
                yield path, method


def all_routes(live: LiveServer) -> list[tuple[str, str]]:
    assert live.loader is not None and live.loader.wait(120)
    return sorted(set(walk(live.app.routes)))


def test_every_route_needs_a_session(live_with_user: LiveServer) -> None:
    routes = all_routes(live_with_user)
    assert sum(p.startswith("/gradio/") for p, _ in routes) > 50, "the walker no longer sees Gradio's routes"
    assert not any(m == "WEBSOCKET" for _, m in routes), "a websocket route appeared: test it explicitly"
    open_routes = set()
    with live_with_user.client() as client:
        for path, method in routes:
            # An API client (no text/html): 401 for anything protected.
            r = client.request(method, path, headers={"accept": "application/json"})
            if r.status_code != 401:
                open_routes.add((path, method))
                continue
            if method == "GET":
                page = client.get(path, headers={"accept": "text/html"})
                assert page.status_code == 303, (path, page.status_code)
                assert page.headers["location"].startswith("/login"), path
    assert open_routes == PUBLIC


def test_protected_routes_open_with_a_session(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client:
        assert sign_in(client, "alice").status_code == 303
        for path in ("/gradio/", "/gradio/config", "/gradio/theme.css", "/gradio/gradio_api/info"):
            assert client.get(path).status_code == 200, path
        assert client.get("/").headers["location"] == "/gradio/"


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/gradio/docs", "/gradio/openapi.json"])
def test_api_docs_are_off(live_with_user: LiveServer, path: str) -> None:
    with live_with_user.client() as client:
        sign_in(client, "alice")
        assert client.get(path).status_code == 404


def test_file_route_does_not_serve_the_store(live_with_user: LiveServer) -> None:
    dirs = live_with_user.settings.dirs
    assert dirs.gradio_temp.is_relative_to(dirs.data)  # the harder case: the cache inside the data dir
    (dirs.data / "instance.json").write_text('{"token": "secret"}')
    dirs.backups.mkdir()
    backup = dirs.backups / "desktop-app-20261203-000000.sqlite3"
    backup.write_bytes(dirs.db_path.read_bytes())
    with live_with_user.client() as client:
        sign_in(client, "alice")
        for path in (f"/gradio/gradio_api/file={dirs.db_path}", f"/gradio/gradio_api/file={dirs.db_path}-wal",
                     f"/gradio/gradio_api/file={dirs.data / 'instance.json'}",
                     f"/gradio/gradio_api/file={dirs.log_file}", f"/gradio/gradio_api/file={backup}",
                     f"/gradio/gradio_api/file={dirs.gradio_temp}/../../desktop-app.sqlite3",
                     "/gradio/gradio_api/file=/etc/passwd", "/gradio/gradio_api/file=../../etc/passwd"):
            r = client.get(path)
            assert r.status_code in (403, 404), (path, r.status_code)
            assert b"SQLite format" not in r.content and b"root:" not in r.content and b"secret" not in r.content


def test_uploads_over_the_limit_get_413(live_with) -> None:  # type: ignore[no-untyped-def]
    live = live_with(max_upload="1kb")
    with live.client() as client:
        sign_in(client, "alice")
        assert client.get("/gradio/").status_code == 200  # Gradio built
        small = client.post("/gradio/gradio_api/upload", files={"files": ("a.txt", b"x" * 500, "text/plain")})
        assert small.status_code == 200
        big = client.post("/gradio/gradio_api/upload", files={"files": ("b.txt", b"x" * 4096, "text/plain")})
        assert big.status_code == 413


def test_cross_origin_upload_leaves_no_file(live_with_user: LiveServer) -> None:
    temp = live_with_user.settings.dirs.gradio_temp
    with live_with_user.client() as client:
        sign_in(client, "alice")
        assert client.get("/gradio/").status_code == 200
        before = sorted(str(p) for p in temp.rglob("*"))
        r = client.post("/gradio/gradio_api/upload", files={"files": ("evil.txt", b"planted", "text/plain")},
                        headers={"origin": "http://127.0.0.1:1"})
        assert r.status_code == 403
        after = sorted(str(p) for p in temp.rglob("*"))
    assert after == before
    assert not any(b"planted" in p.read_bytes() for p in temp.rglob("*") if p.is_file())


def test_file_route_refuses_every_spelling_of_a_way_out(live_with_user: LiveServer) -> None:
    """Encoded and double-encoded traversal, case variants, URLs, NUL bytes and
    symlinks planted in Gradio's own temp dir: none reaches the store."""
    dirs = live_with_user.settings.dirs
    temp = dirs.gradio_temp
    with live_with_user.client() as client:
        sign_in(client, "alice")
        assert client.get("/gradio/").status_code == 200  # Gradio built, its temp dir exists
        uploaded = client.post("/gradio/gradio_api/upload", files={"files": ("ok.txt", b"fine", "text/plain")})
        assert uploaded.status_code == 200
        # The route does serve what it should: otherwise every refusal below proves nothing.
        served = client.get(f"/gradio/gradio_api/file={uploaded.json()[0]}")
        assert served.status_code == 200 and served.content == b"fine"

        (temp / "innocent.txt").symlink_to(dirs.db_path)
        (temp / "way-out").symlink_to(dirs.data)
        encoded_temp = str(temp).replace("/", "%2F")
        attempts = [
            f"{temp}/innocent.txt", f"{temp}/way-out/desktop-app.sqlite3",
            f"{temp}/%2e%2e/%2e%2e/desktop-app.sqlite3", f"{temp}/..%2f..%2fdesktop-app.sqlite3",
            f"{temp}/%252e%252e/%252e%252e/desktop-app.sqlite3", f"{encoded_temp}%2F..%2F..%2Fdesktop-app.sqlite3",
            str(dirs.db_path).upper(), f"/{dirs.db_path}", f"file://{dirs.db_path}", f"{dirs.db_path}%00.txt",
            f"{str(dirs.data).swapcase()}/desktop-app.sqlite3",
            "http://127.0.0.1:9/x", "https://example.invalid/x", "//example.invalid/x",
        ]
        for attempt in attempts:
            r = client.get(f"/gradio/gradio_api/file={attempt}")
            assert r.status_code in (403, 404), (attempt, r.status_code)
            assert b"SQLite format" not in r.content, attempt
    print(f"{len(attempts)} file= spellings refused")
