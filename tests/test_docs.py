"""The docs tell the truth: the settings page is the settings table, links lead
somewhere, and CI runs exactly the test command the README shows."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from desktop_app.cli import build_parser
from desktop_app.settings import OPTIONS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"


def _settings_rows() -> dict[str, tuple[str, str, str]]:
    """docs/settings.md's table: flag -> (metavar, variable, default cell)."""
    rows = {}
    for line in (DOCS / "settings.md").read_text().splitlines():
        match = re.match(r"\| `(--[a-z-]+) ?([^`]*)` \| `(DESKTOP_APP_\w+)` \| (.*?) \|", line)
        if match:
            rows[match[1]] = (match[2].replace("\\|", "|"), match[3], match[4].replace("`", ""))
    return rows


def test_the_settings_page_is_the_settings_table() -> None:
    # One table (settings.OPTIONS) makes the CLI and Settings; this page must say the same.
    rows = _settings_rows()
    assert set(rows) == {option.flag for option in OPTIONS}, "docs/settings.md lists other settings than OPTIONS"
    for option in OPTIONS:
        metavar, env, default = rows[option.flag]
        assert (metavar, env) == (option.metavar or "", option.env), option.flag
        assert option.default.split(",")[0] in default, f"{option.flag}: the page's default is not {option.default!r}"
    parser = build_parser()
    serve = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["serve"]
    flags = {opt for p in (parser, serve) for action in p._actions for opt in action.option_strings
             if opt.startswith("--") and opt not in ("--help", "--version")}
    assert flags == {option.flag for option in OPTIONS}


def test_every_relative_link_in_the_docs_leads_somewhere() -> None:
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    test_command = next(b for b in blocks if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text()
    run_command = next(b for b in blocks if "desktop-app --headless" in b)
    assert README.index(run_command) < README.index(test_command) < 2000  # on the first screen
