from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import PASSWORD, LiveServer, make_settings


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def live(data_dir: Path) -> Iterator[LiveServer]:
    """A fresh app (no accounts yet) on a free loopback port."""
    server = LiveServer(make_settings(data_dir))
    yield server
    server.close()


@pytest.fixture
def live_with_user(live: LiveServer) -> LiveServer:
    live.services.accounts.create("alice", PASSWORD)
    return live
