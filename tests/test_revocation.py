"""Revocation holds under races: changing a password or deleting an account ends
every session of that account, including a sign-in that was checked just before,
and a callback that passed the session gate just before cannot write afterwards.

The store tests interleave the steps by hand on the real store; a second
Database on the same file plays the `users` CLI (another process). The HTTP
tests do the same against the real server, the real CLI and real threads."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.context import STATE_KEY, Account, RequestContext, user_data
from desktop_app.errors import UserError
from desktop_app.store.accounts import Accounts, LoginStatus
from desktop_app.store.db import Database
from desktop_app.store.protocols import Session
from desktop_app.web.gate import session_cookie
from tests.support.helpers import PASSWORD, LiveServer, open_database, run_cli, sign_in, store_args
from tests.test_auth import FAST, make_accounts
from tests.test_web import call_event, event_outcome

# The races here need sign-ins as slow as the product's: its hash is the window they race in.
pytestmark = [pytest.mark.production_kdf, pytest.mark.both_stores]

NEW = "a brand new password"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "s.sqlite3"


@pytest.fixture
def app(path: Path) -> Iterator[Accounts]:
    """The running app's side of the store."""
    db = Database(path)
    yield make_accounts(db, FAST)
    db.close()


@pytest.fixture
def cli(path: Path, app: Accounts) -> Iterator[Accounts]:
    """The `users` CLI: its own connection to the same file, as another process has."""
    db = Database(path)
    yield make_accounts(db, FAST)
    db.close()


def scope_for(accounts: Accounts, token: str, session: Session) -> dict:
    """The ASGI scope as the session gate leaves it for a callback."""
    ctx = RequestContext(store=accounts.sessions, token=token, session=session, accounts=accounts)
    return {"type": "http", "state": {STATE_KEY: ctx}}


def transactions_during(accounts: Accounts, action) -> int:  # type: ignore[no-untyped-def]
    """How many write transactions `action` ran (every write is one BEGIN IMMEDIATE)."""
    statements: list[str] = []
    with accounts.db.read() as conn:
        conn.set_trace_callback(statements.append)
    try:
        action()
    finally:
        with accounts.db.read() as conn:
            conn.set_trace_callback(None)
    return sum(s.startswith("BEGIN") for s in statements)


# -- the store, step by step ---------------------------------------------------
def test_a_sign_in_checked_before_a_password_change_gets_no_session(app: Accounts, cli: Accounts) -> None:
    app.create("alice", PASSWORD)
    result = app.authenticate("alice", PASSWORD)
    assert result.status is LoginStatus.OK
    assert result.credential not in repr(result)  # never in a log line
    cli.set_password("alice", NEW)  # lands between the check and the session
    with pytest.raises(UserError, match="^Wrong username or password.$"):
        app.sessions.create(result.username, credential=result.credential)
    assert app.sessions.list_user("alice") == []
    fresh = app.authenticate("alice", NEW)
    token, _ = app.sessions.create(fresh.username, credential=fresh.credential)
    assert app.sessions.get(token) is not None


def test_a_sign_in_checked_before_the_account_is_deleted_gets_no_session(app: Accounts, cli: Accounts) -> None:
    app.create("alice", PASSWORD)
    result = app.authenticate("alice", PASSWORD)
    cli.delete("alice")
    with pytest.raises(UserError, match="^Wrong username or password.$"):
        app.sessions.create(result.username, credential=result.credential)
    cli.create("alice", PASSWORD)  # a new account of the same name: the old check is worth nothing
    with pytest.raises(UserError, match="^Wrong username or password.$"):
        app.sessions.create(result.username, credential=result.credential)


def test_a_session_is_valid_only_while_its_account_exists(app: Accounts, cli: Accounts) -> None:
    app.create("alice", PASSWORD)
    token, _ = app.sessions.create("alice")
    assert app.sessions.get(token) is not None
    # A session row whose account is gone (a tool wrote it, or an older version
    # crashed between deleting the account and deleting its sessions) lets nobody in.
    with cli.db.write() as conn:
        conn.execute("DELETE FROM users WHERE username = 'alice'")
    assert app.sessions.get(token) is None
    assert app.sessions.list_user("alice") == []
    cli.create("alice", PASSWORD)  # nor does it come back with a new account of that name,
    assert app.sessions.get(token) is None
    ghost, _ = app.sessions.create("nobody")  # and a session for a name with no account is never valid
    assert app.sessions.get(ghost) is None


