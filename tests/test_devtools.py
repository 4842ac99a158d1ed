"""The developer's commands in their own project, short of freezing it (that is
tests/test_packaging.py): `build --ci github`, the Windows installer's script,
`run`, and `build`'s one-line refusals."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from PIL import Image

from desktop_app.errors import UserError
from desktop_app.freeze.installers import debian_version, write_inno_setup
from desktop_app.freeze.workflow import MARK, github_workflow, install_step, tool_source
from desktop_app.identity import DEMO
from desktop_app.project import load_project
from tests.support.helpers import APP_COMMAND, PASSWORD, AppProcess, assert_one_line_error, run_cli

ROOT = Path(__file__).resolve().parent.parent




# -- build --ci github ----------------------------------------------------------
def test_this_repositorys_workflow_is_the_generated_one() -> None:
    project = load_project(ROOT / "pyproject.toml")
    written = (ROOT / ".github" / "workflows" / "build.yml").read_text()
    assert written == github_workflow(project.identity(), install_step(project)), (
        "regenerate it: python -m desktop_app build --ci github")


def test_the_workflow_builds_the_project_on_each_system(project: Path) -> None:
    r = run_cli("build", "--ci", "github", cwd=project)
    assert r.returncode == 0, r.stderr
    assert "set the repository variable DESKTOP_APP_SOURCE" in r.stdout, r.stdout
    path = project / ".github" / "workflows" / "build.yml"
    text = path.read_text()
    assert text.startswith(MARK)
    flow = yaml.safe_load(text)
    job = flow["jobs"]["build"]
    assert set(job["strategy"]["matrix"]["os"]) == {"ubuntu-22.04", "windows-2022", "macos-14"}
    assert job["env"] == {"APP_NAME": "Unit Converter", "APP_SLUG": "unit-converter"}
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    # Their project and the tool (with the window and PyInstaller) are installed, then built with installers.
    # The tool here is installed from a folder, which CI cannot reach, and the name
    # on PyPI is another project's: the step asks for the tool's source and fails without it.
    assert tool_source() is None
    step = next(step for step in job["steps"] if step.get("name") == "Install")
    assert step["env"] == {"DESKTOP_APP_SOURCE": "${{ vars.DESKTOP_APP_SOURCE }}"}
    assert 'python -m pip install . "desktop-app[window,build] @ $DESKTOP_APP_SOURCE"' in step["run"]
    unset = subprocess.run(["bash", "-c", step["run"]], env={"PATH": os.environ["PATH"], "DESKTOP_APP_SOURCE": ""},
                           capture_output=True, text=True)
    assert unset.returncode == 1 and "::error::Set the repository variable DESKTOP_APP_SOURCE" in unset.stdout
    assert "python -m desktop_app build --installer" in runs
    assert "choco install innosetup" in runs and "users add ci --password-stdin" in runs
    upload = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"].split() == ["dist/*.deb", "dist/*-setup.exe", "dist/*.dmg"]
    # Run again after a change to the table: their file is made anew.
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text().replace(
        'name = "Unit Converter"', 'name = "Unit Converter Pro"'))
    assert run_cli("build", "--ci", "github", cwd=project).returncode == 0
    assert yaml.safe_load(path.read_text())["jobs"]["build"]["env"]["APP_SLUG"] == "unit-converter-pro"


def test_the_workflow_is_written_only_at_the_repositorys_root(project: Path, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the project is a folder inside a repository
    assert_one_line_error(run_cli("build", "--ci", "github", cwd=project), "only at the repository's root")
    assert not (project / ".github").exists()


def test_the_workflow_never_replaces_a_file_of_theirs(project: Path, tmp_path: Path) -> None:
    path = project / ".github" / "workflows" / "build.yml"
    path.parent.mkdir(parents=True)
    path.write_text("name: their own\n")
    assert_one_line_error(run_cli("build", "--ci", "github", cwd=project), "build.yml", "was not made by desktop-app")
    assert path.read_text() == "name: their own\n"
    # Nor one that a link makes look like ours.
    ours = tmp_path / "elsewhere.yml"
    ours.write_text(MARK + "\n")
    path.unlink()
    path.symlink_to(ours)
    assert_one_line_error(run_cli("build", "--ci", "github", cwd=project), "was not made by desktop-app")
    assert ours.read_text() == MARK + "\n"


# -- the Windows installer's script (ISCC itself runs only on Windows) -------------
def test_the_inno_setup_script_carries_the_identity(project: Path, tmp_path: Path) -> None:
    app = load_project(project / "pyproject.toml").identity()
    script = write_inno_setup(app, tmp_path / "dist", tmp_path / "work")
    assert '#include "identity.iss"' in script.read_text()
    defines = (script.parent / "identity.iss").read_text()
    assert '#define AppName "Unit Converter"' in defines and '#define AppVersion "1.2.0"' in defines
    assert f'#define WindowsAppId "{app.windows_app_id}"' in defines
    assert f'#define DistDir "{tmp_path / "dist"}"' in defines
    assert (script.parent / "unit-converter.ico").read_bytes()[:4] == b"\0\0\1\0"  # an icon directory


def test_a_quote_inno_setup_cannot_take_is_refused(project: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    app = replace(load_project(project / "pyproject.toml").identity(), description='The "best" converter')
    with pytest.raises(UserError, match="AppDescription .* cannot take a double quote"):
        write_inno_setup(app, tmp_path / "dist", tmp_path / "work")


@pytest.mark.parametrize(("pep440", "debian"), [
    ("1.2.0", "1.2.0"), ("1.0rc1", "1.0~rc1"), ("1.0a1.dev2", "1.0~a1~dev2"), ("1.0.dev1", "1.0~~dev1"),
    ("1!2.0", "1:2.0"), ("1.0.post1", "1.0+post1"), ("1.0+local.7", "1.0+local.7"),
])
def test_versions_go_into_the_deb_in_debians_order(pep440: str, debian: str) -> None:
    assert debian_version(pep440) == debian
    if shutil.which("dpkg") is None:
        return
    assert subprocess.run(["dpkg", "--validate-version", debian]).returncode == 0
    # pip's order is Debian's: a release candidate comes before its release, a post-release after.
    for earlier, later in (("1.0.dev1", "1.0a1"), ("1.0a1.dev2", "1.0a1"), ("1.0rc1", "1.0"), ("1.0", "1.0.post1")):
        assert subprocess.run(["dpkg", "--compare-versions", debian_version(earlier), "lt",
                               debian_version(later)]).returncode == 0, (earlier, later)


# -- build's refusals and notes ----------------------------------------------------
def test_build_notes_what_ships_as_a_stand_in(tmp_path: Path) -> None:
    from desktop_app.freeze.bundle import _notes
    from desktop_app.project_init import init

    root = tmp_path / "proj"
    (root / "my_tool").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "my-tool"\nversion = "0.3"\n')
    notes = list(_notes(init(root, name="My Tool").project))
    assert len(notes) == 2 and "icon.png is still the placeholder" in notes[0], notes
    assert "'My Tool developers <my-tool@example.invalid>'" in notes[1], notes
    # Their own icon and a maintainer: nothing to say.
    Image.new("RGB", (512, 512), "navy").save(root / "icon.png")
    text = (root / "pyproject.toml").read_text().replace(
        'version = "0.3"', 'version = "0.3"\nauthors = [{name = "Ada", email = "ada@example.org"}]')
    (root / "pyproject.toml").write_text(text)
    assert list(_notes(load_project(root / "pyproject.toml"))) == []


def test_an_initialised_flat_project_still_installs(tmp_path: Path) -> None:
    """init's files must not break pip: setuptools' automatic discovery refuses a
    flat layout with a second top-level folder (an assets/ folder did that)."""
    root = tmp_path / "proj"
    (root / "my_tool").mkdir(parents=True)
    (root / "my_tool" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools"]\nbuild-backend = '
                                         '"setuptools.build_meta"\n\n[project]\nname = "my-tool"\nversion = "0.3"\n')
    assert run_cli("init", "--name", "My Tool", cwd=root).returncode == 0
    # What pip does first: setuptools reads the project and discovers its packages.
    r = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "egg_info", "-e",
                        str(tmp_path)], cwd=root, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "my_tool.egg-info" / "top_level.txt").read_text().split() == ["my_tool"]


# -- build's refusals -------------------------------------------------------------
def test_build_outside_a_project_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("build", cwd=tmp_path), "No pyproject.toml", "run this inside your project")


def test_build_with_a_ui_that_does_not_build_is_one_line(project: Path) -> None:
    (project / "converter" / "app.py").write_text("def build():\n    return 42\n")
    r = run_cli("build", cwd=project, timeout=180)
    assert_one_line_error(r, "ui = 'converter.app:build'", "does not build")
    assert not (project / "dist").exists()


def test_build_without_pyinstaller_is_one_line(project: Path, tmp_path: Path) -> None:
    # A Python that finds desktop-app (and Gradio) but not PyInstaller: a package
    # of that name that cannot be found (None in sys.modules hides it from find_spec).
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text("import sys\nsys.modules['PyInstaller'] = None\n")
    r = run_cli("build", cwd=project, env={"PYTHONPATH": str(shim)})
    assert_one_line_error(r, "PyInstaller is not installed", "pip install pyinstaller==6.22.3 pyinstaller-hooks-contrib")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--deb is refused off Linux, tested on Linux")
def test_deb_needs_dpkgs_tools(project: Path, tmp_path: Path) -> None:
    r = run_cli("build", "--deb", cwd=project, env={"PATH": str(tmp_path)})
    assert_one_line_error(r, "--deb needs dpkg-deb", "apt-get install dpkg-dev file")


# -- run -----------------------------------------------------------------------------
def first_run(client: httpx.Client) -> str:
    """Make the first account on the first-run page, as a developer does in
    `desktop-app run`; return that page."""
    from tests.support.helpers import csrf_from

    assert client.get("/login").headers["location"] == "/setup"
    page = client.get("/setup").text
    made = client.post("/setup", data={"username": "alice", "password": PASSWORD, "confirm": PASSWORD,
                                       "csrf": csrf_from(page)})
    assert made.status_code == 303, made.text
    return page


def test_run_shows_the_projects_app(project: Path, tmp_path: Path) -> None:
    """`desktop-app run` in their folder is their app: their name on the
    first-run and sign-in pages, their slug in the cookies, the store and the
    log, their UI behind it. The developer makes the account as a person does,
    on the first-run page."""
    from tests.support.helpers import launched_client
    from tests.test_web import call_event

    data = tmp_path / "data"
    app = AppProcess(data, command=[*APP_COMMAND, "run"], cwd=project)
    try:
        with launched_client(app.wait_ready(timeout=120)) as client:
            page = first_run(client)
            assert "Unit Converter" in page and DEMO.name not in page
            assert all(name.startswith("unit-converter-") for name in client.cookies.keys()), client.cookies
            assert call_event(client, "convert", [1000, "mile", "km"]) == ["1,609.34 km"]
    finally:
        app.kill()
    assert (data / "unit-converter.sqlite3").is_file() and not (data / "desktop-app.sqlite3").exists()
    assert (data / "logs" / "unit-converter.log").is_file()
    # Its settings are its own variables: UNIT_CONVERTER_*, not the demo's.
    r = run_cli("run", "--help", cwd=project)
    assert "UNIT_CONVERTER_DATA_DIR" in r.stdout and "DESKTOP_APP_" not in r.stdout, r.stdout


def test_run_with_a_ui_module_that_is_not_there_is_one_line(project: Path) -> None:
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text().replace(
        'ui = "converter.app:build"', 'ui = "convertor.app:build"'))
    assert_one_line_error(run_cli("run", "--headless", cwd=project), "there is no module 'convertor.app'")


def test_run_says_when_their_package_cannot_be_imported(project: Path) -> None:
    (project / "converter" / "__init__.py").write_text("import a_dependency_not_installed\n")
    assert_one_line_error(run_cli("run", "--headless", cwd=project), "importing its package failed",
                          "No module named 'a_dependency_not_installed'", "pip install -e .")


def test_run_finds_a_src_layout_package_that_is_not_installed(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "src" / "my_tool").mkdir(parents=True)
    (root / "src" / "my_tool" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text('[project]\nname = "my-tool"\nversion = "0.3"\n')
    assert run_cli("init", "--name", "My Tool", cwd=root).returncode == 0
    app = AppProcess(tmp_path / "data", command=[*APP_COMMAND, "run"], cwd=root)
    try:
        from tests.support.helpers import launched_client

        with launched_client(app.wait_ready(timeout=120)) as client:
            assert " · My Tool</title>" in first_run(client)
            assert client.get("/gradio/config").status_code == 200  # init's build() is served
    finally:
        app.kill()


def test_the_repositorys_table_is_the_demo() -> None:
    assert load_project(ROOT / "pyproject.toml").identity() == DEMO
