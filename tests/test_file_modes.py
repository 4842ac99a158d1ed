"""Everything the app creates is the owner's alone: every folder 0700, every
file 0600, whoever creates it (our code, the log handler, Gradio's temp files
and uploads, the webview and its helper processes). Checked by walking the
folders after a real run, headless and in the window, with --data-dir and
with the OS's default folders (HOME in a temp dir)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_app.identity import DEMO
from tests.support.helpers import PASSWORD, AppProcess, launched_client, run_cli, sign_in
from tests.support.windowed import launched
from tests.support.xdisplay import VirtualDisplay, app_ui_shown
from tests.test_gradio_shield import upload
from tests.test_web import call_event


def open_to_others(*roots: Path) -> list[str]:
    """Every folder and file under `roots` that anyone but the owner may read,
    write or enter (links are not followed: their own mode means nothing)."""
    found, seen = [], 0
    for root in roots:
        for path in [root, *root.rglob("*")]:
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                continue
            seen += 1
            if mode & 0o077:
                found.append(f"{stat.filemode(mode)} {path}")
    assert seen > 3, f"nothing to check under {roots}"
    return found


def home_env(home: Path) -> dict[str, str | None]:
    """A person whose home is `home`: the default folders are made there."""
    return {"HOME": str(home), "XDG_DATA_HOME": None, "XDG_CACHE_HOME": None, "XDG_STATE_HOME": None,
            "XDG_CONFIG_HOME": None}


def default_folders(home: Path) -> list[Path]:
    return [p for p in (home / ".local" / "share" / DEMO.slug, home / ".cache" / DEMO.slug,
                        home / ".local" / "state" / DEMO.slug) if p.exists()]


def use_headless(data_dir: Path | None, env: dict[str, str | None] | None = None) -> None:
    """An account, a sign-in, an upload and an event (Gradio writes its temp
    files), then SIGTERM."""
    args = ["--data-dir", str(data_dir)] if data_dir else []
    r = run_cli("users", "add", "alice", "--password-stdin", *args, input=PASSWORD + "\n", env=env)
    assert r.returncode == 0, r.stderr
    app = AppProcess(data_dir, env=env)
    try:
        with launched_client(app.wait_ready(timeout=120)) as client:
            assert sign_in(client, "alice").status_code == 303
            assert "gradio" in upload(client, "notes.txt", b"kept to myself")
            assert call_event(client, "save_notes", ["private"])[0].startswith("Saved")
        assert app.stop(signal.SIGTERM) == 0, app.stderr()
    finally:
        app.kill()


def test_headless_with_a_data_dir_creates_nothing_others_can_open(tmp_path: Path) -> None:
    data = tmp_path / "data"
    use_headless(data)
    assert (data / "logs" / f"{DEMO.slug}.log").is_file() and (data / "cache" / "gradio").is_dir()
    assert open_to_others(data) == []


def test_headless_in_the_default_folders_creates_nothing_others_can_open(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)  # a home others may enter, as most are
    use_headless(None, env=home_env(home))
    folders = default_folders(home)
    assert len(folders) == 3, folders  # data, cache and logs, each where the OS wants it
    assert open_to_others(*folders) == []


@pytest.mark.window
def test_the_window_creates_nothing_others_can_open(xdisplay: VirtualDisplay, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    env = home_env(home)
    r = run_cli("users", "add", "alice", "--password-stdin", input=PASSWORD + "\n", env=env)
    assert r.returncode == 0, r.stderr
    with launched(xdisplay, None, extra_env={k: v for k, v in env.items() if v is not None}) as app:
        app.wait_ready()
        app.sign_in(remember=True)
        xdisplay.wait_for(app_ui_shown)
        assert app.close() == 0
    folders = default_folders(home)
    assert (folders[0] / "webview").is_dir(), "the window kept no storage: then its files went unchecked"
    assert open_to_others(*folders) == []


def test_a_link_opens_the_persons_browser_with_their_umask(tmp_path: Path) -> None:
    """The app's private umask is not the browser's: what it saves is the
    person's to share. A stand-in xdg-open records the umask it was started with;
    the app runs in a child process with umask 022, as a desktop session has it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opener = bin_dir / ("xdg-open" if sys.platform.startswith("linux") else "open")
    opener.write_text(f"#!/bin/sh\numask > {tmp_path / 'umask.txt'}\necho \"$1\" > {tmp_path / 'url.txt'}\n")
    opener.chmod(0o755)
    code = ("import os, webbrowser\n"
            "os.umask(0o022)\n"
            "from desktop_app.paths import keep_new_files_private\n"
            "from desktop_app.desktop.links import use_persons_browser\n"
            "keep_new_files_private()\n"
            "assert use_persons_browser()\n"
            "assert webbrowser.open('https://example.org/page')\n"
            "assert os.umask(0o077) == 0o077  # the app's own is unchanged\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 10
    while not (tmp_path / "url.txt").exists():
        assert time.monotonic() < deadline, "the browser was not started"
        time.sleep(0.05)
    assert (tmp_path / "umask.txt").read_text().strip() == "0022"
    assert (tmp_path / "url.txt").read_text().strip() == "https://example.org/page"
