"""Upgrades keep data: a store written by each earlier release (committed in
tests/fixtures/stores, see its README) opens in this one, migrated forward,
with its accounts, their notes and a kept session intact; a store from a newer
version is refused in one line and left as it is."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from desktop_app.store.db import SCHEMA_VERSION
from tests.support.helpers import PASSWORD, AppProcess, assert_one_line_error, launched_client, run_cli, sign_in
from tests.test_gradio_shield import upload
from tests.test_web import call_event

FIXTURES = Path(__file__).parent / "fixtures" / "stores"
STORES = sorted(FIXTURES.glob("v*.sqlite3"), key=lambda p: int(p.stem[1:]))


def test_every_schema_version_has_a_fixture() -> None:
    # A release that changes the schema commits a store written by it (tests/support/make_store_fixture.py).
    assert [int(p.stem[1:]) for p in STORES] == list(range(1, SCHEMA_VERSION + 1))


def installed(fixture: Path, data_dir: Path) -> dict:
    data_dir.mkdir(parents=True)
    shutil.copyfile(fixture, data_dir / "desktop-app.sqlite3")
    return json.loads(fixture.with_suffix(".json").read_text())


@pytest.mark.parametrize("fixture", STORES, ids=[p.stem for p in STORES])
def test_a_store_from_an_earlier_release_opens_with_everything_in_it(fixture: Path, data_dir: Path) -> None:
    facts = installed(fixture, data_dir)
    assert facts["password"] == PASSWORD
    # Sessions from then would have ended by now: made long-lived so the kept one can be shown.
    app = AppProcess(data_dir, "--session-idle", "3650d", "--session-max", "3650d")
    try:
        launch = app.wait_ready()
        with launched_client(launch) as client:
            assert sign_in(client, "alice").status_code == 303
            assert call_event(client, "load_notes", [])[0]["value"] == facts["notes"]["alice"]
            path = upload(client, "new.txt", b"after the upgrade")  # a table the old store lacked (v1)
            assert client.get(f"/gradio/gradio_api/file={path}").content == b"after the upgrade"
        with launched_client(launch) as client:  # bob's browser, "Keep me signed in": no password asked
            name = next(n for n in facts["bob_cookies"] if n.endswith("-session"))
            client.cookies.set(name, facts["bob_cookies"][name])
            assert client.get("/gradio/", follow_redirects=False).status_code == 200
            assert call_event(client, "load_notes", [])[0]["value"] == facts["notes"]["bob"]
    finally:
        assert app.stop() == 0
    conn = sqlite3.connect(data_dir / "desktop-app.sqlite3")
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_a_store_from_a_newer_release_is_refused_and_left_as_it_is(data_dir: Path) -> None:
    installed(STORES[-1], data_dir)
    store = data_dir / "desktop-app.sqlite3"
    with sqlite3.connect(store) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = store.read_bytes()
    for args in (("users", "list"), ("--headless",)):
        assert_one_line_error(run_cli(*args, "--data-dir", str(data_dir)), "newer version", "untouched")
    assert store.read_bytes() == before
