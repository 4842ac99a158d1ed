"""A burst of concurrent logins cannot exhaust memory: at most two argon2
hashes (64 MiB each) run at once, however many requests arrive; and a burst
for one name cannot outrun its throttling."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from tests.support.helpers import PASSWORD, AppProcess, csrf_from, launched_client, run_cli, sign_in

# The caps here are on the product's hashes: their memory and their time.
pytestmark = pytest.mark.production_kdf

BURST = 16


def peak_rss_mib(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1)) / 1024  # type: ignore[union-attr]


def test_concurrent_logins_are_capped(data_dir: Path) -> None:
    run_cli("users", "add", "alice", "--password-stdin", "--data-dir", str(data_dir), input=PASSWORD + "\n")
    app = AppProcess(data_dir)
    try:
        launch = app.wait_ready()
        with launched_client(launch) as client:  # one real login first: warm, and a baseline
            assert sign_in(client, "alice").status_code == 303
            client.get("/gradio/")  # let Gradio finish loading, so its memory is in the baseline
        before = peak_rss_mib(app.proc.pid)
        statuses: list[int] = []

        def attempt(i: int) -> None:
            with launched_client(launch) as c:
                statuses.append(sign_in(c, f"nobody{i}", "wrong password").status_code)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(BURST)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        grew = peak_rss_mib(app.proc.pid) - before
        assert statuses == [401] * BURST
        # Uncapped, 16 hashes at once would need ~1 GiB; two at a time fit in ~130 MiB.
        assert grew < 200, f"peak memory grew by {grew:.0f} MiB during {BURST} concurrent logins"
        print(f"{BURST} concurrent logins: peak RSS grew by {grew:.0f} MiB")
    finally:
        app.kill()


ONE_NAME_BURST = 12


def test_concurrent_wrong_passwords_for_one_name_stay_within_the_policy(live_with) -> None:  # type: ignore[no-untyped-def]
    """Twelve sign-ins for one name at the same moment, all wrong: the policy (5 free
    failures, then a lock of 1 s) allows five or six password checks, however the
    requests overlap. A 401 means a password was checked; 429 means it was not."""
    live = live_with(with_ui=False)
    ready = threading.Barrier(ONE_NAME_BURST)
    statuses: list[int] = []

    def attempt() -> None:
        with live.client() as c:
            page = c.get("/login")
            ready.wait(30)  # every form loaded: now all post together
            r = c.post("/login", data={"username": "alice", "password": "wrong password",
                                       "csrf": csrf_from(page.text), "next": "/gradio/"})
            statuses.append(r.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(ONE_NAME_BURST)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert set(statuses) <= {401, 429} and len(statuses) == ONE_NAME_BURST, statuses
    checked = statuses.count(401)
    print(f"{ONE_NAME_BURST} concurrent wrong sign-ins for one name: {checked} passwords checked")
    assert checked <= 6, f"{checked} of {ONE_NAME_BURST} concurrent attempts had their password checked"
