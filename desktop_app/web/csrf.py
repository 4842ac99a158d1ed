"""The shell's forms' CSRF check: a random token in an HttpOnly, SameSite=Strict
cookie, and the same token in a hidden field of the form (double submit).

SameSite=Strict alone already keeps other sites' forms from carrying our
cookies; the token also covers a browser that ignores SameSite, and a page on
another local port (cookies ignore ports, so it is "same-site").
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from desktop_app.web.gate import cookie_name, cookie_value  # one naming, one reading of a Cookie header


def csrf_cookie(secure: bool = False) -> str:
    return cookie_name("csrf", secure)


class Csrf:
    """This request's token, and whether the response must set it."""

    def __init__(self, token: str, *, fresh: bool, secure: bool = False) -> None:
        self.token = token
        self.fresh = fresh
        self.secure = secure

    @classmethod
    def of(cls, request: Request, *, secure: bool = False) -> Csrf:
        """The browser's token if it has a plausible one, else a new one."""
        token = cookie_value(request.scope, csrf_cookie(secure))
        if token and 20 <= len(token) <= 100:
            return cls(token, fresh=False, secure=secure)
        return cls(secrets.token_urlsafe(32), fresh=True, secure=secure)

    @staticmethod
    def accepts(request: Request, submitted: object, *, secure: bool = False) -> bool:
        """Does the form's token match the cookie's (in constant time)?"""
        expected = cookie_value(request.scope, csrf_cookie(secure)) or ""
        return bool(expected) and isinstance(submitted, str) and hmac.compare_digest(
            expected.encode(), submitted.encode()
        )

    def set_on(self, response: Response) -> None:
        if self.fresh:
            response.set_cookie(csrf_cookie(self.secure), self.token, path="/", httponly=True, samesite="strict",
                                secure=self.secure)
