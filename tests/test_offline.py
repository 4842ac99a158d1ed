"""The app makes no outbound network connection: not at start, not serving the
Gradio page, not running an event, not at shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.helpers import PASSWORD, AppProcess, launched_client, run_cli, sign_in
from tests.test_web import call_event

NETWATCH = Path(__file__).parent / "support" / "netwatch.py"


def test_no_outbound_connections(data_dir: Path, tmp_path: Path) -> None:
    run_cli("users", "add", "alice", "--password-stdin", "--data-dir", str(data_dir), input=PASSWORD + "\n")
    log = tmp_path / "netwatch.txt"
    # No GRADIO_* or HF_* of the developer's either: the app's own settings must keep it offline.
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("GRADIO_", "HF_"))}
    app = AppProcess(data_dir, env={**env, "NETWATCH_LOG": str(log)}, command=(sys.executable, str(NETWATCH)))
    try:
        with launched_client(app.wait_ready()) as client:
            sign_in(client, "alice")
            for path in ("/gradio/", "/gradio/config", "/gradio/theme.css", "/gradio/gradio_api/info"):
                assert client.get(path).status_code == 200, path
            assert call_event(client, "save_notes", ["offline"])[0].startswith("Saved")
        assert app.stop(signal.SIGTERM) == 0, app.stderr()
    finally:
        app.kill()
    assert not log.exists(), "outbound connection attempts:\n" + log.read_text()


def test_the_watch_itself_sees_connections(tmp_path: Path) -> None:
    # The watcher must be able to fail: run it on code that does look up a remote host.
    log = tmp_path / "netwatch.txt"
    code = (f"import runpy, sys, socket; sys.argv = ['x', '--version'];\n"
            f"import os; os.environ['NETWATCH_LOG'] = {str(log)!r}\n"
            f"try:\n    runpy.run_path({str(NETWATCH)!r}, run_name='__main__')\nexcept SystemExit: pass\n"
            f"try:\n    socket.getaddrinfo('example.invalid', 80)\nexcept OSError: pass\n")
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "example.invalid" in log.read_text()
