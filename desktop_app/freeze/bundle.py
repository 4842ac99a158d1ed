"""`desktop-app build`: a developer's project -> dist/<slug>/<slug> (and an installer).

The steps, each a one-line error when it cannot go on: what the build needs is
there (PyInstaller; for a .deb, dpkg's tools); the project's UI really builds
(in a process of its own, check_ui.py); the build plan (identity, icon) is
written under PROJECT/build/desktop-app/; PyInstaller runs app.spec with it;
installers.py packages the bundle. PyInstaller's own output goes to a log there,
named in the error when it fails.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from desktop_app.errors import UserError
from desktop_app.extras import pip_install
from desktop_app.freeze import installers
from desktop_app.identity import BUNDLED, BUNDLED_ICON, Identity
from desktop_app.project import Project

HERE = Path(__file__).resolve().parent
SPEC = HERE / "app.spec"
WORK = Path("build") / "desktop-app"  # under the project root: setuptools' build/ is scratch too


def build(project: Project, *, dist: Path, installer: str | None = None) -> Iterator[str]:
    """Yield a line for each thing made. `installer`: None, or one of
    installers.kind()'s answers."""
    _check_tools(installer)
    yield from _notes(project)
    work = project.root / WORK
    work.mkdir(parents=True, exist_ok=True)
    _check_ui(project, work)
    app = project.identity()
    plan = _write_plan(project, app, work)
    t0 = time.perf_counter()
    log = work / "pyinstaller.log"
    with log.open("w", encoding="utf-8") as out:
        r = subprocess.run(
            [sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm", "--clean", "--log-level", "WARN",
             "--distpath", str(dist), "--workpath", str(work / "pyinstaller"), "--", str(plan)],
            cwd=project.root, stdout=out, stderr=subprocess.STDOUT, check=False,
        )
    if r.returncode != 0:
        raise UserError(f"PyInstaller could not freeze {project.slug} (exit {r.returncode}); "
                        f"its output is in {str(log)!r}.")
    bundle = dist / app.slug
    yield f"built {bundle} ({_megabytes(bundle)} MB) in {time.perf_counter() - t0:.0f} s"
    if installer is not None:
        made = installers.make(installer, app, dist, work)
        yield f"built {made} ({made.stat().st_size >> 20} MB)"


def _notes(project: Project) -> Iterator[str]:
    """What ships as a stand-in unless the developer says otherwise."""
    from desktop_app.project_init import PLACEHOLDER_MARK

    if PLACEHOLDER_MARK in project.icon.read_bytes()[:512]:
        yield (f"note: {project.icon.relative_to(project.root)} is still the placeholder that `desktop-app init` made; "
               "replace it with your icon (a PNG of at least 512 px).")
    if not project.maintainer:
        yield (f"note: no maintainer with a name and an email in [project] maintainers or authors; the installers "
               f"say {project.identity().maintainer!r}.")


def _check_tools(installer: str | None) -> None:
    if importlib.util.find_spec("PyInstaller") is None:
        raise UserError(f"PyInstaller is not installed here; run: {pip_install('build')}.")
    if installer is not None:
        installers.check_tools(installer)


def _check_ui(project: Project, work: Path) -> None:
    # Their package from the project folder, as the spec will find it, whether
    # or not it is installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(project.source_root),
                                                                     os.environ.get("PYTHONPATH", "")]))}
    r = subprocess.run([sys.executable, "-m", "desktop_app.freeze.check_ui", project.ui, str(work)],
                       cwd=project.root, env=env, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise UserError(f"ui = {project.ui!r} in [tool.desktop-app] does not build: "
                        f"{installers.last_line(r.stderr, r.returncode)}", exit_code=2)


def _write_plan(project: Project, app: Identity, work: Path) -> Path:
    stage = work / "identity"
    stage.mkdir(exist_ok=True)
    (stage / BUNDLED).write_text(app.to_json(), encoding="utf-8")
    shutil.copyfile(app.icon, stage / BUNDLED_ICON)
    plan = {
        "root": str(project.root), "source_root": str(project.source_root), "ui": app.ui, "slug": app.slug,
        "name": app.name, "version": app.version,
        "bundle_id": app.bundle_id, "icon": app.icon,
        "identity_file": str(stage / BUNDLED), "icon_file": str(stage / BUNDLED_ICON),
        "distribution": _installed_distribution(project),
    }
    path = work / "plan.json"
    path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
    return path


def _installed_distribution(project: Project) -> str | None:
    """Their distribution's name when it is installed here (its metadata then
    goes into the bundle), else None."""
    from desktop_app.project import read_pyproject

    name = read_pyproject(project.root / "pyproject.toml").get("project", {}).get("name")
    if not isinstance(name, str):
        return None
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    return name


def _megabytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) >> 20
