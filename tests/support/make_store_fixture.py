"""Write a store fixture for tests/test_upgrades.py with a release of the app,
used as a person uses it: accounts made with `users add`, then the real app
(headless) signed in to with "Keep me signed in", notes saved through Gradio.

    python -m tests.support.make_store_fixture tests/fixtures/stores/v3.sqlite3 [--source CHECKOUT]

`--source`: a checkout of the release to run (`git worktree add /tmp/rel <commit>`);
by default, this one. Beside the store it writes NAME.json: the schema version,
the commit, the notes saved and the kept session's cookie, which the test shows
to the new version to prove that a person stays signed in across the upgrade.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.helpers import PASSWORD, AppProcess, csrf_from, launched_client, run_cli
from tests.test_web import call_event


def main() -> None:
    parser = argparse.ArgumentParser(prog="make_store_fixture")
    parser.add_argument("out", type=Path)
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args()
    source = args.source.resolve()
    env = {"PYTHONPATH": str(source)}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        d = ["--data-dir", str(data)]
        for name in ("alice", "bob"):
            r = run_cli("users", "add", name, "--password-stdin", *d, input=PASSWORD + "\n", env=env, cwd=source)
            assert r.returncode == 0, r.stderr
        app = AppProcess(data, env=env, cwd=source)
        notes = {}
        try:
            launch = app.wait_ready()
            for name in ("alice", "bob"):
                with launched_client(launch) as client:
                    page = client.get("/login")
                    r = client.post("/login", data={"username": name, "password": PASSWORD, "remember": "1",
                                                    "csrf": csrf_from(page.text), "next": "/gradio/"})
                    assert r.status_code == 303, r.text
                    notes[name] = f"{name}'s notes, saved before the upgrade"
                    assert call_event(client, "save_notes", [notes[name]])[0].startswith("Saved")
                    cookies = dict(client.cookies)
        finally:
            assert app.stop() == 0
        store = data / "desktop-app.sqlite3"
        conn = sqlite3.connect(store)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute("VACUUM")  # small in git
        finally:
            conn.close()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store, args.out)
    commit = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    args.out.with_suffix(".json").write_text(json.dumps({
        "schema": version, "commit": commit.strip(), "password": PASSWORD, "notes": notes,
        "bob_cookies": cookies,  # the last one signed in: bob, "Keep me signed in" ticked
    }, indent=2) + "\n")
    print(f"wrote {args.out} (schema {version})", file=sys.stderr)


if __name__ == "__main__":
    main()