def test_a_sign_in_that_upgraded_the_hash_keeps_its_session(app: Accounts, cli: Accounts) -> None:
    app.create("alice", PASSWORD)  # FAST parameters
    stronger = make_accounts(app.db)  # today's parameters: the login rehashes the password
    result = stronger.authenticate("alice", PASSWORD)
    token, _ = stronger.sessions.create(result.username, credential=result.credential)
    assert stronger.sessions.get(token) is not None
    again = stronger.authenticate("alice", PASSWORD)  # no rehash this time
    cli.set_password("alice", NEW)  # FAST parameters again
    with pytest.raises(UserError, match="^Wrong username or password.$"):
        stronger.sessions.create(again.username, credential=again.credential)
    assert stronger.sessions.get(token) is None


def test_password_change_and_delete_are_each_one_transaction(app: Accounts, cli: Accounts) -> None:
    cli.create("alice", PASSWORD)
    cli.sessions.create("alice")
    # One transaction: no moment (and no crash) in which the new password is in
    # place but the old sessions still work, or the account is gone but its data not.
    assert transactions_during(cli, lambda: cli.set_password("alice", NEW)) == 1
    keep, _ = cli.sessions.create("alice")
    cli.sessions.create("alice")
    assert transactions_during(cli, lambda: cli.set_password("alice", PASSWORD, keep_token=keep)) == 1
    assert cli.sessions.get(keep) is not None and len(cli.sessions.list_user("alice")) == 1
    cli.sessions.set_user_value("alice", "notes", "x")
    assert transactions_during(cli, lambda: cli.delete("alice")) == 1
    with cli.db.read() as conn:
        left = [conn.execute(f"SELECT COUNT(*) FROM {t} WHERE username = 'alice'").fetchone()[0]
                for t in ("users", "sessions", "user_data")]
    assert left == [0, 0, 0]


def test_a_callback_that_passed_the_gate_cannot_write_after_the_account_is_deleted(
        app: Accounts, cli: Accounts) -> None:
    app.create("alice", PASSWORD)
    token, session = app.sessions.create("alice")
    data = user_data(scope_for(app, token, session))  # what a callback gets from its request
    data.set("notes", "before")
    cli.delete("alice")  # while the callback runs
    with pytest.raises(UserError, match="^Your session has ended; sign in again.$"):
        data.set("notes", "after")
    cli.create("alice", PASSWORD)
    assert app.sessions.get_user_value("alice", "notes") is None  # the new alice inherits nothing


def test_a_callback_cannot_write_through_a_session_that_was_ended(app: Accounts) -> None:
    app.create("alice", PASSWORD)
    token, session = app.sessions.create("alice")
    data = user_data(scope_for(app, token, session))
    data.set("notes", "kept")
    app.sessions.delete(token)  # logged out in another tab, or ended from the Account tab
    with pytest.raises(UserError, match="^Your session has ended; sign in again.$"):
        data.set("notes", "lost")
    assert app.sessions.get_user_value("alice", "notes") == "kept"


def test_the_account_tab_keeps_its_own_session_only_while_it_lives(app: Accounts, cli: Accounts) -> None:
    app.create("alice", PASSWORD)
    here, here_session = app.sessions.create("alice")
    there, _ = app.sessions.create("alice")
    me = Account(context_of_scope(scope_for(app, here, here_session)))
    assert me.change_password(PASSWORD, NEW) == 1
    assert app.sessions.get(here) is not None and app.sessions.get(there) is None
    # The CLI resets the password, which ends this session too; a change still
    # in flight from it must not override the CLI's.
    cli.set_password("alice", "the administrator's choice")
    with pytest.raises(UserError, match="^Your session has ended; sign in again.$"):
        me.change_password("the administrator's choice", "my own again")
    assert app.authenticate("alice", "the administrator's choice").status is LoginStatus.OK
    assert app.sessions.get(here) is None


def context_of_scope(scope: dict) -> RequestContext:
    return scope["state"][STATE_KEY]


# -- over HTTP, against the real server ---------------------------------------
PAUSE = {"started": threading.Event(), "resume": threading.Event()}


