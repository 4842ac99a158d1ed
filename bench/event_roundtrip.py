"""What the shell's filtering in front of Gradio costs a signed-in person: the
median time of a Gradio event (POST call + its result stream), a file upload,
and a ranged file fetch, over HTTP against the real app in this process. Prints
numbers; asserts nothing. Run it from a checkout (it imports the `desktop_app`
beside it), e.g. once on this one and once on an older one for a reference:

    .venv/bin/python bench/event_roundtrip.py [--runs 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))

from tests.support.helpers import PASSWORD, LiveServer, make_settings, sign_in  # noqa: E402


def median_ms(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=60)
    runs = parser.parse_args().runs
    live = LiveServer(make_settings(Path(tempfile.mkdtemp()) / "data"))
    try:
        live.services.accounts.create("alice", PASSWORD)
        with live.client() as client:
            sign_in(client, "alice")
            assert client.get("/gradio/").status_code == 200

            def event() -> None:
                r = client.post("/gradio/gradio_api/call/whoami", json={"data": []})
                with client.stream("GET", f"/gradio/gradio_api/call/whoami/{r.json()['event_id']}") as s:
                    assert "alice" in "".join(s.iter_lines())

            payload = b"x" * (256 << 10)

            def upload() -> str:
                r = client.post("/gradio/gradio_api/upload", files={"files": ("f.bin", payload, "text/plain")})
                assert r.status_code == 200, r.text
                return r.json()[0]

            path = upload()

            def ranged() -> None:
                assert client.get(f"/gradio/gradio_api/file={path}", headers={"range": "bytes=0-1023"}).status_code == 206

            for fn in (event, upload, ranged):  # warm up each route once
                fn()
            print(f"code: {Path.cwd()}  runs: {runs}")
            print(f"event (call + result stream): {median_ms(event, runs):.1f} ms")
            print(f"upload of 256 KiB:            {median_ms(upload, runs):.1f} ms")
            print(f"ranged file fetch (1 KiB):    {median_ms(ranged, runs):.1f} ms")
    finally:
        live.close()


if __name__ == "__main__":
    main()
