"""The README tells the truth: every setting is documented, and CI runs exactly
the test command the README shows."""

from __future__ import annotations

import re
from pathlib import Path

from desktop_app.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_flag_and_env_var_is_documented() -> None:
    parser = build_parser()
    flags = {opt for action in parser._actions for opt in action.option_strings
             if opt.startswith("--") and opt not in ("--help", "--version")}
    assert len(flags) >= 10
    for flag in flags:
        assert f"`{flag}" in README, f"{flag} is not in the README's settings table"
        env = "DESKTOP_APP_" + flag[2:].replace("-", "_").upper()
        assert env in README, f"{env} is not in the README"


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    test_command = next(b for b in blocks if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text()
    run_command = next(b for b in blocks if "desktop-app --headless" in b)
    assert README.index(run_command) < README.index(test_command) < 2000  # on the first screen
