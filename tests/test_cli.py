"""The command line as a user runs it: child processes, real signals, real exit
codes, and one clear line (never a traceback) when something is wrong."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sqlite3
import stat
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from tests.support.helpers import APP_COMMAND, PASSWORD, AppProcess, app_env, assert_one_line_error, launched_client, run_cli, sign_in


def test_users_commands(data_dir: Path) -> None:
    d = ["--data-dir", str(data_dir)]
    r = run_cli("users", "add", "Alice", "--password-stdin", *d, input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert "alice" in r.stdout
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert_one_line_error(run_cli("users", "add", "alice", "--password-stdin", *d, input=PASSWORD + "\n"),
                          "already exists")
    assert_one_line_error(run_cli("users", "add", "bob", "--password-stdin", *d, input="short\n"), "too short")
    assert_one_line_error(run_cli("users", "add", "bad name", "--password-stdin", *d, input=PASSWORD + "\n"),
                          "'bad name'")
    # --data-dir works before the subcommand too.
    r = run_cli("--data-dir", str(data_dir), "users", "list")
    assert r.returncode == 0 and r.stdout.split("\t")[0] == "alice"
    r = run_cli("users", "set-password", "alice", "--password-stdin", *d, input="a brand new password\n")
    assert r.returncode == 0 and "0 session(s) ended" in r.stdout
    assert_one_line_error(run_cli("users", "set-password", "carol", "--password-stdin", *d, input=PASSWORD + "\n"),
                          "No account named 'carol'")
    assert run_cli("users", "delete", "alice", *d).returncode == 0
    assert run_cli("users", "list", *d).stdout == ""
    assert_one_line_error(run_cli("users", "delete", "alice", *d), "No account")


def test_headless_serves_and_stops_cleanly_on_sigterm_and_sigint(data_dir: Path) -> None:
    run_cli("users", "add", "alice", "--password-stdin", "--data-dir", str(data_dir), input=PASSWORD + "\n")
    for sig in (signal.SIGTERM, signal.SIGINT):
        app = AppProcess(data_dir)
        try:
            launch = app.wait_ready()
            assert launch.startswith("http://127.0.0.1:") and "/_launch?token=" in launch
            assert httpx.get(app.url + "/login").status_code == 403  # not without this launch's token
            with launched_client(launch) as client:
                assert client.get("/login").status_code == 200
                assert sign_in(client, "alice").status_code == 303
                assert client.get("/gradio/").status_code == 200
            assert app.stop(sig) == 0, app.stderr()
            assert "Traceback" not in app.stderr()
        finally:
            app.kill()  # a failed assertion must not leave a server running


def test_busy_port_is_one_clear_line(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = run_cli("--headless", "--data-dir", str(data_dir), "--port", str(port))
    assert_one_line_error(r, f"Port {port}", "--port")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--port", "70000"], "--port must be a port number"),
        (["--ui", "nosuchmodule_xyz:build"], "cannot import module 'nosuchmodule_xyz'"),
        (["--ui", "desktop_app.ui.demo:nothing"], "has no function 'nothing'"),
        (["--ui", "os:getcwd"], "returned str, not a gradio.Blocks"),
        (["--ui", "json:dumps"], "failed: TypeError"),
        (["--session-idle", "soon"], "--session-idle must be a positive duration"),
    ],
)
def test_bad_options_are_one_clear_line(data_dir: Path, args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("--headless", "--data-dir", str(data_dir), *args), fragment)


def test_unreadable_store_is_reported_and_kept(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    store = data_dir / "desktop-app.sqlite3"
    store.write_bytes(b"not a database at all" * 100)
    before = store.read_bytes()
    for args in (["--headless"], ["users", "list"]):
        r = run_cli(*args, "--data-dir", str(data_dir))
        assert_one_line_error(r, str(store), "untouched")
    assert store.read_bytes() == before
    # Nothing was created beside it that could shadow or replace it (logs and the instance lock are fine).
    assert sorted(p.name for p in data_dir.iterdir() if p.name not in ("logs", "instance.lock")) == [
        "desktop-app.sqlite3"
    ]


def test_store_set_aside_moves_only_a_damaged_store(data_dir: Path) -> None:
    d = ["--data-dir", str(data_dir)]
    assert_one_line_error(run_cli("store", "set-aside", *d), "no data store")
    data_dir.mkdir(parents=True)
    store = data_dir / "desktop-app.sqlite3"
    junk = b"half a database" * 300
    store.write_bytes(junk)
    (data_dir / "desktop-app.sqlite3-wal").write_bytes(b"its journal")
    # The refusal names the way out.
    assert_one_line_error(run_cli("--headless", *d), "store set-aside --data-dir")
    r = run_cli("store", "set-aside", *d)
    assert r.returncode == 0, r.stderr
    (kept,) = data_dir.glob("desktop-app.sqlite3.damaged-*[0-9]")
    assert kept.read_bytes() == junk and str(kept) in r.stdout
    assert (data_dir / f"{kept.name}-wal").read_bytes() == b"its journal"  # moved together, not deleted
    assert not store.exists()
    # A fresh start: first run again, and a healthy store is never moved.
    assert run_cli("users", "add", "alice", "--password-stdin", *d, input=PASSWORD + "\n").returncode == 0
    assert_one_line_error(run_cli("store", "set-aside", *d), "opens fine")
    assert run_cli("users", "list", *d).stdout.startswith("alice\t")


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_one_line_error(run_cli("users", "list", "--data-dir", str(blocker / "sub")), "--data-dir")


def test_environment_sets_the_data_dir(data_dir: Path) -> None:
    r = run_cli("users", "add", "zoe", "--password-stdin", input=PASSWORD + "\n",
                env={"DESKTOP_APP_DATA_DIR": str(data_dir)})
    assert r.returncode == 0, r.stderr
    assert (data_dir / "desktop-app.sqlite3").exists()


def test_a_dying_server_thread_is_said_not_hung(data_dir: Path) -> None:
    # tests/apps/server_killer_ui.py raises an exception inside the server thread 1 s after the UI is built.
    app = AppProcess(data_dir, "--ui", "tests.apps.server_killer_ui:build")
    try:
        app.wait_ready()
        code = app.proc.wait(30)  # not a hang
        err = app.stderr()
        assert code == 1 and "Traceback" not in err, err
        assert "The local server stopped unexpectedly (InjectedFault)" in err.splitlines()[-1], err
        log = (data_dir / "logs" / "desktop-app.log").read_text()
        assert "the server thread ended with InjectedFault" in log and "Traceback" in log  # the details, for whoever helps
    finally:
        app.kill()


def test_no_secret_reaches_the_log(data_dir: Path) -> None:
    """Not the launch token, a session id, a CSRF token or a password, even with --debug."""
    from urllib.parse import parse_qs, urlsplit

    run_cli("users", "add", "alice", "--password-stdin", "--data-dir", str(data_dir), input=PASSWORD + "\n")
    app = AppProcess(data_dir, "--debug")
    try:
        launch = app.wait_ready()
        with launched_client(launch) as client:
            assert sign_in(client, "alice", "a wrong password").status_code == 401
            assert sign_in(client, "alice").status_code == 303
            assert client.get("/gradio/").status_code == 200
            secrets = [parse_qs(urlsplit(launch).query)["token"][0], client.cookies["desktop-app-session"],
                       client.cookies["desktop-app-csrf"], PASSWORD, "a wrong password"]
        assert app.stop() == 0
        written = (data_dir / "logs" / "desktop-app.log").read_text() + app.stderr()
        assert "sign" in written.lower() or "serving" in written  # the log is not empty: the check means something
        for secret in secrets:
            assert secret not in written, f"a secret reached the log: {secret[:6]}…"
    finally:
        app.kill()


def test_a_read_only_data_dir_is_one_clear_error(small_disk: Path) -> None:
    from tests.conftest import remount_read_only

    data_dir = small_disk / "data"
    assert run_cli("users", "add", "alice", "--password-stdin", "--data-dir", str(data_dir),
                   input=PASSWORD + "\n").returncode == 0
    before = (data_dir / "desktop-app.sqlite3").read_bytes()
    remount_read_only(small_disk)
    for args in (["--headless"], ["users", "list"]):
        r = run_cli(*args, "--data-dir", str(data_dir))
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        last = r.stderr.strip().splitlines()[-1]
        assert "Read-only file system" in last and "--data-dir" in last, r.stderr
    assert (data_dir / "desktop-app.sqlite3").read_bytes() == before


# -- passwords and other input that must never end in a traceback -----------------
def run_cli_raw(*args: str, stdin: bytes | int | None = subprocess.DEVNULL, cwd: Path | None = None,
                env: dict[str, str] | None = None,
                command: Sequence[str] = APP_COMMAND) -> subprocess.CompletedProcess[str]:
    """Like run_cli, with bytes (or a file) on stdin, and no controlling terminal:
    a password prompt can neither reach the developer's terminal nor wait for it."""
    full_env = app_env(env)
    feed: dict[str, object] = {"input": stdin} if isinstance(stdin, bytes) else {"stdin": stdin}
    r = subprocess.run([*command, *args], capture_output=True, env=full_env, cwd=cwd, timeout=60,
                       start_new_session=True, **feed)  # type: ignore[call-overload]
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode(errors="replace"),
                                       r.stderr.decode(errors="replace"))


