"""Desktop start benchmark, under Xvfb (started here):

- process start -> loading screen shown (the window's first page loaded)
- process start -> login page loaded in the window
- submit on the login page -> Gradio UI usable (in headless Chromium:
  the Notes box enabled, i.e. the page loaded and its first event ran)

Wall-clock timestamps come from the app's own log lines, compared with the
time taken just before the process was spawned. Prints numbers; asserts nothing.

    .venv/bin/python bench/window_start.py [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "benchmark password"
LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*page (\d+) loaded in the window")


# How to start the app: `python -m desktop_app`, or --command (the frozen bundle, say).
COMMAND = [sys.executable, "-m", "desktop_app"]


def start_xvfb() -> tuple[subprocess.Popen, str]:
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        return proc, ":" + f.readline().strip()


def window_run(data_dir: Path, display: str) -> tuple[float, float]:
    log = data_dir / "logs" / "desktop-app.log"
    log.unlink(missing_ok=True)
    env = {**os.environ, "DISPLAY": display}
    t0 = time.time()
    proc = subprocess.Popen([*COMMAND, "--data-dir", str(data_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 60
        loads: dict[int, float] = {}
        while len(loads) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            if log.exists():
                for line in log.read_text().splitlines():
                    m = LINE.match(line)
                    if m:
                        stamp = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
                        loads[int(m.group(2))] = stamp - t0
        return loads[1], loads[2]
    finally:
        proc.terminate()
        proc.wait(30)


def login_to_ui(data_dir: Path, runs: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    proc = subprocess.Popen([*COMMAND, "--headless", "--data-dir", str(data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    launch = proc.stdout.readline().split()[1]  # type: ignore[union-attr]
    times = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page()
            page.goto(launch)  # this launch's token, then Gradio built once; not counted
            page.fill("#username", "bench")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#notes-box textarea:not([disabled])", timeout=60_000)
            for _ in range(runs):
                page.context.clear_cookies()
                page.goto(launch)  # a fresh browser: the token first, then the login page
                page.wait_for_selector("#username")
                page.fill("#username", "bench")
                page.fill("#password", PASSWORD)
                t0 = time.perf_counter()
                page.click("button[type=submit]")
                page.wait_for_selector("#notes-box textarea:not([disabled])", timeout=60_000)
                times.append(time.perf_counter() - t0)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(30)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--command", help="the app's executable (default: this Python's -m desktop_app)")
    args = parser.parse_args()
    runs = args.runs
    if args.command:
        COMMAND[:] = [args.command]
    print(" ".join(COMMAND))
    xvfb, display = start_xvfb()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp) / "data"
            subprocess.run([*COMMAND, "users", "add", "bench", "--password-stdin",
                            "--data-dir", str(data_dir)], input=PASSWORD + "\n", text=True, check=True,
                           capture_output=True)
            window_run(data_dir, display)  # warm the file cache; not counted
            results = [window_run(data_dir, display) for _ in range(runs)]
            submit = login_to_ui(data_dir, runs)
    finally:
        xvfb.terminate()
    rows = [("start -> loading screen shown", [r[0] for r in results]),
            ("start -> login page loaded", [r[1] for r in results]),
            ("login submit -> Gradio UI usable", submit)]
    for name, values in rows:
        print(f"{name:34s} median {statistics.median(values):6.3f} s   "
              f"min {min(values):.3f}  max {max(values):.3f}  (n={len(values)})")


if __name__ == "__main__":
    main()
