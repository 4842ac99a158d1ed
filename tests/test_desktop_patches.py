"""The pywebview fixes' version guard (desktop/patches.py), without a window:
what each fix does is tested in the real window (test_desktop.py)."""

from __future__ import annotations

import pytest

from desktop_app.desktop.patches import applies


@pytest.mark.parametrize(("installed", "expected"), [
    ("6.2.1", True), ("6.2", True), ("5.4", True),  # the releases the fixes were made for
    ("6.3.0", False), ("7.0", False), ("6.10.1", False),  # newer: pywebview as it is
    ("not-a-version", False),
])
def test_a_fix_applies_only_to_the_releases_it_was_made_for(installed: str, expected: bool) -> None:
    assert applies("a fix", installed=installed) is expected


def test_the_installed_pywebview_gets_the_fixes() -> None:
    # pinned at 6.2.1 (pyproject.toml): a release bump must re-test them and raise FIXED_UP_TO
    assert applies("a fix") is True
