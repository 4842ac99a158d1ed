from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.helpers import PASSWORD, LiveServer, make_settings, run_cli
from tests.support.postgres import PostgresServer, binaries
from tests.support.xdisplay import VirtualDisplay

SAMPLE = Path(__file__).parent / "sample_project"  # a third party's project (its own package, data, table)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of tests/sample_project, to build or to spoil."""
    root = tmp_path / "converter-project"
    shutil.copytree(SAMPLE, root)
    return root


def production_kdf(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("production_kdf") is not None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A module marked both_stores runs each test that uses a live server twice:
    # on the SQLite file, and on a team server's PostgreSQL.
    if "store_backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_stores"):
        metafunc.parametrize("store_backend", ["sqlite", "postgresql"])


@pytest.fixture
def store_backend() -> str:
    return "sqlite"


def store_flags(request: pytest.FixtureRequest, backend: str) -> dict[str, object]:
    return {"store": request.getfixturevalue("pg_url")} if backend == "postgresql" else {}


@pytest.fixture
def live(data_dir: Path, request: pytest.FixtureRequest, store_backend: str) -> Iterator[LiveServer]:
    """A fresh app (no accounts yet) on a free loopback port."""
    server = LiveServer(make_settings(data_dir, **store_flags(request, store_backend)),
                        production_kdf=production_kdf(request))
    yield server
    server.close()


@pytest.fixture
def live_with_user(live: LiveServer) -> LiveServer:
    live.services.accounts.create("alice", PASSWORD)
    return live


@pytest.fixture
def live_with(data_dir: Path, request: pytest.FixtureRequest,
              store_backend: str) -> Iterator[Callable[..., LiveServer]]:
    """Like live_with_user, with settings flags (and LiveServer options) of the test's choosing:
    `live_with(max_upload="1kb")`, `live_with(with_ui=False, launch_token="...")`."""
    servers: list[LiveServer] = []

    def start(*, with_ui: bool = True, launch_token: str | None = None, **flags: object) -> LiveServer:
        server = LiveServer(make_settings(data_dir, **store_flags(request, store_backend), **flags),
                            with_ui=with_ui, launch_token=launch_token,
                            production_kdf=production_kdf(request))
        servers.append(server)
        server.services.accounts.create("alice", PASSWORD)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def long_first_lock(monkeypatch: pytest.MonkeyPatch) -> int:
    """The throttle's first lock (1 s, after the 5th failure) made a minute long, for
    tests that sign in to a locked name over HTTP, with the servers in this process.
    On a loaded machine more than a second can pass between the 5th failure and the
    next request, and the lock is then rightly over (seen under `-n 4`: a 303 where a
    refusal was expected). The counting and the later locks are the store's own."""
    from desktop_app.store import throttle

    real, minute = throttle.lock_seconds, 60
    monkeypatch.setattr(throttle, "lock_seconds", lambda failures: minute if real(failures) == 1 else real(failures))
    return minute


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the run (tests/support/postgres.py)."""
    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run installs it (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """A database of this test's own, with the store's tables (`store init`'s migrate)."""
    from desktop_app.store.pg import migrate

    url = postgres.new_database()
    migrate(url)
    return url


@pytest.fixture(scope="module")
def xdisplay() -> Iterator[VirtualDisplay]:
    """A virtual X display (Xvfb) for window tests, shared by one module's tests."""
    display = VirtualDisplay()
    yield display
    display.close()


@pytest.fixture
def account(data_dir: Path) -> Path:
    """A data dir with the account alice, made through the CLI."""
    r = run_cli("users", "add", "alice", "--password-stdin", "--data-dir", str(data_dir), input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    return data_dir


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs: a disk the test can fill up."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount_point)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"cannot mount a tmpfs: {r.stderr}"
    yield mount_point
    subprocess.run(["umount", "--lazy", str(mount_point)], check=False)


def remount_read_only(mount_point: Path) -> None:
    r = subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], capture_output=True, text=True)
    assert r.returncode == 0, f"cannot remount read-only: {r.stderr}"