def run_at_terminal(*args: str, typed: Sequence[bytes]) -> tuple[int, str]:
    """The CLI with a terminal (a pty) as stdin, as a person runs it. Each of `typed`
    is typed once the next password prompt is on stderr (typed earlier, the prompt's
    TCSAFLUSH would throw it away). Returns the exit code and stderr."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([*APP_COMMAND, *args], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=app_env(), start_new_session=True)  # no /dev/tty: getpass uses the pty on stdin
    os.close(slave)
    assert proc.stderr is not None
    err = b""
    try:
        for n, keys in enumerate(typed, start=1):
            deadline = time.monotonic() + 60
            while err.count(b"password: ") < n and proc.poll() is None:
                assert time.monotonic() < deadline, f"no prompt {n}: {err!r}"
                if select.select([proc.stderr], [], [], 0.5)[0]:
                    err += os.read(proc.stderr.fileno(), 4096)
            os.write(master, keys)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        os.close(master)
    return proc.returncode, (err + rest).decode(errors="replace")


def stored_accounts(data_dir: Path) -> list[tuple[str, str]]:
    """(name, password hash) of every account, read from the store file itself."""
    with contextlib.closing(sqlite3.connect(data_dir / "desktop-app.sqlite3")) as conn:
        return conn.execute("SELECT username, pw_hash FROM users ORDER BY username").fetchall()


@pytest.mark.parametrize("utf8_mode", ["1", "0"])  # stdin decoded with surrogateescape, or strictly
@pytest.mark.parametrize("action", ["add", "set-password"])
def test_password_stdin_that_is_not_utf8_is_one_clear_line(account: Path, action: str, utf8_mode: str) -> None:
    before = stored_accounts(account)
    name = "bob" if action == "add" else "alice"
    r = run_cli_raw("users", action, name, "--password-stdin", "--data-dir", str(account),
                    stdin=b"\xff\xfe bad password\n", env={"PYTHONUTF8": utf8_mode, "LC_ALL": "C.UTF-8"})
    assert_one_line_error(r, "--password-stdin: the password is not valid UTF-8 text")
    assert r.returncode == 2
    assert stored_accounts(account) == before


@pytest.mark.parametrize(
    ("stdin", "fragment"),
    [
        (b"", "nothing on stdin"),
        (b"\n", "too short"),
        (b"\r\n", "too short"),
        (None, "--password-stdin: there is no stdin"),  # stdin closed, not just empty
    ],
)
def test_password_stdin_without_a_password_is_one_clear_line(data_dir: Path, stdin: bytes | None,
                                                              fragment: str) -> None:
    closed = ("sh", "-c", 'exec "$@" <&-', "sh", *APP_COMMAND)
    r = run_cli_raw("users", "add", "bob", "--password-stdin", "--data-dir", str(data_dir),
                    stdin=stdin, command=APP_COMMAND if stdin is not None else closed)
    assert_one_line_error(r, fragment)
    assert r.returncode == 2
    assert not (data_dir / "desktop-app.sqlite3").exists()  # refused before the store is even created


@pytest.mark.parametrize("stdin", [subprocess.DEVNULL, b"correct horse battery\ncorrect horse battery\n"])
def test_password_prompt_without_a_terminal_is_one_clear_line(account: Path, stdin: bytes | int) -> None:
    # getpass would fall back to reading stdin with the password echoed; we say how to pipe it instead.
    before = stored_accounts(account)
    for action, name in (("add", "bob"), ("set-password", "alice")):
        r = run_cli_raw("users", action, name, "--data-dir", str(account), stdin=stdin)
        assert_one_line_error(r, "no terminal", "--password-stdin")
        assert r.returncode == 2
    assert stored_accounts(account) == before
    fresh = account.parent / "fresh"
    assert_one_line_error(run_cli_raw("users", "add", "bob", "--data-dir", str(fresh)), "--password-stdin")
    assert not fresh.exists()


def test_password_prompt_at_a_terminal(account: Path) -> None:
    d = ("--data-dir", str(account))
    before = stored_accounts(account)
    for typed, fragment in [
        ([b"\x04"], "No password was typed"),  # Ctrl-D at the first prompt
        ([PASSWORD.encode() + b"\n", b"\x04"], "No password was typed"),
        ([b"\xff\xfe bad password\n", b"\xff\xfe bad password\n"], "not valid UTF-8 text"),
        ([PASSWORD.encode() + b"\n", b"another one entirely\n"], "do not match"),
    ]:
        for action, name in (("add", "bob"), ("set-password", "alice")):
            code, err = run_at_terminal("users", action, name, *d, typed=typed)
            assert code == 2 and "Traceback" not in err, err
            assert fragment in err.splitlines()[-1], err
    assert stored_accounts(account) == before
    # The helper really types into a terminal: the same prompt accepts a password typed twice.
    code, err = run_at_terminal("users", "add", "bob", *d, typed=[PASSWORD.encode() + b"\n"] * 2)
    assert code == 0 and "Traceback" not in err, err
    assert [name for name, _ in stored_accounts(account)] == ["alice", "bob"]


def test_an_unexpected_error_is_one_line_and_its_traceback_is_logged(account: Path) -> None:
    # A store edited by hand (or a bug of ours): `users list` cannot format this date.
    with contextlib.closing(sqlite3.connect(account / "desktop-app.sqlite3")) as conn, conn:
        conn.execute("UPDATE users SET created_at = 'yesterday'")
    log_file = account / "logs" / "desktop-app.log"
    r = run_cli("users", "list", "--data-dir", str(account))
    assert_one_line_error(r, "unexpected error: TypeError", f"details in the log at {log_file}")
    assert "Traceback" in log_file.read_text()  # the promised details are there


def test_an_empty_path_option_is_refused(tmp_path: Path) -> None:
    # `--data-dir "$UNSET_VARIABLE"` must not put the store in whatever the current directory is.
    for flag in ("--data-dir", "--cache-dir", "--log-dir"):
        r = run_cli_raw("users", "list", flag, "", cwd=tmp_path)
        assert_one_line_error(r, f"{flag} is empty")
        assert r.returncode == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("action", ["add", "set-password", "delete"])
def test_a_name_that_is_not_utf8_is_one_clear_line(account: Path, action: str) -> None:
    before = stored_accounts(account)
    options = [] if action == "delete" else ["--password-stdin"]
    r = run_cli_raw("users", action, os.fsdecode(b"b\xff"), *options, "--data-dir", str(account),
                    stdin=PASSWORD.encode() + b"\n")
    assert_one_line_error(r, "is not valid UTF-8 text")
    assert r.returncode == 2
    assert stored_accounts(account) == before
