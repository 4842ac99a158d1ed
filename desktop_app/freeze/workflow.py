"""`desktop-app build --ci github`: a GitHub Actions workflow in the developer's
repository that builds their app and its installers on Linux, Windows and
macOS, smoke-tests the frozen app and keeps the installers as artifacts.

The workflow is text made from the project's identity, written to
.github/workflows/build.yml. It is written again (after a change to
[tool.desktop-app]) only over a file this command made, recognised by its first
line; this repository's own workflow is one of them (tests/test_devtools.py).
"""

from __future__ import annotations

import importlib.metadata
import json
import shlex
from pathlib import Path

from desktop_app.errors import UserError
from desktop_app.identity import Identity
from desktop_app.project import Project, read_pyproject

MARK = "# Made by `desktop-app build --ci github`"
PATH = Path(".github") / "workflows" / "build.yml"
PYTHON = "3.11"  # the oldest Python the tool supports: what builds there runs on newer ones too
EXTRAS = "window,build"


def write_github_workflow(project: Project) -> Path:
    git_root = _git_root(project.root)
    if git_root is not None and git_root != project.root:
        raise UserError(f"GitHub reads workflows only at the repository's root ({str(git_root)!r}), and this "
                        f"project is in {str(project.root.relative_to(git_root))!r}; move the project to the root, "
                        "or write the workflow there yourself.", exit_code=2)
    path = project.root / PATH
    if path.is_symlink() or (path.exists() and not path.read_text(encoding="utf-8", errors="replace").startswith(MARK)):
        raise UserError(f"{str(path)!r} exists and was not made by desktop-app; move it away, or rename it, "
                        "and run this again.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(github_workflow(project.identity(), install_step(project)), encoding="utf-8")
    return path


def _git_root(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def install_step(project: Project) -> str:
    """The workflow's Install step: the project, the window and PyInstaller.
    Never "desktop-app" from PyPI: that name there is another project."""
    name = read_pyproject(project.root / "pyproject.toml").get("project", {}).get("name")
    if name == "desktop-app":  # this repository: the tool is the project
        return f"""      - name: Install
        run: python -m pip install '.[{EXTRAS}]'
"""
    source = tool_source()
    if source is not None:  # the tool as the developer has it: that commit, or that wheel
        return f"""      - name: Install
        run: |
          python -m pip install . {shlex.quote(f"desktop-app[{EXTRAS}] @ {source}")}
"""
    return f"""      - name: Install
        # Where pip finds desktop-app: set the repository variable DESKTOP_APP_SOURCE
        # (Settings > Secrets and variables > Actions > Variables) to a git URL such
        # as git+https://github.com/OWNER/desktop-app@v0.1.0, or a wheel's URL.
        env:
          DESKTOP_APP_SOURCE: ${{{{ vars.DESKTOP_APP_SOURCE }}}}
        run: |
          if [ -z "$DESKTOP_APP_SOURCE" ]; then
            echo "::error::Set the repository variable DESKTOP_APP_SOURCE to where pip finds desktop-app (a git URL or a wheel's URL)."
            exit 1
          fi
          python -m pip install . "desktop-app[{EXTRAS}] @ $DESKTOP_APP_SOURCE"
"""


def tool_source() -> str | None:
    """Where this desktop-app came from, when CI can get it there too (PEP 610's
    direct_url.json): a git commit, or a wheel's http(s) URL. None for a local
    folder or wheel, or an index (the name on PyPI is another project's)."""
    try:
        direct = importlib.metadata.distribution("desktop-app").read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return None
    if not direct:
        return None
    info = json.loads(direct)
    url = info.get("url", "")
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and url.startswith(("https://", "ssh://")):
        commit = vcs.get("commit_id")
        return f"git+{url}@{commit}" if commit else f"git+{url}"
    if "archive_info" in info and url.startswith("https://"):
        return url
    return None


def github_workflow(app: Identity, install: str) -> str:
    """`install`: the Install step (install_step)."""
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

{install}
      - name: Bundle and installer (desktop-app build)
        env:
          CODESIGN_IDENTITY: ${{{{ secrets.MACOS_CODESIGN_IDENTITY }}}}
          NOTARY_PROFILE: ${{{{ secrets.MACOS_NOTARY_PROFILE }}}}
        run: python -m desktop_app build --installer

      - name: Smoke test the frozen app
        run: |
          # As a person would: an account from its CLI, then headless: open the
          # launch URL, sign in, load the Gradio config; SIGTERM.
          exe="dist/$APP_SLUG/$APP_SLUG"
          if [ "$RUNNER_OS" = Windows ]; then exe="dist/$APP_SLUG/$APP_SLUG-cli.exe"; fi
          if [ "$RUNNER_OS" = macOS ]; then exe="dist/$APP_NAME.app/Contents/MacOS/$APP_SLUG"; fi
          "$exe" --version
          data="$RUNNER_TEMP/data"
          password="a smoke test password"
          echo "$password" | "$exe" users add ci --password-stdin --data-dir "$data"
          "$exe" --headless --data-dir "$data" > ready.txt &
          pid=$!
          trap 'kill "$pid" 2>/dev/null || true' EXIT   # stopped even when a step below fails
          for _ in $(seq 120); do grep -q '^READY ' ready.txt && break; sleep 1; done
          launch="$(sed -n 's/^READY //p' ready.txt)"
          test -n "$launch"
          base="${{launch%%/_launch*}}"
          curl -fsS -o /dev/null -c cookies -b cookies "$launch"
          csrf="$(curl -fsS -c cookies -b cookies "$base/login" | sed -n 's/.*name="csrf" value="\\([^"]*\\)".*/\\1/p')"
          test -n "$csrf"
          signed_in="$(curl -sS -o /dev/null -w '%{{http_code}}' -c cookies -b cookies -H "Origin: $base" \\
            --data-urlencode username=ci --data-urlencode "password=$password" \\
            --data-urlencode "csrf=$csrf" --data-urlencode next=/gradio/ "$base/login")"
          test "$signed_in" = 303
          curl -fsS --max-time 120 -o /dev/null -b cookies "$base/gradio/config"
          kill "$pid"   # SIGTERM; Git Bash on Windows ends the process instead
          wait "$pid" || true
          trap - EXIT

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
