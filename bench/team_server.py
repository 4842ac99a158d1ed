"""A team server's throughput through haproxy: sign-ins per second and Gradio
events per second with one instance of `desktop-app serve` and with two, on one
PostgreSQL, behind the shipped deploy/haproxy.cfg with TLS (tests/support:
throwaway PostgreSQL and haproxy). The load comes from worker processes on the
same machine, so on 2 cores they compete with the instances: the ratio of two
instances to one is the number to read. Prints a table; asserts nothing.

    .venv/bin/python bench/team_server.py [--seconds 10] [--workers 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))

from tests.support.helpers import PASSWORD, AppProcess, make_settings, sign_in  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.proxies import Haproxy, free_port, public_url  # noqa: E402


def _worker(kind: str, url: str, name: str, seconds: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    import httpx

    from tests.test_web import call_event

    done = errors = 0
    headers = {"origin": url}
    with httpx.Client(base_url=url, verify=False, timeout=30, headers=headers) as client:
        if kind == "events":
            assert sign_in(client, name).status_code == 303
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                if kind == "events":
                    call_event(client, "whoami", [])
                else:  # a new browser each time: the proxy spreads them over the instances
                    with httpx.Client(base_url=url, verify=False, timeout=30, headers=headers) as fresh:
                        if sign_in(fresh, name).status_code != 303:
                            raise RuntimeError("sign-in refused")
                done += 1
            except Exception:
                errors += 1
    out.put((done, errors))


def _load(kind: str, url: str, names: list[str], seconds: float) -> tuple[float, int]:
    out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    procs = [multiprocessing.Process(target=_worker, args=(kind, url, name, seconds, out)) for name in names]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(30)
    elapsed = time.monotonic() - t0
    return sum(r[0] for r in results) / max(elapsed, seconds), sum(r[1] for r in results)


def measure(instances: int, pg_url: str, root: Path, names: list[str], seconds: float) -> dict[str, tuple[float, int]]:
    front, ports = free_port(), [free_port() for _ in range(instances)]
    apps = [AppProcess(root / f"i{instances}-{n}", "serve", "--store", pg_url, "--public-url", public_url(front),
                       "--port", str(port), headless=False) for n, port in enumerate(ports)]
    proxy = None
    try:
        import httpx

        for app in apps:
            app.wait_ready()
            while httpx.get(f"{app.url}/readyz").status_code != 200:
                time.sleep(0.2)
        proxy = Haproxy(front, [(f"app{n + 1}", port) for n, port in enumerate(ports)])
        proxy.wait_until([f"app{n + 1}" for n in range(instances)])
        return {"sign-ins/s": _load("sign-ins", proxy.url, names, seconds),
                "Gradio events/s": _load("events", proxy.url, names, seconds)}
    finally:
        if proxy is not None:
            proxy.close()
        for app in apps:
            app.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    from desktop_app.store import open_store
    from desktop_app.store.pg import migrate

    postgres = PostgresServer()
    try:
        pg_url = postgres.new_database()
        migrate(pg_url)
        root = Path(tempfile.mkdtemp())
        names = [f"user{i}" for i in range(args.workers)]
        store = open_store(make_settings(root / "admin", store=pg_url))  # the product's argon2id cost
        for name in names:
            store.accounts.create(name, PASSWORD)
        store.close()
        results = {n: measure(n, pg_url, root, names, args.seconds) for n in (1, 2)}
    finally:
        postgres.close()
    print(f"{os.cpu_count()} cores, {args.workers} client processes, {args.seconds:g} s each, through haproxy (TLS)")
    print(f"{'':18}{'1 instance':>14}{'2 instances':>14}{'2 / 1':>8}")
    for metric in ("sign-ins/s", "Gradio events/s"):
        one, two = results[1][metric], results[2][metric]
        errors = one[1] + two[1]
        print(f"{metric:18}{one[0]:14.1f}{two[0]:14.1f}{two[0] / one[0]:8.2f}" + (f"   ({errors} errors)" if errors else ""))


if __name__ == "__main__":
    main()
