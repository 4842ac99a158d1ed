"""A team server's gate (`serve --public-url`, #16), on the real app in this
process: the Host allow-list and the Origin check are the public URL's, not the
bound address's; cookies are `Secure` and `__Host-` behind https; the CSRF
check holds; there is no first-run page; proxy headers count only from the
proxies named; Gradio builds its links from the public URL, whatever a
request's X-Forwarded-* say."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.helpers import PASSWORD, LiveServer, csrf_from, serve_settings

PUBLIC = "https://tools.example.com"
HOST = "tools.example.com"
SESSION, CSRF = "__Host-desktop-app-session", "__Host-desktop-app-csrf"


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def start(public_url: str = PUBLIC, *, accounts: bool = True, with_ui: bool = False, **flags: object) -> LiveServer:
        server = LiveServer(serve_settings(tmp_path / f"data{len(servers)}", public_url, **flags), with_ui=with_ui)
        servers.append(server)
        if accounts:
            server.services.accounts.create("alice", PASSWORD)
        return server

    yield start
    for server in servers:
        server.close()


def browser(server: LiveServer, origin: str = PUBLIC, host: str = HOST) -> httpx.Client:
    """A browser that reached the server through its proxy: the public Host and
    Origin. The proxy's TLS ended before us, so the Secure cookies are handed on
    by hand (httpx keeps them for https only)."""
    return httpx.Client(base_url=server.url, timeout=30, headers={"host": host, "origin": origin})


def cookie_header(response: httpx.Response) -> str:
    return "; ".join(c.split(";")[0] for c in response.headers.get_list("set-cookie"))


def signed_in(client: httpx.Client) -> tuple[httpx.Response, str]:
    page = client.get("/login")
    cookies = cookie_header(page)
    r = client.post("/login", headers={"cookie": cookies},
                    data={"username": "alice", "password": PASSWORD, "csrf": csrf_from(page.text), "next": "/gradio/"})
    return r, cookies


def test_only_the_public_host_is_served(serving) -> None:  # type: ignore[no-untyped-def]
    server = serving()
    with browser(server) as client:
        assert client.get("/login").status_code == 200
    bound = server.url.removeprefix("http://")
    for host in (bound, "127.0.0.1", "tools.example.com.evil.example", "evil.example"):
        with browser(server, origin=f"http://{host}", host=host) as client:
            r = client.get("/login")
            assert r.status_code == 403 and "Host" in r.text, host
        # A proxy's health checks come by address (any Host, no Origin): they answer, and say nothing.
        for path in ("/healthz", "/readyz"):
            assert httpx.get(server.url + path, headers={"host": host}).status_code == 200, (host, path)


def test_origins_are_compared_with_the_public_url_not_the_bound_address(serving) -> None:  # type: ignore[no-untyped-def]
    server = serving()
    for origin in (server.url, "http://tools.example.com", "https://tools.example.com:8443", "https://evil.example"):
        with browser(server, origin=origin) as client:
            page = client.get("/login", headers={"origin": PUBLIC})
            r = client.post("/login", headers={"cookie": cookie_header(page)},
                            data={"username": "alice", "password": PASSWORD, "csrf": csrf_from(page.text)})
            assert r.status_code == 403 and "cross-origin" in r.text, origin
    with browser(server) as client:
        r, _ = signed_in(client)
        assert r.status_code == 303


def test_cookies_behind_https_are_secure_and_host_only(serving) -> None:  # type: ignore[no-untyped-def]
    server = serving()
    with browser(server) as client:
        page = client.get("/login")
        (csrf,) = page.headers.get_list("set-cookie")
        r, _ = signed_in(client)
        assert r.status_code == 303
        (session,) = r.headers.get_list("set-cookie")
    for cookie, name in ((csrf, CSRF), (session, SESSION)):
        attributes = [part.strip().lower() for part in cookie.split(";")]
        assert cookie.startswith(name + "="), cookie
        # What a browser requires of a __Host- cookie: Secure, Path=/, no Domain.
        assert {"secure", "httponly", "path=/", "samesite=strict"} <= set(attributes), cookie
        assert not any(part.startswith("domain=") for part in attributes), cookie
    # The session works as the browser sends it back; the desktop's cookie name is nobody.
    token = session.split(";")[0].split("=", 1)[1]
    with browser(server) as client:
        assert client.get("/gradio/config", headers={"cookie": f"{SESSION}={token}"}).status_code != 401
        r = client.get("/login", headers={"cookie": f"desktop-app-session={token}"}, follow_redirects=False)
        assert r.status_code == 200 and "Sign in" in r.text


def test_plain_http_public_url_gets_plain_cookies(serving) -> None:  # type: ignore[no-untyped-def]
    server = serving("http://tools.example.com")
    with browser(server, origin="http://tools.example.com") as client:
        cookie = client.get("/login").headers["set-cookie"]
    assert cookie.startswith("desktop-app-csrf=") and "secure" not in cookie.lower()


def test_the_csrf_token_must_match_its_secure_cookie(serving) -> None:  # type: ignore[no-untyped-def]
    server = serving()
    with browser(server) as client:
        page = client.get("/login")
        token = csrf_from(page.text)
        for cookies in ("", f"desktop-app-csrf={token}", f"{CSRF}={'x' * 43}"):
            r = client.post("/login", headers={"cookie": cookies},
                            data={"username": "alice", "password": PASSWORD, "csrf": token, "next": "/gradio/"})
            assert r.status_code == 400 and "expired" in r.text, cookies
            assert SESSION not in r.headers.get("set-cookie", ""), cookies


def test_there_is_no_first_run_page_on_a_team_server(serving) -> None:  # type: ignore[no-untyped-def]
    server = serving(accounts=False)
    with browser(server) as client:
        r = client.get("/login", follow_redirects=False)
        assert r.status_code == 200 and "users add" in r.text and "<form" not in r.text
        page = client.get("/setup")
        assert page.status_code == 404 and "users add" in page.text and "<form" not in page.text
        r = client.post("/setup", headers={"cookie": cookie_header(page)},
                        data={"username": "mallory", "password": PASSWORD, "confirm": PASSWORD, "csrf": "x" * 43})
        assert r.status_code == 404 and SESSION not in r.headers.get("set-cookie", "")
    assert server.services.accounts.count() == 0


@pytest.mark.parametrize(("trusted", "sent", "logged"), [
    (None, "203.0.113.9", "127.0.0.1"), ("10.0.0.1", "203.0.113.9", "127.0.0.1"),
    ("127.0.0.1", "203.0.113.9", "203.0.113.9"),
    ("*", "1.1.1.1 from 2.2.2.2", "(not an address: '1.1.1.1 from 2.2.2.2')"),  # believed, but not an address
])
def test_forwarded_for_counts_only_from_the_proxies_named(serving, caplog, trusted: str | None,  # type: ignore[no-untyped-def]
                                                          sent: str, logged: str) -> None:
    server = serving(**({"forwarded_allow_ips": trusted} if trusted else {}))
    with caplog.at_level(logging.INFO, logger="desktop_app.web.views"), browser(server) as client:
        client.headers["x-forwarded-for"] = sent
        client.headers["x-forwarded-proto"] = "http"
        r, _ = signed_in(client)
        assert r.status_code == 303
        # X-Forwarded-Proto never changes the scheme: the public URL's is https, so the cookie stays Secure.
        assert "secure" in r.headers["set-cookie"].lower()
    lines = [rec.getMessage() for rec in caplog.records if "sign-in ok" in rec.getMessage()]
    assert lines == [f"sign-in ok: 'alice' from {logged}"], lines


def test_gradio_links_are_the_public_urls_whatever_the_request_says(serving) -> None:  # type: ignore[no-untyped-def]
    server = serving(with_ui=True, forwarded_allow_ips="127.0.0.1")
    with browser(server) as client:
        r, _ = signed_in(client)
        session = cookie_header(r)
        forged = {"cookie": session, "x-forwarded-host": "evil.example", "x-forwarded-proto": "http",
                  "forwarded": "host=evil.example;proto=http"}
        config = client.get("/gradio/config", headers=forged)
        assert config.status_code == 200 and config.json()["root"] == PUBLIC + "/gradio"


@pytest.mark.parametrize("blank", ["\xa0", "\x85", "\x1f"])
def test_a_cookie_tossed_in_under_a_look_alike_name_is_nobodys(serving, blank: str) -> None:  # type: ignore[no-untyped-def]
    """A sibling subdomain may set `\\xa0__Host-…-session` (to a browser that is no
    __Host- cookie, so Domain=example.com is allowed): it must not be read as
    ours, or it swaps the person into the account whose token it carries."""
    server = serving(with_ui=True)
    server.services.accounts.create("bob", PASSWORD)
    tokens = {}
    for name in ("alice", "bob"):
        with browser(server) as client:
            page = client.get("/login")
            r = client.post("/login", headers={"cookie": cookie_header(page)},
                            data={"username": name, "password": PASSWORD, "csrf": csrf_from(page.text)})
            tokens[name] = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    with browser(server) as client:
        header = f"{SESSION}={tokens['alice']}; {blank}{SESSION}={tokens['bob']}".encode("latin-1")
        r = client.get("/gradio/gradio_api/user", headers=[(b"cookie", header)])
        assert r.status_code == 200 and r.json() == "alice", r.text
