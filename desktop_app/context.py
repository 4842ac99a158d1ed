"""What a request knows about who is signed in, and the helper UI code uses.

The session gate puts a `RequestContext` into the ASGI scope's state; it travels
with the request into the mounted Gradio app (Starlette mounts share the scope),
and Gradio hands that request to callbacks as `gr.Request.request`. So a callback
reaches the user's persisted data through the request it was given, never
through a global.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop_app.sessions import Session, SessionStore

STATE_KEY = "desktop_app"


@dataclass(frozen=True)
class RequestContext:
    store: SessionStore
    token: str | None = None
    session: Session | None = None

    @property
    def username(self) -> str | None:
        return self.session.username if self.session else None


def context_of(request: Any) -> RequestContext | None:
    """From a Starlette request, a gr.Request, or an ASGI scope."""
    inner = getattr(request, "request", None)  # gr.Request wraps the Starlette request
    if inner is not None and hasattr(inner, "scope"):
        request = inner
    scope = request if isinstance(request, dict) else getattr(request, "scope", None)
    if not scope:
        return None
    return (scope.get("state") or {}).get(STATE_KEY)


def username_of(request: Any) -> str | None:
    ctx = context_of(request)
    return ctx.username if ctx else None


class UserData:
    """A signed-in user's persisted values: JSON in, JSON out, kept across
    logouts and restarts. Use it from a Gradio callback:

        def save(text, request: gr.Request):
            user_data(request).set("notes", text)
    """

    def __init__(self, store: SessionStore, username: str) -> None:
        self._store = store
        self.username = username

    def get(self, key: str, default: Any = None) -> Any:
        return self._store.get_user_value(self.username, key, default)

    def set(self, key: str, value: Any) -> None:
        self._store.set_user_value(self.username, key, value)


def user_data(request: Any) -> UserData:
    ctx = context_of(request)
    if ctx is None or ctx.username is None:
        # The gate refuses unauthenticated requests before any callback runs, so
        # reaching this is a programming error, not a user's.
        raise PermissionError("user_data() needs a request from a signed-in user")
    return UserData(ctx.store, ctx.username)
