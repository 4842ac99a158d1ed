"""`desktop-app build --ci github`: a GitHub Actions workflow in the developer's
repository that builds their app and its installers on Linux, Windows and
macOS, smoke-tests the frozen app and keeps the installers as artifacts.

The workflow is text made from the project's identity, written to
.github/workflows/build.yml. It is written again (after a change to
[tool.desktop-app]) only over a file this command made, recognised by its first
line; this repository's own workflow is one of them (tests/test_workflow.py).
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

from desktop_app.errors import UserError
from desktop_app.identity import Identity
from desktop_app.project import Project, read_pyproject

MARK = "# Made by `desktop-app build --ci github`"
PATH = Path(".github") / "workflows" / "build.yml"
PYTHON = "3.11"  # the oldest Python the tool supports: what builds there runs on newer ones too
EXTRAS = "window,build"


def write_github_workflow(project: Project) -> Path:
    path = project.root / PATH
    if path.exists() and not path.read_text(encoding="utf-8", errors="replace").startswith(MARK):
        raise UserError(f"{str(path)!r} exists and was not made by desktop-app; move it away, or rename it, "
                        "and run this again.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(github_workflow(project.identity(), install_command(project)), encoding="utf-8")
    return path


def install_command(project: Project) -> str:
    """What the workflow installs: the project, the window and PyInstaller."""
    name = read_pyproject(project.root / "pyproject.toml").get("project", {}).get("name")
    if name == "desktop-app":  # this repository: the tool is the project
        return f"python -m pip install '.[{EXTRAS}]'"
    return f"python -m pip install . {_quote(tool_requirement())}"


def tool_requirement() -> str:
    """desktop-app as the developer has it: from the same git commit when it
    was installed from git (PEP 610's direct_url.json), else this version
    from their package index."""
    try:
        dist = importlib.metadata.distribution("desktop-app")
    except importlib.metadata.PackageNotFoundError:
        from desktop_app.identity import VERSION

        return f"desktop-app[{EXTRAS}]=={VERSION}"
    direct = dist.read_text("direct_url.json")
    if direct:
        info = json.loads(direct)
        vcs = info.get("vcs_info")
        if isinstance(vcs, dict) and vcs.get("vcs") == "git":
            return f"desktop-app[{EXTRAS}] @ git+{info['url']}@{vcs.get('commit_id', '')}".rstrip("@")
    return f"desktop-app[{EXTRAS}]=={dist.version}"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def github_workflow(app: Identity, install: str) -> str:
    name = json.dumps(app.name)  # a JSON string is a YAML double-quoted scalar
    return f"""{MARK} for {app.name}: run it again after
# changing [tool.desktop-app]. It builds the app and its installers on each
# system, smoke-tests the frozen app, and keeps the installers as artifacts.
# Linux builds on the oldest Ubuntu here: a onedir bundle needs the build
# machine's glibc or newer.
name: build

on:
  push:
    tags: ["v*"]
  pull_request:
  workflow_dispatch:

jobs:
  build:
    strategy:
      fail-fast: false
      matrix:
        os: [ubuntu-22.04, windows-2022, macos-14]
    runs-on: ${{{{ matrix.os }}}}
    defaults:
      run:
        shell: bash
    env:
      APP_NAME: {name}
      APP_SLUG: {app.slug}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "{PYTHON}"

      - name: System packages (Linux)
        if: runner.os == 'Linux'
        run: |
          sudo apt-get update -q
          sudo apt-get install -y -q gcc pkg-config libgirepository1.0-dev libcairo2-dev \\
            gir1.2-webkit2-4.1 dpkg-dev file desktop-file-utils

      - name: Inno Setup (Windows)
        if: runner.os == 'Windows'
        run: command -v iscc || test -f "/c/Program Files (x86)/Inno Setup 6/ISCC.exe" || choco install innosetup -y --no-progress

      - name: Install
        run: {install}

      - name: Bundle and installer (desktop-app build)
        env:
          CODESIGN_IDENTITY: ${{{{ secrets.MACOS_CODESIGN_IDENTITY }}}}
          NOTARY_PROFILE: ${{{{ secrets.MACOS_NOTARY_PROFILE }}}}
        run: python -m desktop_app build --installer

      - name: Smoke test the frozen app
        run: |
          exe="dist/$APP_SLUG/$APP_SLUG"
          if [ "$RUNNER_OS" = Windows ]; then exe="dist/$APP_SLUG/$APP_SLUG-cli.exe"; fi
          if [ "$RUNNER_OS" = macOS ]; then exe="dist/$APP_NAME.app/Contents/MacOS/$APP_SLUG"; fi
          "$exe" --version
          data="$RUNNER_TEMP/data"
          echo "a smoke test password" | "$exe" users add ci --password-stdin --data-dir "$data"
          "$exe" --headless --data-dir "$data" > ready.txt &
          pid=$!
          for _ in $(seq 120); do grep -q '^READY ' ready.txt && break; sleep 1; done
          url="$(sed -n 's/^READY //p' ready.txt)"
          test -n "$url"
          curl -fsS -o /dev/null -c cookies "$url" && curl -fsS -b cookies "${{url%%/_launch*}}/login" | grep -q "Sign in"
          kill "$pid"   # SIGTERM; Git Bash on Windows ends the process instead
          wait "$pid" || true

      - name: Install and remove the .deb (Linux)
        if: runner.os == 'Linux'
        run: |
          sudo apt-get install -y ./dist/*.deb
          "$APP_SLUG" --version
          sudo apt-get remove -y "$APP_SLUG"

      - uses: actions/upload-artifact@v4
        with:
          name: installer-${{{{ matrix.os }}}}
          path: |
            dist/*.deb
            dist/*-setup.exe
            dist/*.dmg
          if-no-files-found: error
"""
