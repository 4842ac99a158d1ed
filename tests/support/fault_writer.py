"""A process that writes to the store as fast as it can, until it is killed.

Each user value is a JSON record that carries a checksum of its own payload,
so a reader can tell a wholly written record from a torn one. Says "writing"
once it has done its first write (on stdout, or through `ready`), so the killer
knows the loop is under way.

    python tests/support/fault_writer.py STORE_PATH SEED

or, started many times over, `write_until_killed` in a process forked from a
forkserver that has imported this module once (tests/test_faults.py).
"""

from __future__ import annotations

import hashlib
import random
import sys
from collections.abc import Callable
from pathlib import Path

from desktop_app.store.db import Database
from desktop_app.store.sessions import SqlSessionStore


def record(rng: random.Random, n: int) -> dict:
    payload = "".join(rng.choice("abcdefghij") for _ in range(rng.randint(10, 20_000)))
    return {"n": n, "payload": payload, "sha": hashlib.sha256(payload.encode()).hexdigest()}


def main() -> None:
    write_until_killed(sys.argv[1], int(sys.argv[2]), lambda: print("writing", flush=True))


def run_forked(path: str, seed: int, ready) -> None:  # type: ignore[no-untyped-def]  # a multiprocessing Event
    write_until_killed(path, seed, ready.set)


def write_until_killed(path: str, seed: int, ready: Callable[[], object]) -> None:
    rng = random.Random(seed)
    store = SqlSessionStore(Database(Path(path)), idle_seconds=3600, max_seconds=86400)
    n = 0
    while True:
        n += 1
        user = f"user{rng.randint(0, 9)}"
        store.set_user_value(user, f"key{rng.randint(0, 4)}", record(rng, n))
        token, _ = store.create(user, {"n": n})
        store.update_data(token, {"m": n})
        if rng.random() < 0.3:
            store.delete_user(f"user{rng.randint(0, 9)}")
        if n == 1:
            ready()


if __name__ == "__main__":
    main()