def build_paused_ui():  # type: ignore[no-untyped-def]
    """A UI whose save waits, after the gate let it in, until the test says go."""
    import gradio as gr

    def paused_save(text: str, request: gr.Request) -> str:
        PAUSE["started"].set()
        PAUSE["resume"].wait(30)
        user_data(request).set("notes", {"text": text})
        return "Saved."

    # Gradio finds the request parameter by its annotation, which this module's
    # `from __future__ import annotations` leaves as a string it cannot resolve
    # (gradio is imported here, not at module level, to keep collection fast).
    paused_save.__annotations__["request"] = gr.Request

    with gr.Blocks() as blocks:
        box = gr.Textbox()
        out = gr.Markdown()
        gr.Button("Save").click(paused_save, inputs=box, outputs=out, api_name="paused_save")
    return blocks


def test_deleting_a_signed_in_account_through_the_cli_ends_it(live_with_user: LiveServer) -> None:
    live = live_with_user
    with live.client() as alice:
        assert sign_in(alice, "alice").status_code == 303
        assert call_event(alice, "save_notes", ["before"])[0].startswith("Saved")
        r = run_cli("users", "delete", "alice", *store_args(live.settings))
        assert r.returncode == 0, r.stderr
        assert alice.get("/gradio/config").status_code == 401
        r = alice.post("/gradio/gradio_api/call/save_notes", json={"data": ["after"]})
        assert r.status_code == 401
    assert live.services.sessions.get_user_value("alice", "notes") is None


def test_a_callback_running_when_the_account_is_deleted_does_not_write(live_with) -> None:  # type: ignore[no-untyped-def]
    # The loader imports this module by name; the events must be that module's.
    pause = importlib.import_module("tests.test_revocation").PAUSE
    pause["started"].clear()
    pause["resume"].clear()
    live = live_with(ui="tests.test_revocation:build_paused_ui")
    outcome: list[tuple[str, str]] = []
    with live.client() as alice:
        assert sign_in(alice, "alice").status_code == 303
        assert alice.get("/gradio/").status_code == 200
        saver = threading.Thread(target=lambda: outcome.append(event_outcome(alice, "paused_save", ["late"])))
        saver.start()
        try:
            assert pause["started"].wait(30), "the callback never started"
            r = run_cli("users", "delete", "alice", *store_args(live.settings))
            assert r.returncode == 0, r.stderr
        finally:
            pause["resume"].set()
            saver.join(60)
    assert outcome and outcome[0][0] == "error", outcome
    assert "Your session has ended; sign in again." in outcome[0][1]
    assert live.services.sessions.get_user_value("alice", "notes") is None
    live.services.accounts.create("alice", PASSWORD)
    assert live.services.sessions.get_user_value("alice", "notes") is None


def test_a_sign_in_racing_a_password_change_never_outlives_it(live_with) -> None:  # type: ignore[no-untyped-def]
    """Each round: a sign-in with the current password while another process sets a
    new one, started at a different moment of the sign-in each time. Whichever
    wins, no session made with the old password may still work afterwards."""
    live = live_with(with_ui=False)
    cli_db = open_database(live.settings)
    cli = make_accounts(cli_db, FAST)  # fast, so its change lands anywhere in the sign-in
    try:
        with live.client() as warm:
            t0 = time.perf_counter()
            assert sign_in(warm, "alice").status_code == 303
            took = time.perf_counter() - t0
        password, rounds, kept = PASSWORD, 8, []
        for i in range(rounds):
            new = f"password number {i}"
            statuses: list[int] = []
            with live.client() as client:
                def attempt(client=client, password=password, statuses=statuses) -> None:  # type: ignore[no-untyped-def]
                    statuses.append(sign_in(client, "alice", password).status_code)

                signer = threading.Thread(target=attempt)
                signer.start()
                time.sleep(took * i / rounds)
                cli.set_password("alice", new)
                signer.join(60)
                assert statuses and statuses[0] in (303, 401), statuses
                if statuses[0] == 303:
                    still = client.get("/", headers={"accept": "application/json"}).status_code
                    kept.append((i, still))
                    assert session_cookie() in client.cookies
            password = new
            with live.client() as check:  # the new password works (and resets the failure count)
                assert sign_in(check, "alice", password).status_code == 303
        print(f"{rounds} sign-ins racing a password change: {len(kept)} got a session before it, "
              f"{rounds - len(kept)} were answered 401")
        survivors = [(i, status) for i, status in kept if status != 401]
        assert survivors == [], f"sessions made with the old password still work after the change: {survivors}"
    finally:
        cli_db.close()
