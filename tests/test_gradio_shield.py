"""Gradio is untrusted inside the gate: what a signed-in person (or a script in
the page, or another local web page) can make Gradio's own routes do. Each test
is an attack from the red-team pass, against the real app on loopback."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from desktop_app.web.csrf import csrf_cookie
from desktop_app.web.gate import session_cookie
from desktop_app.web.launch import launch_cookie
from tests.support.helpers import PASSWORD, LiveServer, launched_client, run_cli, sign_in, store_args
from tests.test_web import call_event, event_outcome

# Every test here that uses a live server runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_stores

# -- outbound connections, seen from inside this process ----------------------
_watching: list[list[str]] = []


def _audit(event: str, args: tuple) -> None:
    if _watching and event in ("socket.connect", "socket.getaddrinfo"):
        target = args[1] if event == "socket.connect" else args[0]
        _watching[-1].append(f"{event} {target!r}")


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one records only inside `watch_network`


@contextlib.contextmanager
def watch_network() -> Iterator[list[str]]:
    seen: list[str] = []
    _watching.append(seen)
    try:
        yield seen
    finally:
        _watching.remove(seen)


@contextlib.contextmanager
def listener() -> Iterator[tuple[int, list[socket.socket]]]:
    """A loopback port that records every connection made to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        sock.close()


@contextlib.contextmanager
def signed_in_pair(live: LiveServer) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """alice (the fixtures make her) and a new bob, each signed in with a client of their own."""
    live.services.accounts.create("bob", PASSWORD)
    with live.client() as alice, live.client() as bob:
        sign_in(alice, "alice")
        sign_in(bob, "bob")
        yield alice, bob


@pytest.fixture
def alice_and_bob(live_with_user: LiveServer) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with signed_in_pair(live_with_user) as pair:
        yield pair


def upload(client: httpx.Client, name: str, content: bytes) -> str:
    r = client.post("/gradio/gradio_api/upload", files={"files": (name, content, "text/plain")})
    assert r.status_code == 200, r.text
    return r.json()[0]


def fn_index(client: httpx.Client, api_name: str) -> int:
    config = client.get("/gradio/config").json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)


def sse_messages(client: httpx.Client, session_hash: str, *, seconds: float) -> list[dict]:
    """What `queue/data` streams to this client for `session_hash` within `seconds`."""
    messages: list[dict] = []
    deadline = time.monotonic() + seconds
    # Gradio ends the stream of a hash with no events by breaking off the response.
    with contextlib.suppress(httpx.ReadTimeout, httpx.RemoteProtocolError):
        with client.stream("GET", "/gradio/gradio_api/queue/data", params={"session_hash": session_hash},
                           timeout=httpx.Timeout(seconds, read=0.5)) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    messages.append(message)
                    if message.get("msg") == "close_stream":
                        break
                if time.monotonic() > deadline:
                    break
    return messages


def outputs(messages: list[dict]) -> list:
    return [m["output"]["data"] for m in messages if m.get("msg") == "process_completed" and m.get("success")]


# -- 1. Request headers never come back ----------------------------------------
def test_a_ranged_file_response_does_not_echo_the_cookies(live_with) -> None:  # type: ignore[no-untyped-def]
    token = "l" * 43
    live = live_with(launch_token=token)
    with launched_client(f"{live.url}/_launch?token={token}") as client:
        sign_in(client, "alice")
        path = upload(client, "a.txt", b"hello world")
        secrets_ = [client.cookies[session_cookie()], client.cookies[launch_cookie()], client.cookies[csrf_cookie()]]
        for method in ("GET", "HEAD"):
            r = client.request(method, f"/gradio/gradio_api/file={path}",
                               headers={"range": "bytes=0-0", "x-probe": "echo-me"})
            assert r.status_code == 206, (method, r.status_code)
            assert r.headers["content-range"] == "bytes 0-0/11"
            echoed = [(k, v) for k, v in r.headers.items() if any(s in v for s in secrets_) or "echo-me" in v]
            assert echoed == [], echoed
            assert not {"cookie", "host", "origin", "range", "x-probe"} & set(r.headers), dict(r.headers)
        assert client.get(f"/gradio/gradio_api/file={path}", headers={"range": "bytes=0-4"}).content == b"hello"


