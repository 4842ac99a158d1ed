"""The real app in a real window under Xvfb: sign in by typing into the page,
look at the screen, close the window the way a person does, and check that the
process exits 0 and leaves nothing behind. Also: a second launch, kill -9,
"keep me signed in", window geometry, the error screen, and no display."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from desktop_app.desktop.backends import has_gpu_render_node, linux_backend
from tests.support.helpers import AppProcess, launched_client, run_cli, sign_in
from tests.support.windowed import alive, descendants, launched
from tests.support.xdisplay import VirtualDisplay, app_ui_shown, count, is_error_red, is_orange, login_page_shown

pytestmark = [pytest.mark.window, pytest.mark.skipif(sys.platform != "linux", reason="Xvfb tests run on Linux")]


def needs_webview(name: str) -> pytest.MarkDecorator:
    """Skip where that web engine is not installed, but not in CI, which
    installs both (`.[window,window-qt]`): there a missing one fails."""
    missing = sys.platform == "linux" and linux_backend(name) is None and not os.environ.get("CI")
    return pytest.mark.skipif(missing, reason=f"the {name} webview is not installed")


def webviews() -> list:
    """Window tests of what differs between engines run on both Linux ones:
    WebKitGTK and Qt WebEngine."""
    return [pytest.param(name, marks=needs_webview(name)) for name in ("gtk", "qt")]


def sessions_of(data_dir: Path, user: str) -> int:
    conn = sqlite3.connect(f"file:{data_dir / 'desktop-app.sqlite3'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM sessions WHERE username = ?", (user,)).fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("webview", webviews())
def test_sign_in_in_the_window_then_close_it(
    xdisplay: VirtualDisplay, account: Path, tmp_path: Path, webview: str
) -> None:
    with launched(xdisplay, account, extra_args=("--webview", webview)) as app:
        app.wait_ready()
        app.sign_in()
        shot = xdisplay.wait_for(app_ui_shown)
        shot.save(tmp_path / "signed-in.png")
        assert len(shot.getcolors(maxcolors=1 << 16) or []) > 20  # a rendered page, not a blank window
        assert sessions_of(account, "alice") == 1
        assert app.close() == 0
        app.assert_no_helper_left()
        assert not (account / "instance.json").exists()


@pytest.mark.parametrize("webview", webviews())
def test_second_launch_raises_the_first_and_exits(xdisplay: VirtualDisplay, account: Path, webview: str) -> None:
    with launched(xdisplay, account, extra_args=("--webview", webview)) as first:
        launch = first.wait_ready()
        t0 = time.monotonic()
        try:
            second = run_cli("--data-dir", str(account), env=xdisplay.app_env(), timeout=30)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"the second launch did not exit; its stderr: {exc.stderr!r}") from None
        elapsed = time.monotonic() - t0
        assert second.returncode == 0 and "already running" in second.stderr, second.stderr
        assert elapsed < 5, elapsed
        with launched_client(launch) as client:  # the first one keeps serving
            assert client.get("/login").status_code == 200
        # Window mode stops on SIGTERM too: the window closes, then everything else.
        first.proc.send_signal(signal.SIGTERM)
        assert first.wait_exit(30) == 0


def test_kill_9_then_launch_again(xdisplay: VirtualDisplay, account: Path) -> None:
    with launched(xdisplay, account) as first:
        first.wait_ready()
        with sqlite3.connect(account / "desktop-app.sqlite3") as conn:
            conn.execute("INSERT INTO user_data VALUES ('alice', 'k', '\"v\"', 0)")
        conn.close()
        first.proc.kill()
        first.proc.wait(10)
    with launched(xdisplay, account) as again:  # the dead one's lock is gone with it
        with launched_client(again.wait_ready()) as client:
            assert sign_in(client, "alice").status_code == 303
        conn = sqlite3.connect(account / "desktop-app.sqlite3")
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT value FROM user_data WHERE key = 'k'").fetchone()[0] == '"v"'
        finally:
            conn.close()
        assert again.close() == 0


def cookie_files_naming(data_dir: Path, name: bytes) -> list[str]:
    """The webview's cookie database files (WebKit: `cookies`, Chromium:
    `Cookies`, with journals) that hold a cookie called `name`."""
    return [f.name for f in (data_dir / "webview").iterdir()
            if f.name.lower().startswith("cookies") and f.is_file() and name in f.read_bytes()]


@pytest.mark.parametrize("webview", webviews())
@pytest.mark.parametrize("remember", [True, False])
def test_keep_me_signed_in_and_window_size_survive_a_restart(
    xdisplay: VirtualDisplay, account: Path, remember: bool, webview: str
) -> None:
    flags = ("--webview", webview)
    with launched(xdisplay, account, extra_args=flags) as app:
        app.wait_ready()
        app.sign_in(remember=remember)
        xdisplay.wait_for(app_ui_shown)
        xdisplay.xdotool("windowsize", str(app.window), "1000", "700")
        time.sleep(0.5)  # let the resize event reach the app before closing
        # Closed within seconds of signing in: Qt WebEngine wrote cookies only
        # every 30 s, so the cookie was lost unless the app makes it write them.
        assert app.close() == 0
    if remember:  # kept in the data dir, not in the toolkit's default place
        assert cookie_files_naming(account, b"desktop-app-session")

    with launched(xdisplay, account, extra_args=flags) as app:
        app.wait_ready()
        assert xdisplay.geometry(app.window) == (1000, 700)
        # Ticked: straight to the app. Not ticked: the cookie died with the window.
        xdisplay.wait_for(app_ui_shown if remember else login_page_shown)
        assert app.close() == 0
    # The every-day launch: Gradio's build started as soon as the store was open,
    # before the server, since a kept session was in it (it once waited for a
    # login page that a kept session never shows, then 3 s more). Not ticked: the
    # session is still in the store but not kept, so the login page comes first.
    log = (account / "logs" / "desktop-app.log").read_text().splitlines()
    this_launch = log[max(i for i, line in enumerate(log) if "GUI loop running" in line):]
    started = [i for i, line in enumerate(this_launch) if "Gradio build started" in line]
    serving = [i for i, line in enumerate(this_launch) if "serving http" in line]
    assert len(started) == 1 and len(serving) == 1, this_launch
    if remember:
        assert "(a kept session is in the store)" in this_launch[started[0]], this_launch[started[0]]
        assert started[0] < serving[0], this_launch
    else:
        assert "(the login page loaded)" in this_launch[started[0]], this_launch[started[0]]


def test_the_window_keeps_its_port_across_launches(xdisplay: VirtualDisplay, account: Path) -> None:
    """The same origin each launch keeps the window's web cache valid (Gradio's
    scripts are not fetched again); a taken port is no obstacle."""
    def port_of(launch: str) -> int:
        return int(urlsplit(launch).port or 0)

    with launched(xdisplay, account) as app:
        first = port_of(app.wait_ready())
        assert app.close() == 0
    with launched(xdisplay, account) as app:
        assert port_of(app.wait_ready()) == first
        assert app.close() == 0
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the last run's TIME_WAIT
        squatter.bind(("127.0.0.1", first))
        squatter.listen()
        with launched(xdisplay, account) as app:
            launch = app.wait_ready()
            assert port_of(launch) != first
            with launched_client(launch) as client:
                assert client.get("/login").status_code == 200
            assert app.close() == 0


@needs_webview("gtk")
@pytest.mark.parametrize("own_setting", [None, "0"])
def test_webkit_composites_in_software_only_when_asked(
    xdisplay: VirtualDisplay, account: Path, own_setting: str | None
) -> None:
    """Without a GPU render node (as here), WebKit's accelerated compositing would
    run on software GL, which slowed every page: it is turned off, unless the
    person's environment says otherwise. Read from WebKit's own web process."""
    name = "WEBKIT_DISABLE_COMPOSITING_MODE"
    expected = own_setting or ("1" if not has_gpu_render_node() else None)
    with launched(xdisplay, account, extra_env={name: own_setting} if own_setting else None) as app:
        app.wait_ready()
        xdisplay.wait_for(login_page_shown)
        web = [p for p in descendants(app.proc.pid)
               if b"WebKitWebProcess" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert web, "no WebKit web process found"
        environ = Path(f"/proc/{web[0]}/environ").read_bytes().split(b"\0")
        values = [e.split(b"=", 1)[1].decode() for e in environ if e.startswith(name.encode() + b"=")]
        assert values == ([expected] if expected else []), values
        assert app.close() == 0


def test_a_start_failure_is_shown_in_the_window(xdisplay: VirtualDisplay, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    store = data_dir / "desktop-app.sqlite3"
    store.write_bytes(b"not a database" * 100)
    with launched(xdisplay, data_dir) as app:
        shot = xdisplay.wait_for(lambda s: count(s, is_error_red) > 300)  # the red sentence
        assert not app_ui_shown(shot)
        assert app.close() == 1
        log = (data_dir / "logs" / "desktop-app.log").read_text()
        assert "not a database" in log
        assert store.read_bytes() == b"not a database" * 100  # closing is not agreeing: untouched


def test_a_damaged_store_is_set_aside_when_the_person_chooses(xdisplay: VirtualDisplay, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    store = data_dir / "desktop-app.sqlite3"
    junk = b"not a database" * 100
    store.write_bytes(junk)
    with launched(xdisplay, data_dir) as app:
        xdisplay.wait_for(lambda s: count(s, is_error_red) > 300)
        assert store.read_bytes() == junk  # nothing happens until the person chooses
        xdisplay.xdotool("windowfocus", "--sync", str(app.window))
        xdisplay.key("Return")  # the focused "Move it aside and start fresh" button
        # The first-run page: no red sentence, the narrow orange "Create account" button.
        xdisplay.wait_for(lambda s: count(s, is_error_red) == 0 and login_page_shown(s))
        (kept,) = data_dir.glob("desktop-app.sqlite3.damaged-*")
        assert kept.read_bytes() == junk
        assert store.exists() and store.read_bytes()[:15] == b"SQLite format 3"
        assert app.close() == 0
    assert "moved to" in (data_dir / "logs" / "desktop-app.log").read_text()


def test_a_damaged_store_comes_back_from_the_last_backup_when_the_person_chooses(
    xdisplay: VirtualDisplay, account: Path
) -> None:
    assert run_cli("store", "backup", "--data-dir", str(account)).returncode == 0
    (backup,) = (account / "backups").iterdir()
    copy = backup.read_bytes()
    store = account / "desktop-app.sqlite3"
    junk = b"not a database" * 100
    store.write_bytes(junk)
    with launched(xdisplay, account) as app:
        xdisplay.wait_for(lambda s: count(s, is_error_red) > 300)
        assert store.read_bytes() == junk  # nothing happens until the person chooses
        xdisplay.xdotool("windowfocus", "--sync", str(app.window))
        xdisplay.key("Return")  # the focused first button: "Restore the backup of ..."
        # The sign-in page (not the first-run one): alice is back.
        xdisplay.wait_for(lambda s: count(s, is_error_red) == 0 and login_page_shown(s))
        with launched_client(app.wait_ready()) as client:
            assert sign_in(client, "alice").status_code == 303
        (kept,) = account.glob("desktop-app.sqlite3.damaged-*")
        assert kept.read_bytes() == junk
        assert backup.read_bytes() == copy  # the backup itself stays as it was, for next time
        assert app.close() == 0
    assert "was restored at the person's request" in (account / "logs" / "desktop-app.log").read_text()


def test_no_display_serves_without_a_window(data_dir: Path) -> None:
    app = AppProcess(data_dir, headless=False, env={"DISPLAY": None, "WAYLAND_DISPLAY": None})
    try:
        assert app.wait_ready().startswith("http://127.0.0.1:")
        assert app.stop(signal.SIGINT) == 0
        err = app.stderr()
        assert "no display found" in err and "without a window" in err and "Traceback" not in err
    finally:
        app.kill()


@pytest.mark.parametrize(("engine", "package", "says"), [
    ("qt", "PyQt6", "--webview qt: Qt WebEngine is not installed (pip install pywebview==6.2.1 PyQt6==6.11.0 "
           "PyQt6-WebEngine==6.11.0 QtPy==2.4.3)"),
    ("gtk", "gi", "--webview gtk: WebKitGTK is not installed"),
])
def test_a_web_engine_asked_for_but_missing_is_said_in_one_line(
    xdisplay: VirtualDisplay, data_dir: Path, tmp_path: Path, engine: str, package: str, says: str
) -> None:
    # The package is hidden by one that fails to import, found first on the path.
    hidden = tmp_path / "hide" / package
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    app = AppProcess(data_dir, "--webview", engine, headless=False,
                     env={"DISPLAY": xdisplay.name, "WAYLAND_DISPLAY": None, "PYTHONPATH": str(hidden.parent)})
    try:
        assert app.wait_ready().startswith("http://127.0.0.1:")
        assert app.stop(signal.SIGINT) == 0
        err = app.stderr().splitlines()
        assert len(err) == 1 and says in err[0] and "serving without a window" in err[0], err
    finally:
        app.kill()


@pytest.mark.parametrize("webview", webviews())
def test_a_wayland_session_gets_the_window(account: Path, tmp_path: Path, webview: str) -> None:
    """Most Linux desktops run Wayland now: with WAYLAND_DISPLAY and no DISPLAY
    the window opens (on Wayland, here under a headless weston) and loads
    the login page; SIGTERM closes it and ends everything. Nothing here reads
    the screen (weston's headless backend offers no screenshots): WebKit's own
    page-loaded event, in the log, is the evidence."""
    weston = shutil.which("weston")
    if weston is None:
        if os.environ.get("CI"):
            raise AssertionError("CI installs weston (.ci/run) for this test")
        pytest.skip("weston is not installed")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    compositor = subprocess.Popen(
        [weston, "--backend=headless-backend.so", "--socket=wayland-test", "--width=1280", "--height=800"],
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not (runtime / "wayland-test").exists():
            assert time.monotonic() < deadline and compositor.poll() is None, "weston did not start"
            time.sleep(0.1)
        app = AppProcess(account, "--webview", webview, headless=False,
                         env={"DISPLAY": None, "XDG_RUNTIME_DIR": str(runtime), "WAYLAND_DISPLAY": "wayland-test"})
        try:
            # 120 s: on a fresh CI machine Qt WebEngine's first start under the
            # headless compositor once missed 60 s (the failure now shows the app's log).
            assert app.wait_ready(timeout=120).startswith("http://127.0.0.1:")
            log = account / "logs" / "desktop-app.log"
            deadline = time.monotonic() + 30
            while "page 2 loaded in the window" not in (log.read_text() if log.exists() else ""):
                assert time.monotonic() < deadline, "the login page never loaded in the window"
                time.sleep(0.2)
            helpers = descendants(app.proc.pid)
            engine = b"WebKitWebProcess" if webview == "gtk" else b"QtWebEngineProcess"
            assert any(engine in Path(f"/proc/{p}/cmdline").read_bytes() for p in helpers if alive(p))
            assert app.stop(signal.SIGTERM) == 0
            deadline = time.monotonic() + 10
            while any(alive(p) for p in helpers) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not [p for p in helpers if alive(p)], "helper processes survived the window"
            err = app.stderr()
            # (The toolkits warn about the headless compositor's missing keyboard: not ours.)
            assert "Traceback" not in err and "without a window" not in err, err
        finally:
            app.kill()
    finally:
        compositor.terminate()
        compositor.wait(10)


def test_closing_the_window_while_it_starts(xdisplay: VirtualDisplay, account: Path) -> None:
    # The person changes their mind at once: no server may be left running.
    with launched(xdisplay, account) as app:
        assert app.close(timeout=20) == 0


def test_a_dying_server_is_shown_in_the_window(xdisplay: VirtualDisplay, account: Path) -> None:
    # The server thread dies after the login page is up (tests/apps/server_killer_ui.py): a red sentence, not a dead page.
    with launched(xdisplay, account, extra_args=("--ui", "tests.apps.server_killer_ui:build")) as app:
        app.wait_ready()
        xdisplay.wait_for(lambda s: count(s, is_error_red) > 300)
        assert app.close() == 1
    assert "the server thread ended with InjectedFault" in (account / "logs" / "desktop-app.log").read_text()


def test_a_read_only_data_dir_is_shown_in_the_window(xdisplay: VirtualDisplay, small_disk: Path) -> None:
    # A person who double-clicks sees no terminal: the sentence must be in a window.
    from tests.conftest import remount_read_only

    data_dir = small_disk / "data"
    data_dir.mkdir()
    remount_read_only(small_disk)
    with launched(xdisplay, data_dir) as app:
        xdisplay.wait_for(lambda s: count(s, is_error_red) > 300)
        assert app.close() == 1


def _center_of_widest_orange(shot) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Screen position of the middle of the wide orange button."""
    width, height = shot.size
    pixels = shot.load()
    rows = [y for y in range(height) if sum(1 for x in range(0, width, 4) if is_orange(pixels[x, y])) > 100]
    y = (rows[0] + rows[-1]) // 2
    xs = [x for x in range(width) if is_orange(pixels[x, y])]
    return (xs[0] + xs[-1]) // 2, y


@pytest.mark.parametrize("webview", webviews())
def test_a_download_is_saved_through_the_save_dialog(
    xdisplay: VirtualDisplay, account: Path, tmp_path: Path, webview: str
) -> None:
    # tests/apps/download_ui.py: one wide button that downloads a text file. The save
    # dialog must open (GTK's did not when GLib knows no XDG download folder, as
    # here; pywebview's Qt handler raised), and the file must land where the person says.
    from tests.apps.download_ui import CONTENT

    target = tmp_path / "saved" / "my-report.txt"
    target.parent.mkdir()
    with launched(xdisplay, account, extra_args=("--ui", "tests.apps.download_ui:build", "--webview", webview)) as app:
        app.wait_ready()
        app.sign_in()
        shot = xdisplay.wait_for(app_ui_shown)
        x, y = _center_of_widest_orange(shot)
        xdisplay.xdotool("mousemove", str(x), str(y), "click", "1")
        deadline = time.monotonic() + 20
        while not (dialog := xdisplay.xdotool("search", "--onlyvisible", "--name", "^Save")):
            assert time.monotonic() < deadline, "no save dialog appeared"
            time.sleep(0.2)
        xdisplay.xdotool("windowfocus", "--sync", dialog.split()[-1])
        xdisplay.key("ctrl+a")  # the suggested name is in the Name field; replace it with a full path
        xdisplay.xdotool("type", "--delay", "15", str(target))
        xdisplay.key("Return")
        while not (target.exists() and target.read_text() == CONTENT):
            assert time.monotonic() < deadline, f"the download did not arrive at {target}"
            time.sleep(0.2)
        assert app.close() == 0
