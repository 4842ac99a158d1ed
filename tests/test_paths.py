"""Where files live, and who else may touch them: a directory the app creates is
owner-only, and a directory that already exists is used as it is or refused,
never chmod-ed (`--data-dir /tmp` must not change /tmp)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from desktop_app.errors import UserError
from desktop_app.paths import ensure_private_dir
from tests.support.helpers import PASSWORD, assert_one_line_error, run_cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mode", [0o1777, 0o777, 0o770, 0o730])  # /tmp, an open dir, a group's dirs
def test_a_data_dir_others_can_write_is_refused_and_left_alone(tmp_path: Path, mode: int) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, mode)
    expected = (repr(str(shared)), "other users can write to it", "Choose another with --data-dir")
    for args in (["users", "list"], ["users", "add", "alice", "--password-stdin"]):
        assert_one_line_error(run_cli(*args, "--data-dir", str(shared), input=PASSWORD + "\n"), *expected)
    assert list(shared.iterdir()) == []  # no store, no lock
    assert_one_line_error(run_cli("--headless", "--data-dir", str(shared)), *expected)
    assert mode_of(shared) == mode


def test_a_data_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another user needs root")
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)  # nobody: they could replace anything we keep there
    r = run_cli("users", "list", "--data-dir", str(theirs))
    assert_one_line_error(r, repr(str(theirs)), "belongs to another user", "--data-dir")
    assert list(theirs.iterdir()) == [] and mode_of(theirs) == 0o700


def test_a_new_nested_data_dir_is_created_owner_only(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    data = tmp_path / "made" / "by" / "us"
    r = run_cli("users", "add", "alice", "--password-stdin", "--data-dir", str(data), input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    # Every directory the app made is owner-only (XDG's rule for the directories an app creates) ...
    for made in (tmp_path / "made", tmp_path / "made" / "by", data):
        assert mode_of(made) == 0o700, made
    # ... and the one that was there is as it was.
    assert mode_of(tmp_path) == 0o755


def test_an_existing_data_dir_only_others_can_read_is_used_as_it_is(tmp_path: Path) -> None:
    # The person's own directory, their choice of mode: the app adds owner-only files and leaves the mode alone.
    mine = tmp_path / "mine"
    mine.mkdir()
    os.chmod(mine, 0o755)
    r = run_cli("users", "add", "alice", "--password-stdin", "--data-dir", str(mine), input=PASSWORD + "\n")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert mode_of(mine) == 0o755
    assert mode_of(mine / "desktop-app.sqlite3") == 0o600
    assert run_cli("users", "list", "--data-dir", str(mine)).stdout.startswith("alice\t")


def test_a_data_dir_that_is_a_file_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("my notes")
    r = run_cli("users", "list", "--data-dir", str(blocker))
    assert_one_line_error(r, repr(str(blocker)), "not a directory", "--data-dir")
    assert blocker.read_text() == "my notes"


@pytest.mark.parametrize(("what", "flag"), [("cache directory", "--cache-dir"), ("log directory", "--log-dir")])
def test_the_cache_and_log_dirs_get_the_same_rules(tmp_path: Path, what: str, flag: str) -> None:
    # gradio_mount.prepare_gradio_environment and logs.setup_logging call this with their own flag.
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    with pytest.raises(UserError, match=f"Cannot use {what} .*other users can write.*Choose another with {flag}"):
        ensure_private_dir(shared, what=what, flag=flag)
    assert mode_of(shared) == 0o1777
    made = ensure_private_dir(shared / "mine" / "gradio", what=what, flag=flag)
    assert mode_of(made) == mode_of(made.parent) == 0o700
    assert mode_of(shared) == 0o1777
