"""Two instances of the app on one PostgreSQL store (a team server's first
half, #16): signed in on one, signed in on both; notes saved on one are on the
other; a password change through the CLI ends the sessions on both; failed
sign-ins count across instances; the CLI's store commands say what they do."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from desktop_app.web.gate import session_cookie
from tests.support.helpers import PASSWORD, LiveServer, assert_one_line_error, launched_client, make_settings, run_cli, sign_in
from tests.test_web import call_event


@pytest.fixture
def instances(pg_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    r = run_cli("users", "add", "alice", "--password-stdin", "--store", pg_url, input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    first = LiveServer(make_settings(tmp_path / "one", store=pg_url))
    # Two Gradio builds at once in one process trip a warning inside pydantic;
    # instances are processes of their own, so here they build one after the other.
    assert first.loader is not None and first.loader.wait(120)
    second = LiveServer(make_settings(tmp_path / "two", store=pg_url))
    yield first, second
    first.close()
    second.close()


def carried(client: httpx.Client, to: LiveServer) -> httpx.Client:
    """A client of `to` holding `client`'s session cookie: the next request of a
    person whose proxy sent them to the other instance."""
    other = to.client()
    other.cookies.set(session_cookie(), client.cookies[session_cookie()])
    return other


def test_a_session_and_its_data_are_on_every_instance(instances: tuple[LiveServer, LiveServer]) -> None:
    first, second = instances
    with first.client() as one:
        assert sign_in(one, "alice").status_code == 303
        assert call_event(one, "save_notes", ["written on the first"])[0].startswith("Saved")
        with carried(one, second) as two:
            assert two.get("/gradio/", follow_redirects=False).status_code == 200  # no sign-in asked
            assert call_event(two, "load_notes", [])[0]["value"] == "written on the first"
        # A password change on one (here through the CLI) ends the session everywhere.
        r = run_cli("users", "set-password", "alice", "--password-stdin", "--store", first.settings.store_url or "",
                    input="a brand new password\n")
        assert r.returncode == 0 and "1 session(s) ended" in r.stdout, r.stderr
        for server in (first, second):
            with carried(one, server) as client:
                assert client.get("/gradio/", follow_redirects=False).status_code in (302, 303, 401)  # not let in


def test_failed_sign_ins_count_across_instances(instances: tuple[LiveServer, LiveServer], long_first_lock: int) -> None:
    first, second = instances
    for i in range(5):  # the policy's 5, alternating between the instances
        with (first if i % 2 else second).client() as client:
            assert sign_in(client, "alice", "wrong password").status_code == 401
    for server in (first, second):
        with server.client() as client:
            r = sign_in(client, "alice")  # the right password, but the name is locked now
            assert r.status_code in (401, 429) and "try again" in r.text.lower(), r.text


def test_store_commands_on_postgresql(pg_url: str, postgres) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("store", "init", "--store", pg_url)
    assert r.returncode == 0 and "up to date" in r.stdout, r.stderr
    fresh = postgres.new_database()
    assert_one_line_error(run_cli("users", "list", "--store", fresh), "store init")
    r = run_cli("store", "init", "--store", fresh)
    assert r.returncode == 0 and "Created the store" in r.stdout, r.stderr
    assert run_cli("users", "list", "--store", fresh).returncode == 0
    assert_one_line_error(run_cli("store", "backup", "--store", fresh), "pg_dump")
    assert_one_line_error(run_cli("store", "init"), "--store postgresql://")
    assert_one_line_error(run_cli("users", "list", "--store", "sqlite:///x"), "PostgreSQL URL")
    nowhere = "postgresql://someone:hunter2@127.0.0.1:1/none"
    r = run_cli("users", "list", "--store", nowhere)
    assert_one_line_error(r, "Cannot reach the database", "someone:***@")
    assert "hunter2" not in r.stderr


def test_the_database_lost_while_running_is_one_sentence_and_then_comes_back(
    instances: tuple[LiveServer, LiveServer], postgres  # type: ignore[no-untyped-def]
) -> None:
    first, _ = instances
    with first.client() as client:
        assert sign_in(client, "alice").status_code == 303
        assert client.get("/readyz").json() == {"ready": True}
        postgres.stop()
        try:
            for path, accept in (("/gradio/", "text/html"), ("/gradio/config", "application/json")):
                r = client.get(path, headers={"accept": accept})
                assert r.status_code == 503, (path, r.status_code, r.text)
                assert "cannot be reached" in r.text and "Traceback" not in r.text and "psycopg" not in r.text
            with first.client() as proxy:  # its health check sends people elsewhere meanwhile
                r = proxy.get("/readyz")
                assert r.status_code == 503 and r.json() == {"ready": False}
            # The health checks look up no session, whatever cookies they are sent.
            assert client.get("/healthz").status_code == 200  # the process answers
            r = client.get("/readyz")
            assert r.status_code == 503 and r.json() == {"ready": False}
            with first.client() as other:  # and nobody signs in meanwhile
                r = other.get("/login")
                assert r.status_code == 503 and "cannot be reached" in r.text and session_cookie() not in other.cookies
        finally:
            postgres.start()
        deadline = time.monotonic() + 30  # the pool reconnects in the background, with back-off
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the app did not recover after the database came back"
            time.sleep(0.5)
        assert client.get("/gradio/", follow_redirects=False).status_code == 200  # the same app, recovered
        assert call_event(client, "save_notes", ["after the outage"])[0].startswith("Saved")


def test_revocation_holds_whatever_isolation_the_database_defaults_to(pg_url: str) -> None:
    """A sign-in checked against the old password, whose session is written just
    after another instance changed it: refused. Under REPEATABLE READ the write's
    snapshot was taken before it waited for the lock, and the session was made."""
    import threading

    import psycopg

    from desktop_app.store.accounts import Accounts
    from desktop_app.store.pg import WRITE_LOCK, PgDatabase
    from desktop_app.store.sessions import SqlSessionStore
    from tests.support.helpers import TEST_HASHER

    with psycopg.connect(pg_url, autocommit=True) as conn:
        name = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
        conn.execute(f"ALTER DATABASE {name} SET default_transaction_isolation = 'repeatable read'")
    dbs = [PgDatabase(pg_url), PgDatabase(pg_url)]  # two instances
    try:
        one, two = (Accounts(db, SqlSessionStore(db, idle_seconds=3600, max_seconds=86400), hasher=TEST_HASHER)
                    for db in dbs)
        one.create("bob", "the old password")
        checked = one.authenticate("bob", "the old password")
        holder = psycopg.connect(pg_url)  # any writer, holding the lock a moment: both queue behind it
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        watcher = psycopg.connect(pg_url, autocommit=True)

        def queued(n: int) -> None:  # until n writers wait for the lock: the order is the test's, not the scheduler's
            deadline = time.monotonic() + 10
            while watcher.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                                  ).fetchone()[0] < n:  # type: ignore[index]
                assert time.monotonic() < deadline, f"{n} writer(s) never queued for the lock"
                time.sleep(0.02)

        change = threading.Thread(target=two.set_password, args=("bob", "the new password"))
        change.start()
        queued(1)
        made: list[object] = []
        session = threading.Thread(target=lambda: made.append(one.start_session(checked)))
        session.start()
        queued(2)
        watcher.close()
        holder.rollback()
        holder.close()
        change.join(10)
        session.join(10)
        assert made == [None], "a session was made with a password changed before it was written"
    finally:
        for db in dbs:
            db.close()


def test_a_password_in_the_url_is_never_shown(postgres) -> None:  # type: ignore[no-untyped-def]
    for url in (f"postgresql://postgres:hunter2@/nowhere?host={postgres.root}",
                f"postgresql:///nowhere?host={postgres.root}&password=hunter2",
                "postgresql://u:hunt er2@127.0.0.1:1/db", "postgresql://u:hunter2%zz@127.0.0.1:1/db",
                "postgresql://u:hunter2@[::1/x", "mysql://u:hunter2@h/db"):
        r = run_cli("users", "list", "--store", url)
        assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1, (url, r.stderr)
        assert "hunt" not in r.stderr and "Traceback" not in r.stderr, (url, r.stderr)


def test_a_nul_in_a_name_is_a_wrong_password_not_an_outage(instances: tuple[LiveServer, LiveServer]) -> None:
    first, _ = instances
    with first.client() as client:
        r = sign_in(client, "al\x00ice", PASSWORD)
        assert r.status_code == 401 and "Wrong username or password." in r.text


def test_store_copy_moves_a_desktop_onto_the_server_once(pg_url: str, tmp_path: Path) -> None:
    from desktop_app.store import open_store

    desktop = tmp_path / "desktop"
    for name, password in (("alice", PASSWORD), ("bob", "bob's desktop password")):
        r = run_cli("users", "add", name, "--password-stdin", "--data-dir", str(desktop), input=password + "\n")
        assert r.returncode == 0, r.stderr
    local = open_store(make_settings(desktop))
    local.sessions.set_user_value("alice", "notes", {"text": "from the desktop"})
    local.sessions.set_user_value("bob", "notes", {"text": "bob's desktop notes"})
    local.sessions.create("alice", {"kept": True})  # a session: never copied
    local.close()
    # The server already has a bob: another person, perhaps. Never overwritten, nothing merged.
    r = run_cli("users", "add", "bob", "--password-stdin", "--store", pg_url, input="bob's server password\n")
    assert r.returncode == 0, r.stderr

    r = run_cli("store", "copy", "--from", str(desktop), "--to", pg_url)
    assert r.returncode == 0, r.stderr
    assert "Copied 1 account(s) and 1 saved value(s)" in r.stdout and "skipped 1" in r.stdout and "bob" in r.stdout
    again = run_cli("store", "copy", "--from", str(desktop / "desktop-app.sqlite3"), "--to", pg_url)
    assert again.returncode == 0 and "Copied 0 account(s)" in again.stdout, again.stderr  # safe to run twice

    server = LiveServer(make_settings(tmp_path / "server", store=pg_url))
    try:
        with server.client() as client:
            assert sign_in(client, "alice").status_code == 303  # with the password she had
            assert call_event(client, "load_notes", [])[0]["value"] == "from the desktop"
        with server.client() as client:
            assert sign_in(client, "bob", "bob's desktop password").status_code == 401
            assert sign_in(client, "bob", "bob's server password").status_code == 303
            assert call_event(client, "load_notes", [])[0]["value"] == ""  # the desktop bob's notes stayed home
        with server.services.db.read() as conn:
            assert conn.execute("SELECT count(*) FROM sessions WHERE username = 'alice'").fetchone()[0] == 1  # ours
    finally:
        server.close()
    assert_one_line_error(run_cli("store", "copy", "--from", str(tmp_path / "nothing"), "--to", pg_url), "no data store")
    assert_one_line_error(run_cli("store", "copy", "--from", str(desktop)), "--to postgresql://")


def test_a_team_server_makes_no_sqlite_backup(pg_url: str, tmp_path: Path) -> None:
    from tests.support.helpers import AppProcess

    data = tmp_path / "data"
    app = AppProcess(data, "--store", pg_url)
    try:
        with launched_client(app.wait_ready()) as client:
            assert client.get("/readyz").status_code in (200, 503)
        deadline = time.monotonic() + 60
        # The sweep of temp files runs once the UI is built, right before the daily backup.
        while "temporary file(s) removed" not in (data / "logs" / "desktop-app.log").read_text():
            assert time.monotonic() < deadline, app.log_tail()
            time.sleep(0.2)
        time.sleep(1)
    finally:
        assert app.stop() == 0
    log = (data / "logs" / "desktop-app.log").read_text()
    assert "could not back up" not in log and not (data / "backups").exists(), log
