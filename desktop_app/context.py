"""What a request knows about who is signed in, and the helper UI code uses.

The session gate puts a `RequestContext` into the ASGI scope's state; it travels
with the request into the mounted Gradio app (Starlette mounts share the scope),
and Gradio hands that request to callbacks as `gr.Request.request`. So a callback
reaches the user's persisted data through the request it was given, never
through a global.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop_app.errors import UserError
from desktop_app.store.protocols import Session, SessionStore

if TYPE_CHECKING:
    from desktop_app.store.accounts import Accounts

STATE_KEY = "desktop_app"


@dataclass(frozen=True)
class RequestContext:
    store: SessionStore
    token: str | None = None
    session: Session | None = None
    accounts: Accounts | None = None

    @property
    def username(self) -> str | None:
        return self.session.username if self.session else None


def _is_gradio_request(request: Any) -> bool:
    inner = getattr(request, "request", None)  # gr.Request wraps the Starlette request
    return inner is not None and hasattr(inner, "scope")


def context_of(request: Any) -> RequestContext | None:
    """From a Starlette request, a gr.Request, or an ASGI scope."""
    if _is_gradio_request(request):
        request = request.request
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

    Writes are bound to the session the request came with: a callback that was
    let in just before that session ended (logout, password change, the account
    deleted) writes nothing and raises "Your session has ended; sign in again."
    """

    def __init__(self, store: SessionStore, username: str, token: str | None = None,
                 *, in_gradio: bool = False) -> None:
        self._store = store
        self.username = username
        self._token = token  # None: writes not bound to a session (a tool's own use)
        self._in_gradio = in_gradio

    def get(self, key: str, default: Any = None) -> Any:
        return self._store.get_user_value(self.username, key, default)

    def set(self, key: str, value: Any) -> None:
        try:
            self._store.set_user_value(self.username, key, value, token=self._token)
        except UserError as exc:  # the session ended, the disk is full: one sentence
            if not self._in_gradio:
                raise
            # As gr.Error, the only kind whose message Gradio shows (its show_error
            # is off, so other exceptions' text stays in the log). Imported here,
            # where a gr.Request proves Gradio is loaded: the login path must not load it.
            import gradio as gr

            # A StoreError's page-safe sentence, without the store's path, if it has one.
            raise gr.Error(getattr(exc, "public", None) or exc.message, print_exception=False) from exc


def user_data(request: Any) -> UserData:
    ctx = context_of(request)
    if ctx is None or ctx.username is None:
        # The gate refuses unauthenticated requests before any callback runs, so
        # reaching this is a programming error, not a user's.
        raise PermissionError("user_data() needs a request from a signed-in user")
    return UserData(ctx.store, ctx.username, ctx.token, in_gradio=_is_gradio_request(request))


class Account:
    """The signed-in user's own account: change the password, see and end sessions."""

    def __init__(self, ctx: RequestContext) -> None:
        assert ctx.accounts is not None and ctx.username is not None and ctx.token is not None
        self._ctx = ctx
        self.username = ctx.username

    @property
    def current_session_id(self) -> str:
        return self._ctx.session.id_hash  # type: ignore[union-attr]

    def change_password(self, current: str, new: str) -> int:
        """Check the current password, set the new one, end every other session
        (one transaction, which keeps this one only if it still exists). Returns
        how many sessions ended. Raises UserError with a message for the page."""
        from desktop_app.store.accounts import LoginStatus

        accounts = self._ctx.accounts
        result = accounts.authenticate(self.username, current)  # type: ignore[union-attr]
        if result.status is LoginStatus.THROTTLED:
            raise UserError(f"Too many failed attempts. Try again in {result.retry_after} seconds.")
        if result.status is not LoginStatus.OK:
            raise UserError("The current password is not right.")
        return accounts.set_password(self.username, new, keep_token=self._ctx.token)  # type: ignore[union-attr]

    def sessions(self) -> list[Session]:
        return self._ctx.store.list_user(self.username)

    def end_session(self, id_hash: str) -> bool:
        return self._ctx.store.delete_by_hash(id_hash, self.username)


def account(request: Any) -> Account:
    ctx = context_of(request)
    if ctx is None or ctx.username is None or ctx.accounts is None:
        raise PermissionError("account() needs a request from a signed-in user")
    return Account(ctx)