# -- 2. No outbound connection, whatever the page asks for ----------------------
URL_SPELLINGS = [
    "http://127.0.0.1:{port}/x", "HTTP://127.0.0.1:{port}/x", "https://tracker.invalid/x.png",
    "//127.0.0.1:{port}/x", "http:/127.0.0.1:{port}/x", "%68ttp://127.0.0.1:{port}/x",
    "http%3A%2F%2F127.0.0.1%3A{port}%2Fx", "http%253A%252F%252F127.0.0.1%253A{port}%252Fx",
    " http://127.0.0.1:{port}/x", "%09http://127.0.0.1:{port}/x", "ht%09tp://127.0.0.1:{port}/x",
    "\\\\127.0.0.1:{port}\\x", "/\\127.0.0.1:{port}/x", "%2F%2F127.0.0.1:{port}/x",
    "ftp://127.0.0.1:{port}/x", "file:///etc/passwd", "data:text/plain,hi",
]


def test_file_urls_are_refused_before_gradio_connects_anywhere(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client, listener() as (port, accepted):
        sign_in(client, "alice")
        assert client.get("/gradio/").status_code == 200
        with watch_network() as seen:
            for spelling in URL_SPELLINGS:
                value = spelling.format(port=port)
                for route in ("/gradio/gradio_api/file=", "/gradio/gradio_api/file/"):
                    r = client.get(route + value)
                    assert r.status_code == 403, (route + value, r.status_code)
        time.sleep(0.3)
        assert accepted == [], "the app connected to the URL it was given"
    # Our own requests to the app are loopback connects of this process: nothing else.
    outbound = [s for s in seen if str(live_with_user.port) not in s and "127.0.0.1', 0" not in s]
    assert outbound == [], outbound
    print(f"{len(URL_SPELLINGS) * 2} file= URL spellings refused; no connection, no name looked up")


def test_an_event_cannot_make_gradio_fetch_a_url(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client, listener() as (port, accepted):
        sign_in(client, "alice")
        index = fn_index(client, "save_notes")
        for path in (f"http://127.0.0.1:{port}/x.txt", f"//127.0.0.1:{port}/x.txt"):
            file_data = {"path": path, "url": path, "meta": {"_type": "gradio.FileData"}}
            r = client.post("/gradio/gradio_api/queue/join",
                            json={"data": [file_data], "fn_index": index, "session_hash": "tab1"})
            assert r.status_code == 403, r.text
        time.sleep(0.3)
        assert accepted == []


# -- 3. Cookies another local page sets cannot lock the person out ------------
def test_cookies_python_cannot_parse_do_not_sign_anyone_out(live_with) -> None:  # type: ignore[no-untyped-def]
    token = "c" * 43
    live = live_with(launch_token=token)
    junk = ['prefs={"theme":"dark"}', "a=b c", '"q"=1', "flag", "=lonely", "x=\x7f"]
    with live.client() as client:
        for bad in junk:
            client.cookies.clear()
            r = client.get(f"/_launch?token={token}", headers={"cookie": bad})
            assert r.status_code == 303, (bad, r.status_code)
        launch = client.cookies[launch_cookie()]
        sign_in(client, "alice")
        session, csrf = client.cookies[session_cookie()], client.cookies[csrf_cookie()]
        for bad in junk:
            # As the browser sends them: the foreign cookie (Path=/gradio comes first), then ours.
            header = f"{bad}; {launch_cookie()}={launch}; {session_cookie()}={session}; {csrf_cookie()}={csrf}"
            r = client.get("/gradio/config", headers={"cookie": header})
            assert r.status_code == 200, (bad, r.status_code)
            r = client.get("/login", headers={"cookie": header})
            assert r.status_code == 303, (bad, r.status_code)  # still signed in: on to the app
        # Cookie tossing still fails: a sub-path cookie of the same name comes first and loses.
        tossed = f"{session_cookie()}=planted; {launch_cookie()}={launch}; {session_cookie()}={session}"
        assert client.get("/gradio/config", headers={"cookie": tossed}).status_code == 200
        planted_last = f"{launch_cookie()}={launch}; {session_cookie()}={session}; {session_cookie()}=planted"
        assert client.get("/gradio/config", headers={"cookie": planted_last}).status_code == 401


# -- 5. Session hashes are bound to the signed-in session ----------------------
def test_another_account_cannot_read_or_feed_a_session_hash(alice_and_bob: tuple[httpx.Client, httpx.Client]) -> None:
    alice, bob = alice_and_bob
    index = fn_index(alice, "whoami")
    shared_hash = "alicetab123"
    # alice's event waits in her hash's stream; bob connects to that hash first.
    r = alice.post("/gradio/gradio_api/queue/join",
                   json={"data": [], "fn_index": index, "session_hash": shared_hash})
    assert r.status_code == 200, r.text
    stolen = outputs(sse_messages(bob, shared_hash, seconds=3))
    assert ["Signed in as **alice**."] not in stolen, stolen
    mine = outputs(sse_messages(alice, shared_hash, seconds=5))
    assert mine == [["Signed in as **alice**."]], mine  # the binding does not break the owner's page
    # bob's event, sent with alice's hash, does not land in alice's stream.
    r = bob.post("/gradio/gradio_api/queue/join",
                 json={"data": [], "fn_index": index, "session_hash": shared_hash})
    assert r.status_code == 200, r.text
    planted = outputs(sse_messages(alice, shared_hash, seconds=3))
    assert ["Signed in as **bob**."] not in planted, planted
    # A new session of alice (signed in again) does not inherit the old one's stream either.
    r = alice.post("/gradio/gradio_api/queue/join",
                   json={"data": [], "fn_index": index, "session_hash": shared_hash})
    assert r.status_code == 200
    again = alice.post("/login", data={"username": "alice", "password": PASSWORD, "csrf": alice.cookies[csrf_cookie()]})
    assert again.status_code == 303
    assert outputs(sse_messages(alice, shared_hash, seconds=3)) == []


# -- 6. Files are served to the account they were given to ---------------------
def test_uploads_and_exports_are_served_to_their_owner_only(alice_and_bob: tuple[httpx.Client, httpx.Client]) -> None:
    alice, bob = alice_and_bob
    uploaded = upload(alice, "diary.txt", b"alice's diary")
    assert alice.get(f"/gradio/gradio_api/file={uploaded}").content == b"alice's diary"
    r = bob.get(f"/gradio/gradio_api/file={uploaded}")
    assert r.status_code == 404 and b"diary" not in r.content
    assert bob.get(f"/gradio/gradio_api/file={uploaded}", headers={"range": "bytes=0-3"}).status_code == 404
    # A file an event made (the Notes tab's export) likewise.
    exported = call_event(alice, "export_notes", ["alice's notes"])[0]
    assert alice.get(f"/gradio/gradio_api/file={exported['path']}").content == b"alice's notes"
    assert bob.get(f"/gradio/gradio_api/file={exported['path']}").status_code == 404
    # Nor can bob pass alice's file into an event of his.
    file_data = {"path": uploaded, "meta": {"_type": "gradio.FileData"}}
    r = bob.post("/gradio/gradio_api/queue/join",
                 json={"data": [file_data], "fn_index": fn_index(bob, "save_notes"), "session_hash": "b"})
    assert r.status_code == 403
    # The same content uploaded by bob is his too (Gradio names files by their content).
    assert upload(bob, "diary.txt", b"alice's diary") == uploaded
    assert bob.get(f"/gradio/gradio_api/file={uploaded}").status_code == 200


# -- 8. Bodies are bounded ------------------------------------------------------
def test_bodies_over_their_limit_get_413_before_they_are_read(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client:
        sign_in(client, "alice")
        assert client.get("/gradio/").status_code == 200
        big = b'{"data": ["' + b"x" * (60 << 20) + b'"]}'
        t0 = time.perf_counter()
        r = client.post("/gradio/gradio_api/call/save_notes", content=big,
                        headers={"content-type": "application/json"})
        assert r.status_code == 413 and "too large" in r.text, (r.status_code, r.text[:200])

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it comes
            yield b'{"data": ["'
            for _ in range(40):
                yield b"x" * (1 << 20)
            yield b'"]}'

        r = client.post("/gradio/gradio_api/queue/join", content=chunks(),
                        headers={"content-type": "application/json"})
        assert r.status_code == 413
        print(f"60 MB JSON refused in {time.perf_counter() - t0:.2f}s")
    with live_with_user.client() as stranger:
        stranger.get("/login")
        r = stranger.post("/login", files={"username": (None, "alice"), "password": ("p.bin", b"x" * (30 << 20))},
                          data={"csrf": "x"})
        assert r.status_code == 413
    with live_with_user.client() as client:  # and the app serves on
        assert sign_in(client, "alice").status_code == 303
        assert call_event(client, "save_notes", ["y" * 100_000])[0].startswith("Saved")


# -- 10. Errors say one sentence, no internals ----------------------------------
@pytest.mark.parametrize(("api_name", "data"), [
    ("end_session", [["a", "list"]]), ("change_password", [None, None, None]), ("save_notes", []),
    ("save_notes", [{"path": "/nonexistent"}]),
])
def test_malformed_calls_get_no_internals(live_with_user: LiveServer, api_name: str, data: list) -> None:
    dirs = live_with_user.settings.dirs
    with live_with_user.client() as client:
        sign_in(client, "alice")
        r = client.post(f"/gradio/gradio_api/call/{api_name}", json={"data": data})
        if r.status_code == 200:
            kind, message = event_outcome(client, api_name, data)
        else:
            _, message = "refused", r.text
        assert "\n" not in message.strip(), message
        for leak in (str(dirs.data), str(dirs.cache), "Traceback", "object at 0x", "sqlite", "Error binding",
                     "NoneType", "site-packages"):
            assert leak not in message, (api_name, leak, message)


# -- 13. Another local port may link to the app, not read it --------------------
def test_same_site_reads_are_refused(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client:
        sign_in(client, "alice")
        for site in ("same-site", "cross-site"):
            for mode, dest in (("cors", "empty"), ("no-cors", "image"), ("no-cors", "script"), ("navigate", "iframe")):
                r = client.get("/gradio/config", headers={"sec-fetch-site": site, "sec-fetch-mode": mode,
                                                          "sec-fetch-dest": dest})
                assert r.status_code == 403, (site, mode, dest, r.status_code)
            # A link followed from another local page opens the app (the other page cannot read it).
            r = client.get("/gradio/", headers={"sec-fetch-site": site, "sec-fetch-mode": "navigate",
                                                "sec-fetch-dest": "document", "accept": "text/html"})
            assert r.status_code == 200, (site, r.status_code)
        for site in ("same-origin", "none"):
            assert client.get("/gradio/config", headers={"sec-fetch-site": site}).status_code == 200


def test_an_event_id_answers_only_the_session_that_started_it(alice_and_bob: tuple[httpx.Client, httpx.Client]) -> None:
    alice, bob = alice_and_bob
    event_id = alice.post("/gradio/gradio_api/call/whoami", json={"data": []}).json()["event_id"]
    for route in (f"/gradio/gradio_api/call/whoami/{event_id}", f"/gradio/gradio_api/call/v2/whoami/{event_id}"):
        r = bob.get(route)
        assert r.status_code == 404 and "alice" not in r.text, (route, r.status_code, r.text)
    assert bob.post(f"/gradio/gradio_api/stream/{event_id}/close").status_code == 404
    with alice.stream("GET", f"/gradio/gradio_api/call/whoami/{event_id}") as stream:
        assert "Signed in as **alice**." in "".join(stream.iter_lines())


def test_a_deep_link_opens_only_for_its_maker(live_with) -> None:  # type: ignore[no-untyped-def]
    live = live_with(ui="tests.apps.deep_link_ui:build")
    with signed_in_pair(live) as (alice, bob):
        r = alice.post("/gradio/gradio_api/queue/join",
                       json={"data": ["alice's secret"], "fn_index": fn_index(alice, "echo"), "session_hash": "tab"})
        assert r.status_code == 200, r.text
        assert outputs(sse_messages(alice, "tab", seconds=5)) == [["alice's secret"]]
        link = alice.get("/gradio/gradio_api/deep_link", params={"session_hash": "tab"}).json()
        assert link, "Gradio saved no deep link"
        # bob, even with alice's tab string, saves nothing of hers.
        assert bob.get("/gradio/gradio_api/deep_link", params={"session_hash": "tab"}).json() == ""
        # The page's front end asks for its config with the link.
        mine = alice.get("/gradio/config", params={"deep_link": link}).json()
        assert mine["deep_link_state"] == "valid" and "alice's secret" in json.dumps(mine)
        theirs = bob.get("/gradio/config", params={"deep_link": link})
        assert theirs.status_code == 200 and "alice's secret" not in theirs.text
        assert bob.get("/gradio/", params={"deep_link": link}, headers={"accept": "text/html"}).status_code == 200


def test_deleting_an_account_deletes_its_files_and_deep_links(live_with) -> None:  # type: ignore[no-untyped-def]

    live = live_with(ui="tests.apps.deep_link_ui:build")
    with signed_in_pair(live) as (alice, bob):
        hers = upload(alice, "hers.txt", b"only alice")
        both = upload(alice, "both.txt", b"alice and bob")
        assert upload(bob, "both.txt", b"alice and bob") == both
        r = alice.post("/gradio/gradio_api/queue/join",
                       json={"data": ["saved state"], "fn_index": fn_index(alice, "echo"), "session_hash": "t"})
        assert r.status_code == 200
        assert outputs(sse_messages(alice, "t", seconds=5)) == [["saved state"]]
        link = alice.get("/gradio/gradio_api/deep_link", params={"session_hash": "t"}).json()
        deep_link_dir = live.settings.dirs.gradio_temp / "deep_links" / link
        assert deep_link_dir.is_dir()
    # The CLI, another process, while the app runs, as a person would.
    r = run_cli("users", "delete", "alice", *store_args(live.settings))
    assert r.returncode == 0, r.stderr
    assert not Path(hers).exists() and not deep_link_dir.exists()
    assert Path(both).exists()  # bob still holds it
    # A new account under the old name inherits nothing.
    live.services.accounts.create("alice", PASSWORD)
    with live.client() as new_alice, live.client() as bob:
        sign_in(new_alice, "alice")
        sign_in(bob, "bob")
        assert new_alice.get(f"/gradio/gradio_api/file={both}").status_code == 404
        assert bob.get(f"/gradio/gradio_api/file={both}").content == b"alice and bob"


# -- A second attack pass, on the shield itself -----------------------------------
def test_named_inputs_and_echoing_errors_get_the_same_file_checks(alice_and_bob: tuple[httpx.Client, httpx.Client]) -> None:
    alice, bob = alice_and_bob
    with listener() as (port, accepted):
        hers = upload(alice, "secret.txt", b"alice's secret")
        url = {"path": f"http://127.0.0.1:{port}/x.txt", "meta": {"_type": "gradio.FileData"}}
        theirs = {"path": hers, "meta": {"_type": "gradio.FileData"}}
        attempts = [
            ("/gradio/gradio_api/call/v2/save_notes", {"text": url}),  # inputs by name, not in `data`
            ("/gradio/gradio_api/call/v2/save_notes", {"text": theirs}),
            # FastAPI's 422 copies a bad field back: it must not make alice's file bob's.
            ("/gradio/gradio_api/queue/join", {"data": [], "fn_index": theirs, "session_hash": "x"}),
            ("/gradio/gradio_api/run/predict", {"data": [], "trigger_id": theirs}),
            ("/gradio/gradio_api/cancel", {"session_hash": "x", "fn_index": theirs, "event_id": "e"}),
        ]
        for route, body in attempts:
            r = bob.post(route, json=body)
            assert r.status_code == 403, (route, r.status_code, r.text[:200])
        assert bob.post("/gradio/gradio_api/queue/join", json=[theirs]).status_code == 403
        assert bob.get(f"/gradio/gradio_api/file={hers}").status_code == 404
        time.sleep(0.3)
        assert accepted == []


def test_a_symlinked_prefix_is_the_same_file(alice_and_bob: tuple[httpx.Client, httpx.Client]) -> None:
    alice, bob = alice_and_bob
    hers = upload(alice, "secret.txt", b"alice's secret")
    for spelling in (f"/proc/self/root{hers}", f"/proc/thread-self/root{hers}", f"/proc/1/root{hers}"):
        r = bob.get(f"/gradio/gradio_api/file={spelling}")
        assert r.status_code in (403, 404) and b"secret" not in r.content, (spelling, r.status_code)
    assert alice.get(f"/gradio/gradio_api/file=/proc/self/root{hers}").content == b"alice's secret"


def test_percent_encoded_parameter_names_are_bound_too(live_with) -> None:  # type: ignore[no-untyped-def]
    live = live_with(ui="tests.apps.deep_link_ui:build")
    with signed_in_pair(live) as (alice, bob):
        # An event started without a hash: Gradio keys it by its own event id.
        event_id = alice.post("/gradio/gradio_api/call/echo", json={"data": ["alice's words"]}).json()["event_id"]
        for name in ("session%5Fhash", "%73ession_hash", "session_hash"):
            seen = ""
            # Gradio breaks off the stream of a hash it has no events for.
            with contextlib.suppress(httpx.ReadTimeout, httpx.RemoteProtocolError):
                with bob.stream("GET", f"/gradio/gradio_api/queue/data?{name}={event_id}", timeout=3) as stream:
                    for line in stream.iter_lines():
                        seen += line
            assert "alice's words" not in seen, name
        with alice.stream("GET", f"/gradio/gradio_api/call/echo/{event_id}") as stream:
            assert "alice's words" in "".join(stream.iter_lines())  # still hers to read
        r = alice.post("/gradio/gradio_api/queue/join",
                       json={"data": ["alice's state"], "fn_index": fn_index(alice, "echo"), "session_hash": "t"})
        assert outputs(sse_messages(alice, "t", seconds=5)) == [["alice's state"]]
        link = alice.get("/gradio/gradio_api/deep_link", params={"session_hash": "t"}).json()
        for name in ("deep%5Flink", "deep_l%69nk", "%64eep_link"):
            r = bob.get(f"/gradio/config?{name}={link}")
            assert r.status_code == 200 and "alice's state" not in r.text, name
        assert "alice's state" in alice.get(f"/gradio/config?deep%5Flink={link}").text


def test_a_ranged_answer_carries_no_header_the_request_chose(live_with_user: LiveServer) -> None:
    with live_with_user.client() as client:
        sign_in(client, "alice")
        path = upload(client, "a.txt", b"hello world")
        chosen = {"content-security-policy": "default-src *; script-src * 'unsafe-inline'",
                  "location": "http://evil.example/", "cache-control": "public, max-age=999999",
                  "content-disposition": "attachment; filename=chosen.html", "etag": '"chosen"', "vary": "chosen",
                  "x-forwarded-host": "evil.example"}
        for method in ("GET", "HEAD"):
            r = client.request(method, f"/gradio/gradio_api/file={path}", headers={"range": "bytes=0-3", **chosen})
            assert r.status_code == 206
            for name, value in chosen.items():
                assert value not in r.headers.get(name, ""), (method, name, r.headers.get(name))
            assert "script-src 'self'" in r.headers["content-security-policy"]  # the shell's own policy


def test_odd_bodies_and_event_ids_are_refused_cleanly(alice_and_bob: tuple[httpx.Client, httpx.Client]) -> None:
    alice, bob = alice_and_bob
    deep = b"[" * 200_000 + b"]" * 200_000
    r = bob.post("/gradio/gradio_api/queue/join", content=deep, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.status_code
    event_id = alice.post("/gradio/gradio_api/call/whoami", json={"data": []}).json()["event_id"]
    r = bob.post("/gradio/gradio_api/cancel", json={"session_hash": "x", "fn_index": 0, "event_id": event_id})
    assert r.status_code == 404
    with alice.stream("GET", f"/gradio/gradio_api/call/whoami/{event_id}") as stream:
        assert "Signed in as **alice**." in "".join(stream.iter_lines())
    assert bob.get("/gradio/config", headers={"sec-fetch-site": "Same-Site"}).status_code == 403


# -- A third pass -----------------------------------------------------------------
def test_a_path_through_a_symlink_and_dot_dot_is_checked_as_gradio_opens_it(
        alice_and_bob: tuple[httpx.Client, httpx.Client]) -> None:
    alice, bob = alice_and_bob
    hers = upload(alice, "diary.txt", b"alice's diary")
    # /dev/fd and (on merged-/usr systems) /bin are symlinks: the kernel resolves them
    # before "..", Gradio's abspath folds ".." first. Slashes encoded, so no client
    # folds the ".." away before the server sees it.
    for prefix in ("/dev/fd/../..", "/bin/..", "/tmp/../tmp/.."):
        encoded = (prefix + hers).replace("/", "%2F")
        r = bob.get(f"/gradio/gradio_api/file={encoded}")
        assert r.status_code in (403, 404) and b"diary" not in r.content, (prefix, r.status_code)
        file_data = {"path": prefix + hers, "meta": {"_type": "gradio.FileData"}}
        r = bob.post("/gradio/gradio_api/call/v2/save_notes", json={"text": file_data})
        assert r.status_code == 403, (prefix, r.status_code)
    assert bob.get(f"/gradio/gradio_api/file={hers}").status_code == 404


def test_bodies_that_stop_coming_and_streams_past_a_cap_are_refused(
        live_with_user: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import desktop_app.web.limits

    monkeypatch.setattr(desktop_app.web.limits, "BODY_IDLE_SECONDS", 1.0)  # the default is 10 s
    with socket.create_connection(("127.0.0.1", live_with_user.port), timeout=10) as stalled:
        stalled.sendall(f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{live_with_user.port}\r\n"
                        f"Origin: {live_with_user.url}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        "Content-Length: 60000\r\n\r\nu".encode())
        t0 = time.monotonic()
        answer = stalled.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
        assert time.monotonic() - t0 < 5
    with live_with_user.client() as client:
        sign_in(client, "alice")
        with contextlib.ExitStack() as streams:
            codes = []
            for i in range(34):
                r = streams.enter_context(client.stream("GET", f"/gradio/gradio_api/heartbeat/tab{i}",
                                                        timeout=httpx.Timeout(10, read=None)))
                codes.append(r.status_code)
            assert codes[:32] == [200] * 32 and codes[32:] == [429, 429], codes
        # Once they are closed, the account streams again.
        with client.stream("GET", "/gradio/gradio_api/heartbeat/again") as r:
            assert r.status_code == 200


def test_odd_but_valid_json_goes_through_and_a_flood_of_parts_does_not(
        alice_and_bob: tuple[httpx.Client, httpx.Client]) -> None:
    alice, _ = alice_and_bob
    # Half an emoji, as JSON.stringify sends it: not a 500 from the shell.
    r = alice.post("/gradio/gradio_api/call/save_notes", content=b'{"data": ["a\\ud800b"]}',
                   headers={"content-type": "application/json"})
    assert r.status_code == 200, (r.status_code, r.text[:200])
    r = alice.post("/gradio/gradio_api/queue/join", content=b"[" + b"{}," * 300_000 + b"{}]",
                   headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert call_event(alice, "save_notes", ["{" * 90_000])[0].startswith("Saved")  # braces in text are fine
