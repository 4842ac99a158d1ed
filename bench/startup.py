"""Startup benchmark: launch -> READY, launch -> first 200 on /login, launch ->
the first Gradio page (signed in; waits for Gradio's background import), and
the resident memory after it; then the every-day launch, a browser whose session
is kept ("Keep me signed in"): launch -> the Gradio page and its config. Each
beside `import gradio` timed in fresh interpreters in the same run (the floor
these launches are measured against). Prints numbers; asserts nothing.

    .venv/bin/python bench/startup.py [--runs 5]                                    # python -m desktop_app
    .venv/bin/python bench/startup.py --command dist/desktop-app/desktop-app     # the frozen bundle
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

PASSWORD = "benchmark password"


def rss_mib(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1)) / 1024  # type: ignore[union-attr]


def start_headless(command: list[str], data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*command, "--headless", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        # Compiled bytecode, as an installed app has (see bench/window_start.py).
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )


def one_run(command: list[str], data_dir: Path) -> tuple[float, float, float, float]:
    t0 = time.perf_counter()
    proc = start_headless(command, data_dir)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        ready = time.perf_counter() - t0
        launch = line.split()[1]  # carries this launch's token
        parts = urlsplit(launch)
        base = f"{parts.scheme}://{parts.netloc}"
        with httpx.Client(base_url=base, timeout=30, headers={"origin": base}) as client:
            client.get(launch)  # swaps the token for its cookie, as the window does
            while client.get("/login").status_code != 200:
                time.sleep(0.005)
            login = time.perf_counter() - t0
            page = client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf": csrf})
            assert client.get("/gradio/").status_code == 200
            gradio = time.perf_counter() - t0
            for path in ("/gradio/config", "/gradio/theme.css"):
                assert client.get(path).status_code == 200, path
        return ready, login, gradio, rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def kept_session_run(command: list[str], data_dir: Path, session: tuple[str, str]) -> float:
    """A returning person: the browser holds its session cookie; the launch URL
    sends it straight on to the UI. Returns launch -> Gradio page and config."""
    t0 = time.perf_counter()
    proc = start_headless(command, data_dir)
    try:
        launch = proc.stdout.readline().split()[1]  # type: ignore[union-attr]
        parts = urlsplit(launch)
        base = f"{parts.scheme}://{parts.netloc}"
        with httpx.Client(base_url=base, timeout=60, headers={"origin": base},
                          cookies=dict([session]), follow_redirects=True) as client:
            r = client.get(launch, headers={"accept": "text/html"})  # -> /login -> /gradio/
            assert r.status_code == 200 and urlsplit(str(r.url)).path == "/gradio/", (r.status_code, r.url)
            assert client.get("/gradio/config").status_code == 200
            return time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(30)


def keep_me_signed_in(command: list[str], data_dir: Path) -> tuple[str, str]:
    """Sign in once with "Keep me signed in"; returns the session cookie."""
    proc = subprocess.Popen([*command, "--headless", "--data-dir", str(data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        launch = proc.stdout.readline().split()[1]  # type: ignore[union-attr]
        parts = urlsplit(launch)
        base = f"{parts.scheme}://{parts.netloc}"
        with httpx.Client(base_url=base, timeout=30, headers={"origin": base}) as client:
            client.get(launch)
            page = client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            r = client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf": csrf, "remember": "1"})
            assert r.status_code == 303, r.text
            name = next(c for c in client.cookies.jar if c.name.endswith("-session"))
            return name.name, name.value  # type: ignore[return-value]
    finally:
        proc.terminate()
        proc.wait(30)


def import_gradio_seconds() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import gradio"], check=True, capture_output=True,
                   env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--command", help="the app's executable (default: this Python's -m desktop_app)")
    args = parser.parse_args()
    runs = args.runs
    command = [args.command] if args.command else [sys.executable, "-m", "desktop_app"]
    print(" ".join(command))
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        subprocess.run(
            [*command, "users", "add", "bench", "--password-stdin", "--data-dir", str(data_dir)],
            input=PASSWORD + "\n", text=True, check=True, capture_output=True,
        )
        one_run(command, data_dir)  # warm the OS file cache; not counted
        results = [one_run(command, data_dir) for _ in range(runs)]
        session = keep_me_signed_in(command, data_dir)
        kept, imports = [], []
        for _ in range(runs):  # interleaved, so both see the same machine
            kept.append(kept_session_run(command, data_dir, session))
            imports.append(import_gradio_seconds())
    rows = [(name, [r[i] for r in results], unit) for i, name, unit in (
        (0, "launch -> READY", "s"), (1, "launch -> 200 on /login", "s"),
        (2, "launch -> first Gradio page", "s"), (3, "RSS after first Gradio page", "MiB"))]
    rows += [("kept session: -> page + config", kept, "s"), ("import gradio (python -c)", imports, "s")]
    for name, values, unit in rows:
        print(f"{name:32s} median {statistics.median(values):7.2f} {unit}   "
              f"min {min(values):.2f}  max {max(values):.2f}  (n={runs})")
    ratio = statistics.median(kept) / statistics.median(imports)
    print(f"{'kept session / import gradio':32s} {ratio:.2f}")


if __name__ == "__main__":
    main()
