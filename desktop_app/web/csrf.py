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

from desktop_app.identity import current


def csrf_cookie() -> str:
    return f"{current().slug}-csrf"  # per app: cookies ignore ports, and two apps may run at once


class Csrf:
    """This request's token, and whether the response must set it."""

    def __init__(self, token: str, *, fresh: bool) -> None:
        self.token = token
        self.fresh = fresh

    @classmethod
    def of(cls, request: Request) -> Csrf:
        """The browser's token if it has a plausible one, else a new one."""
        token = request.cookies.get(csrf_cookie())
        if token and 20 <= len(token) <= 100:
            return cls(token, fresh=False)
        return cls(secrets.token_urlsafe(32), fresh=True)

    @staticmethod
    def accepts(request: Request, submitted: object) -> bool:
        """Does the form's token match the cookie's (in constant time)?"""
        expected = request.cookies.get(csrf_cookie()) or ""
        return bool(expected) and isinstance(submitted, str) and hmac.compare_digest(
            expected.encode(), submitted.encode()
        )

    def set_on(self, response: Response) -> None:
        if self.fresh:
            response.set_cookie(csrf_cookie(), self.token, path="/", httponly=True, samesite="strict")
