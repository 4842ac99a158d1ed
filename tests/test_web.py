"""The login flow over real HTTP against the real server: first run, CSRF,
one answer for every failed login, sessions, logout, Host and Origin checks,
and a Gradio event that reaches the signed-in user's stored data."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import httpx
import pytest

from desktop_app.web.csrf import csrf_cookie
from desktop_app.web.gate import session_cookie
from tests.support.helpers import PASSWORD, LiveServer, csrf_from, sign_in

# Every test here that uses a live server runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_stores


def test_first_run_creates_the_account_and_signs_in(live: LiveServer) -> None:
    with live.client() as client:
        r = client.get("/", headers={"accept": "text/html"})
        assert r.status_code == 303 and r.headers["location"] == "/login"
        r = client.get("/login")
        assert r.status_code == 303 and r.headers["location"] == "/setup"
        page = client.get("/setup")
        assert "Create your account" in page.text
        csrf = csrf_from(page.text)
        bad = client.post("/setup", data={"username": "alice", "password": PASSWORD, "confirm": "other", "csrf": csrf})
        assert bad.status_code == 400 and "do not match" in bad.text
        short = client.post("/setup", data={"username": "alice", "password": "short", "confirm": "short", "csrf": csrf})
        assert short.status_code == 400 and "too short" in short.text
        assert live.services.accounts.count() == 0
        ok = client.post("/setup", data={"username": "alice", "password": PASSWORD, "confirm": PASSWORD, "csrf": csrf})
        assert ok.status_code == 303 and ok.headers["location"] == "/gradio/"
        assert client.get("/gradio/").status_code == 200
        # The setup page is closed once an account exists.
        assert client.get("/setup").headers["location"] == "/login"
    with live.client() as stranger:
        page = stranger.get("/login")
        r = stranger.post("/setup", data={"username": "eve", "password": PASSWORD, "confirm": PASSWORD,
                                          "csrf": csrf_from(page.text) if "csrf" in page.text else "x"})
        assert r.status_code == 303 and r.headers["location"] == "/login"
    assert [name for name, _ in live.services.accounts.list()] == ["alice"]


def test_login_needs_the_csrf_token(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client:
        client.get("/login")
        r = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf": "forged"})
        assert r.status_code == 400 and session_cookie() not in r.headers.get("set-cookie", "")


def test_failed_logins_get_one_answer(live_with_user: LiveServer) -> None:
    answers = []
    with live_with_user.client() as client:
        for name, password in (("alice", "wrong password"), ("nobody", PASSWORD)):
            r = sign_in(client, name, password)
            answers.append((r.status_code, "Wrong username or password." in r.text))
            assert session_cookie() not in r.headers.get("set-cookie", "")
    assert answers == [(401, True), (401, True)]


def test_throttled_login_says_when_to_retry(live_with_user: LiveServer, long_first_lock: int) -> None:
    with live_with_user.client() as client:
        for _ in range(5):
            sign_in(client, "alice", "wrong password")
        r = sign_in(client, "alice", PASSWORD)  # right password, but locked
        seconds = r.headers["retry-after"]
        assert r.status_code == 429 and f"Try again in {seconds} seconds" in r.text
        assert long_first_lock - 10 < int(seconds) <= long_first_lock  # the lock's time left


def test_session_cookie_and_new_id_at_login(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client:
        first = sign_in(client, "alice")
        cookie = first.headers["set-cookie"]
        assert cookie.startswith(f"{session_cookie()}=")
        attrs = {a.strip().lower() for a in cookie.split(";")[1:]}
        assert {"httponly", "path=/", "samesite=strict"} <= attrs
        assert not any(a == "secure" for a in attrs)  # plain http on loopback: WebKit would drop it
        old_token = client.cookies[session_cookie()]
        assert client.get("/login").status_code == 303  # already signed in
        # Posting the form again while signed in (e.g. from a second tab):
        second = client.post("/login", data={"username": "alice", "password": PASSWORD,
                                              "csrf": client.cookies[csrf_cookie()]})
        assert second.status_code == 303
        new_token = client.cookies[session_cookie()]
        assert new_token != old_token
        assert live_with_user.services.sessions.get(old_token) is None


def test_unknown_session_id_is_ignored(live_with_user: LiveServer) -> None:
    with live_with_user.client(cookies={session_cookie(): "made-up-by-an-attacker"}) as client:
        assert client.get("/gradio/config").status_code == 401


def test_logout_ends_the_session_on_the_server(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client:
        sign_in(client, "alice")
        token = client.cookies[session_cookie()]
        r = client.post("/logout")
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert live_with_user.services.sessions.get(token) is None
    # Replaying the old cookie gets nothing.
    with live_with_user.client(cookies={session_cookie(): token}) as replay:
        assert replay.get("/gradio/config").status_code == 401


def test_next_parameter_cannot_redirect_elsewhere(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client:
        page = client.get("/login")
        for target, expected in (("//evil.example/", "/gradio/"), ("https://evil.example/", "/gradio/"),
                                 ("/\\evil.example", "/gradio/"), ("/gradio/?x=1", "/gradio/?x=1")):
            r = client.post("/login", data={"username": "alice", "password": PASSWORD,
                                            "csrf": csrf_from(page.text), "next": target})
            assert r.headers["location"] == expected, target


def test_only_loopback_host_names_are_served(live_with_user: LiveServer) -> None:
    port = live_with_user.port
    with live_with_user.client() as client:
        sign_in(client, "alice")
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
            assert client.get("/healthz", headers={"host": host, "origin": f"http://{host}"}).status_code == 200, host
        for host in (f"evil.example:{port}", f"localhost.evil.com:{port}", f"127.0.0.1.nip.io:{port}",
                     f"0.0.0.0:{port}", "127.0.0.1", f"127.0.0.1:{port + 1}", ""):
            r = client.get("/login", headers={"host": host})
            assert r.status_code == 403, host
            # Gradio's event streams (SSE) and API too, even with a valid session cookie.
            for path in ("/gradio/gradio_api/queue/data?session_hash=x", "/gradio/gradio_api/call/whoami/x",
                         "/gradio/config"):
                assert client.get(path, headers={"host": host}).status_code == 403, (host, path)


def test_cross_origin_writes_are_refused(live_with_user: LiveServer) -> None:
    port = live_with_user.port
    with live_with_user.client() as client:
        sign_in(client, "alice")
        upload = ("/gradio/gradio_api/upload", {"files": ("a.txt", b"hello", "text/plain")})
        for origin in (f"http://127.0.0.1:{port + 1}", "http://evil.example", "null"):
            r = client.post(upload[0], files=upload[1], headers={"origin": origin})
            assert r.status_code == 403, origin
            r = client.post("/gradio/gradio_api/queue/join", json={}, headers={"origin": origin})
            assert r.status_code == 403, origin
        r = client.post(upload[0], files=upload[1], headers={"sec-fetch-site": "same-site"})
        assert r.status_code == 403
        r = client.post(upload[0], files=upload[1], headers={"origin": f"http://127.0.0.1:{port}"})
        assert r.status_code == 200, r.text
        # A cross-origin read is refused too, so no CORS header can leak data.
        r = client.get("/gradio/config", headers={"origin": "http://evil.example"})
        assert r.status_code == 403 and "access-control-allow-origin" not in r.headers


def test_unsafe_requests_must_say_where_they_come_from(live_with_user: LiveServer) -> None:
    port = live_with_user.port
    with live_with_user.client() as client:
        sign_in(client, "alice")
        csrf = client.cookies["desktop-app-csrf"]
        def logout(**headers: str) -> int:
            # httpx sends the client's default Origin unless the request names its own; drop it for these.
            request = client.build_request("POST", "/logout", data={"csrf": csrf})
            del request.headers["origin"]
            request.headers.update(headers)
            return client.send(request).status_code
        assert logout() == 403  # neither Origin nor Referer
        assert logout(referer=f"http://127.0.0.1:{port + 1}/x") == 403  # another local port
        assert logout(referer="http://evil.example/") == 403
        assert client.get("/gradio/", headers={"accept": "text/html"}).status_code == 200  # still signed in
        assert logout(referer=f"http://127.0.0.1:{port}/gradio/") == 303  # our own page: fine


def test_security_headers(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client:
        page = client.get("/login")
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "http" not in page.text.split("<body>")[0], "the login page loads something remote"
        sign_in(client, "alice")
        gradio = client.get("/gradio/")
        csp = gradio.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp and "default-src 'self'" in csp
        assert gradio.headers["x-frame-options"] == "DENY"
        # No inline script runs but Gradio's own, each allowed by its hash.
        script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", gradio.text, re.S)
        assert len(inline) >= 3
        for script in inline:
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in script_src
        # A file served through Gradio's file route gets no such allowance.
        uploaded = client.post("/gradio/gradio_api/upload",
                               files={"files": ("x.html", b"<script>alert(1)</script>", "text/html")})
        served = client.get(f"/gradio/gradio_api/file={uploaded.json()[0]}")
        assert "sha256-" not in served.headers.get("content-security-policy", "")


def test_only_gradios_hashed_files_may_be_kept_by_the_browser(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client:
        sign_in(client, "alice")
        page = client.get("/gradio/")
        assets = re.findall(r'(?:src|href)="\./(assets/[^"]+)"', page.text)
        assert assets, "no built files referenced by Gradio's page"
        for path in assets:
            r = client.get(f"/gradio/{path}")
            assert r.status_code == 200 and r.headers["cache-control"] == "private, max-age=31536000, immutable", path
        assert client.get("/gradio/theme.css?v=0123abcd").headers["cache-control"].endswith("immutable")
        # Anything else: no long-lived copy. Pages, the unversioned theme, the API, a 404.
        for path in ("/gradio/", "/gradio/theme.css", "/gradio/gradio_api/info", "/gradio/assets/missing.js"):
            assert "immutable" not in client.get(path).headers.get("cache-control", ""), path
        assert "immutable" not in client.get("/login").headers.get("cache-control", "")
    # Without a session, nothing at all (and so nothing cached).
    with live_with_user.client() as stranger:
        r = stranger.get(f"/gradio/{assets[0]}", headers={"accept": "application/json"})
        assert r.status_code == 401 and "immutable" not in r.headers.get("cache-control", "")


def event_outcome(client: httpx.Client, api_name: str, data: list) -> tuple[str, str]:
    """Gradio's two-step HTTP API: POST starts the event, GET streams its result.
    Returns ('complete', data) or ('error', message)."""
    r = client.post(f"/gradio/gradio_api/call/{api_name}", json={"data": data})
    assert r.status_code == 200, r.text
    with client.stream("GET", f"/gradio/gradio_api/call/{api_name}/{r.json()['event_id']}") as stream:
        lines = list(stream.iter_lines())
    events = dict(zip(lines[0::3], lines[1::3], strict=False))
    for kind in ("complete", "error"):
        if f"event: {kind}" in events:
            return kind, events[f"event: {kind}"].removeprefix("data: ")
    raise AssertionError(lines)


def call_event(client: httpx.Client, api_name: str, data: list) -> list:
    """The result of an event that must complete."""
    kind, result = event_outcome(client, api_name, data)
    assert kind == "complete", (kind, result)
    return json.loads(result)


def test_gradio_event_reaches_the_users_own_data(live_with_user: LiveServer) -> None:
    live_with_user.services.accounts.create("bob", PASSWORD)
    with live_with_user.client() as alice, live_with_user.client() as bob:
        sign_in(alice, "alice")
        sign_in(bob, "bob")
        status = call_event(alice, "save_notes", ["alice's note"])
        assert status[0].startswith("Saved")
        assert live_with_user.services.sessions.get_user_value("alice", "notes")["text"] == "alice's note"
        assert live_with_user.services.sessions.get_user_value("bob", "notes") is None
        loaded = call_event(alice, "load_notes", [])
        assert loaded[0]["value"] == "alice's note"
        assert call_event(bob, "whoami", [])[0] == "Signed in as **bob**."


def test_requests_before_gradio_is_built_wait_and_then_events_work(live_with) -> None:  # type: ignore[no-untyped-def]
    live = live_with(ui="tests.apps.slow_ui:build")
    with live.client() as client:
        assert sign_in(client, "alice").status_code == 303  # the login path never waits for Gradio
        assert live.loader is not None and not live.loader.done
        page = client.get("/gradio/")
        assert page.status_code == 200 and live.loader.done
        assert call_event(client, "save_notes", ["late mount"])[0].startswith("Saved")
        assert call_event(client, "load_notes", [])[0]["value"] == "late mount"


def test_a_ui_that_fails_to_build_gives_a_clear_503(live_with) -> None:  # type: ignore[no-untyped-def]
    live = live_with(ui="os:getcwd")
    with live.client() as client:
        sign_in(client, "alice")
        r = client.get("/gradio/")
        assert r.status_code == 503 and "not a gradio.Blocks" in r.text and "Traceback" not in r.text
        assert client.get("/login").status_code in (200, 303)  # the shell itself keeps working


def test_keep_me_signed_in_decides_the_cookie_lifetime(live_with_user: LiveServer) -> None:
    sessions = live_with_user.services.sessions
    for remember, persistent in ((None, False), ("1", True)):
        with live_with_user.client() as client:
            page = client.get("/login")
            data = {"username": "alice", "password": PASSWORD, "csrf": csrf_from(page.text)}
            if remember:
                data["remember"] = remember
            cookie = client.post("/login", data=data).headers["set-cookie"].lower()
            assert ("max-age=" in cookie) is persistent, cookie
            # ...and the store knows (the desktop starts Gradio's build at once then)
            assert sessions.any_kept() is persistent


def test_instance_route_needs_the_instance_token(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client:
        assert client.post("/_instance/show").status_code == 403
        assert client.post("/_instance/show", headers={"X-Desktop-App-Instance": "guess"}).status_code == 403


def test_launch_token_keeps_strangers_from_every_page(live_with) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.web.launch import launch_cookie
    from tests.support.helpers import launched_client

    token = "t" * 43
    live = live_with(with_ui=False, launch_token=token)
    with live.client() as stranger:
        for path in ("/", "/login", "/setup", "/static/app.css", "/gradio/"):
            r = stranger.get(path)
            assert r.status_code == 403 and "password" not in r.text.lower(), path
        assert stranger.post("/login", data={"username": "alice", "password": PASSWORD}).status_code == 403
        assert stranger.get("/_launch?token=" + "x" * 43).status_code == 403
        assert stranger.get("/_launch").status_code == 403
        assert stranger.get("/healthz").status_code == 200
        assert stranger.get("/readyz").json() == {"ready": True}  # says nothing more (no UI in this one)
    with live.client(cookies={launch_cookie(): "guessed"}) as guesser:
        assert guesser.get("/login").status_code == 403
    with launched_client(f"{live.url}/_launch?token={token}") as client:
        cookie = client.cookies[launch_cookie()]
        assert cookie == token
        page = client.get("/login")
        assert page.status_code == 200 and "Sign in" in page.text
        assert sign_in(client, "alice").status_code == 303
        assert client.get("/_launch").status_code == 303  # a reload after the exchange is fine


def test_password_change_in_the_ui_ends_the_other_sessions(live_with_user: LiveServer) -> None:
    with live_with_user.client() as here, live_with_user.client() as elsewhere:
        sign_in(here, "alice")
        sign_in(elsewhere, "alice")
        new = "a much better password"
        assert call_event(here, "change_password", ["wrong", new, new])[0] == "The current password is not right."
        assert call_event(here, "change_password", [PASSWORD, new, new + "x"])[0].startswith("The two new passwords")
        assert call_event(here, "change_password", [PASSWORD, "short", "short"])[0].startswith("Password is too short")
        assert elsewhere.get("/gradio/config").status_code == 200  # nothing changed so far
        result = call_event(here, "change_password", [PASSWORD, new, new])
        assert result == ["Password changed. 1 other session(s) ended.", "", "", ""]
        assert elsewhere.get("/gradio/config").status_code == 401
        assert here.get("/gradio/config").status_code == 200
    with live_with_user.client() as client:
        assert sign_in(client, "alice", new).status_code == 303


def test_sessions_are_listed_and_can_be_ended_from_the_ui(live_with_user: LiveServer) -> None:
    live_with_user.services.accounts.create("bob", PASSWORD)
    with live_with_user.client() as here, live_with_user.client() as there, live_with_user.client() as bob:
        sign_in(here, "alice")
        sign_in(there, "alice")
        sign_in(bob, "bob")
        table, dropdown = call_event(here, "list_sessions", [])
        assert table.count("\n| ") == 2 and "this window" in table  # alice's two, not bob's
        others = [value for _, value in dropdown["choices"]]
        assert len(others) == 1
        bobs = live_with_user.services.sessions.list_user("bob")[0].id_hash
        call_event(here, "end_session", [bobs])  # not alice's to end: nothing happens
        assert bob.get("/gradio/config").status_code == 200
        table, dropdown = call_event(here, "end_session", [others[0]])
        assert there.get("/gradio/config").status_code == 401
        assert table.count("\n| ") == 1 and dropdown["choices"] == []


@pytest.mark.production_kdf  # what it times is the product's hash
def test_wrong_password_and_unknown_user_take_similar_time_over_http(live: LiveServer) -> None:
    """Timing over the real login form: an unknown name costs the same hash as a
    known one with a wrong password, so response time does not tell which names exist.
    Each name is tried once (no throttling), known and unknown interleaved."""
    import statistics
    import time

    for i in range(8):
        live.services.accounts.create(f"known{i}", PASSWORD)
    with live.client() as client:
        sign_in(client, "warmup", "wrong password")  # builds the dummy hash once
        times: dict[str, list[float]] = {"known": [], "unknown": []}
        for i in range(8):
            for kind in ("known", "unknown"):
                t0 = time.perf_counter()
                r = sign_in(client, f"{kind}{i}", "wrong password")
                times[kind].append(time.perf_counter() - t0)
                assert r.status_code == 401 and "Wrong username or password." in r.text
    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    print(f"login failure, median of 8: known name {known * 1000:.0f} ms, unknown name {unknown * 1000:.0f} ms")
    assert abs(known - unknown) < 0.35 * max(known, unknown), (known, unknown)
