"""The CSRF object on its own: what it accepts, when it sets a cookie."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from desktop_app.web.csrf import Csrf, csrf_cookie


def request_with(cookie: str | None) -> Request:
    headers = [(b"cookie", f"{csrf_cookie()}={cookie}".encode())] if cookie is not None else []
    return Request({"type": "http", "method": "POST", "path": "/login", "headers": headers})


def test_a_browser_without_a_token_gets_a_new_one_set_on_the_response() -> None:
    csrf = Csrf.of(request_with(None))
    assert csrf.fresh and len(csrf.token) >= 40
    response = Response()
    csrf.set_on(response)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{csrf_cookie()}={csrf.token};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie


def test_a_plausible_token_is_kept_and_not_set_again() -> None:
    token = "t" * 43
    csrf = Csrf.of(request_with(token))
    assert (csrf.token, csrf.fresh) == (token, False)
    response = Response()
    csrf.set_on(response)
    assert "set-cookie" not in response.headers


def test_a_token_too_short_or_too_long_is_replaced() -> None:
    for bad in ("short", "x" * 101):
        csrf = Csrf.of(request_with(bad))
        assert csrf.fresh and csrf.token != bad


def test_only_the_cookies_own_token_is_accepted() -> None:
    token = "s" * 43
    request = request_with(token)
    assert Csrf.accepts(request, token)
    assert not Csrf.accepts(request, token[:-1] + "x")
    assert not Csrf.accepts(request, None)  # a form without the field
    assert not Csrf.accepts(request, ["list"])  # a repeated field is not a string
    assert not Csrf.accepts(request_with(None), "")  # no cookie: nothing matches, not even empty
    assert not Csrf.accepts(request_with(""), "")
