"""Use an installed or frozen app the way a person and a script would: create an
account with its CLI, start it headless, sign in over HTTP, open the Gradio
page, run a Gradio event through its API, stop it with SIGTERM (exit 0).

    python -m tests.support.exercise COMMAND... DATA_DIR     # exit 0 when all of it worked

A module of its own so that a test can also run it inside a network namespace
with no route out (tests/test_packaging.py), where the test's own process
could not reach the server.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from tests.support.helpers import PASSWORD, AppProcess, launched_client, run_cli, sign_in
from tests.test_web import call_event


def use_the_demo(client: httpx.Client) -> None:
    """The demo's notes: saved, then read back."""
    assert call_event(client, "save_notes", ["written by the packaged app"])[0].startswith("Saved")
    assert call_event(client, "load_notes", [])[0]["value"] == "written by the packaged app"


def exercise(command: Sequence[str], data_dir: Path, use: Callable[[httpx.Client], None] = use_the_demo) -> None:
    """`use`: the app's own Gradio events, run once signed in."""
    r = run_cli("users", "add", "alice", "--password-stdin", "--data-dir", str(data_dir),
                input=PASSWORD + "\n", command=command)
    assert r.returncode == 0 and "alice" in r.stdout, r.stderr
    r = run_cli("users", "list", "--data-dir", str(data_dir), command=command)
    assert r.returncode == 0 and r.stdout.startswith("alice\t"), (r.stdout, r.stderr)

    app = AppProcess(data_dir, command=command)
    try:
        launch = app.wait_ready(timeout=120)
        with launched_client(launch) as client:
            assert sign_in(client, "alice").status_code == 303
            page = client.get("/gradio/")
            assert page.status_code == 200 and "gradio" in page.text.lower(), page.status_code
            assert client.get("/gradio/config").status_code == 200
            use(client)
        code = app.stop(signal.SIGTERM)
        assert code == 0, f"exit code {code}; stderr: {app.stderr()}"
        assert "Traceback" not in app.stderr(), app.stderr()
    finally:
        app.kill()


if __name__ == "__main__":
    *cmd, data = sys.argv[1:]
    exercise(cmd, Path(data))
    print("exercise: all steps passed")
