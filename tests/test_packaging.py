"""The shipped app: build the PyInstaller bundle and .deb from this checkout
(`desktop-app build --deb`: this repository is a project whose app is the demo),
then use the frozen executable as a person would: headless over
HTTP, in its window under Xvfb, with no route to the outside; then install the
.deb with dpkg, run the installed command, and remove it.

Then a third party's project (tests/sample_project, copied to a temp folder) is
built exactly as its developer would, with `desktop-app build --deb` in its
folder: its frozen app works with its own dependency and data file, and its
.deb installs and runs beside the demo's, each app in its own folders.

Each bundle is built once per test session (~2-4 min each here).
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from desktop_app.identity import DEMO
from tests.conftest import SAMPLE
from tests.support.exercise import exercise, use_the_demo
from tests.support.helpers import PASSWORD, AppProcess, assert_gradio_patches_applied, launched_client, run_cli, sign_in
from tests.support.windowed import launched
from tests.support.xdisplay import VirtualDisplay, app_ui_shown
from tests.test_web import call_event

pytestmark = [pytest.mark.packaging,
              pytest.mark.skipif(sys.platform != "linux", reason="the Linux bundle and .deb are built on Linux")]

ROOT = Path(__file__).resolve().parent.parent
# tests/sample_project's [tool.desktop-app] table, as a person sees it.
SAMPLE_NAME, SAMPLE_SLUG, SAMPLE_ID = "Unit Converter", "unit-converter", "org.example.converter"


def _run(cmd: list[str], timeout: float, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)  # type: ignore[call-overload]


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh onedir bundle built from this checkout: DIST/<slug>/<slug>."""
    out = tmp_path_factory.mktemp("dist")
    r = _run([sys.executable, "-m", "desktop_app", "build", "--deb", "--dist", str(out)], timeout=1800, cwd=ROOT)
    assert r.returncode == 0, f"desktop-app build failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    return out


@pytest.fixture(scope="session")
def frozen(dist: Path) -> list[str]:
    exe = dist / DEMO.slug / DEMO.slug
    assert os.access(exe, os.X_OK), f"no executable at {exe}"
    return [str(exe)]


def test_frozen_app_end_to_end(frozen: list[str], data_dir: Path) -> None:
    r = run_cli("--version", command=frozen)
    assert r.returncode == 0 and r.stdout.startswith(f"{DEMO.slug} "), r.stderr
    exercise(frozen, data_dir)
    assert_gradio_patches_applied(data_dir)  # in the bundle too (PyInstaller's importer)
    # Its errors are one line too, never a traceback.
    r = run_cli("--headless", "--port", "70000", "--data-dir", str(data_dir), command=frozen)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--port must be a port number" in r.stderr


def test_bundle_leaves_out_what_the_system_provides(dist: Path) -> None:
    internal = dist / DEMO.slug / "_internal"
    names = {p.name for p in internal.iterdir()}
    # The GTK stack and the distribution's C libraries come from the system (see desktop_app/freeze/bundle_filter.py).
    for unwanted in ("libgtk-3.so.0", "libglib-2.0.so.0", "libstdc++.so.6", "libssl.so.3", "gi_typelibs", "share"):
        assert unwanted not in names, f"{unwanted} was bundled"
    assert (internal / "gi").is_dir(), "PyGObject itself must be bundled for the window"
    assert (internal / "gradio" / "templates" / "frontend" / "index.html").is_file()
    assert not (internal / "gradio" / "templates" / "node").exists()


def test_the_workflows_smoke_test_passes_here(dist: Path, tmp_path: Path) -> None:
    """The smoke test of .github/workflows/build.yml (made by `build --ci
    github`), run as its Linux runner would run it, against this bundle."""
    job = yaml.safe_load((ROOT / ".github" / "workflows" / "build.yml").read_text())["jobs"]["build"]
    script = next(step["run"] for step in job["steps"] if step.get("name") == "Smoke test the frozen app")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "dist").symlink_to(dist)
    env = {**os.environ, **job["env"], "RUNNER_OS": "Linux", "RUNNER_TEMP": str(tmp_path)}
    output = tmp_path / "output.txt"
    with output.open("w") as out:  # a file, not a pipe: a failed step must not wait on the app it started
        r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=checkout, env=env,
                           stdout=out, stderr=subprocess.STDOUT, timeout=300)
    assert r.returncode == 0, output.read_text()[-3000:]
    assert output.read_text().startswith(f"{DEMO.slug} {DEMO.version}\n")


# -- no network ---------------------------------------------------------------
ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6?, "([^"]+)"')


def outbound_attempts(strace_log: str) -> list[str]:
    """Every traced connect/send line aimed at an address outside loopback."""
    found = []
    for line in strace_log.splitlines():
        for match in ADDRESS.finditer(line):
            address = ipaddress.ip_address(match.group(1) or match.group(2))
            mapped = getattr(address, "ipv4_mapped", None)
            if not (address.is_loopback or (mapped is not None and mapped.is_loopback)):
                found.append(line.strip())
    return found


def in_offline_namespace(command: str, strace_log: Path) -> subprocess.CompletedProcess[str]:
    """Run `command` (and all it starts) under strace in a new network namespace
    that has only loopback: nothing can leave this machine, and every attempt
    is still recorded."""
    if shutil.which("unshare") is None or shutil.which("strace") is None or shutil.which("ip") is None:
        pytest.fail("needs unshare, ip and strace: apt-get install util-linux iproute2 strace")
    script = (f"ip link set lo up && exec strace -f -qq -e trace=connect,sendto,sendmsg,sendmmsg "
              f"-o {strace_log} {command}")
    return _run(["unshare", "--map-root-user", "--net", "--", "sh", "-c", script], timeout=600, cwd=ROOT)


def test_frozen_app_works_offline_and_connects_nowhere(frozen: list[str], data_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "strace.txt"
    r = in_offline_namespace(f"{sys.executable} -m tests.support.exercise {frozen[0]} {data_dir}", log)
    assert r.returncode == 0, f"the frozen app did not work offline:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    traced = log.read_text()
    assert 'inet_addr("127.0.0.1")' in traced, "strace saw no loopback traffic: then it saw nothing"
    assert outbound_attempts(traced) == []


def test_the_offline_watch_sees_an_outbound_attempt(tmp_path: Path) -> None:
    # The check above must be able to fail. 192.0.2.1 is a documentation address,
    # and in the namespace there is no route to it: the attempt fails at once.
    log = tmp_path / "strace.txt"
    code = "import socket; socket.socket().connect_ex(('192.0.2.1', 80))"
    r = in_offline_namespace(f"{sys.executable} -c \"{code}\"", log)
    assert r.returncode == 0, r.stderr
    attempts = outbound_attempts(log.read_text())
    assert len(attempts) == 1 and "192.0.2.1" in attempts[0]


# -- the window -----------------------------------------------------------------
def test_frozen_app_in_its_window(frozen: list[str], xdisplay: VirtualDisplay, account: Path, tmp_path: Path) -> None:
    with launched(xdisplay, account, command=frozen) as app:
        app.wait_ready()
        app.sign_in()
        shot = xdisplay.wait_for(app_ui_shown)
        shot.save(tmp_path / "frozen-signed-in.png")
        assert app.close() == 0
        app.assert_no_helper_left()


# -- the .deb ---------------------------------------------------------------------
@pytest.fixture(scope="session")
def deb(dist: Path) -> Path:
    (package,) = dist.glob(f"{DEMO.slug}_*.deb")
    return package


def unreadable_by_others(deb: Path) -> list[str]:
    """What in the package another user could not read (or enter): the app is
    private about its data, never about the program (a build umask must not leak)."""
    listing = _run(["dpkg-deb", "-c", str(deb)], timeout=60).stdout.splitlines()
    assert len(listing) > 100, listing[:5]
    return [line for line in listing
            if line[7] != "r" or (line[0] == "d" and line[9] != "x")]


def _installed(package: str) -> bool:
    r = _run(["dpkg-query", "-W", "-f=${Status}", package], timeout=60)
    return r.returncode == 0 and "installed" in r.stdout.split()


def _install(*debs: Path) -> None:
    r = _run(["dpkg", "-i", *map(str, debs)], timeout=600)
    if r.returncode != 0:  # missing dependencies: let apt bring them, as a person's apt would
        fix = _run(["apt-get", "install", "-f", "-y", "-q"], timeout=1200,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        assert fix.returncode == 0, f"dpkg -i: {r.stderr}\napt-get -f: {fix.stderr}"


def test_deb_installs_runs_and_removes_cleanly(deb: Path, data_dir: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("installing a .deb needs root (CI runs as root)")
    if _installed(DEMO.slug):
        pytest.skip(f"{DEMO.slug} is already installed here; this test would replace it")
    depends = _run(["dpkg-deb", "-f", str(deb), "Depends"], timeout=60).stdout
    assert "gir1.2-webkit2-4.1" in depends and "libc6 (>=" in depends, depends
    assert unreadable_by_others(deb) == []

    _install(deb)
    try:
        assert _installed(DEMO.slug)
        command = Path("/usr/bin") / DEMO.slug
        assert command.resolve() == Path("/opt") / DEMO.slug / DEMO.slug
        entry = Path("/usr/share/applications") / f"{DEMO.bundle_id}.desktop"
        assert f"Exec=/usr/bin/{DEMO.slug}" in entry.read_text()
        assert (Path("/usr/share/icons/hicolor/512x512/apps") / f"{DEMO.slug}.png").is_file()
        exercise([str(command)], data_dir)
    finally:
        removed = _run(["dpkg", "--purge", DEMO.slug], timeout=600)
    assert removed.returncode == 0, removed.stderr
    assert not _installed(DEMO.slug)
    # Nothing of it is left: running it wrote nothing into /opt (all state is in the data dir).
    for path in (Path("/opt") / DEMO.slug, Path("/usr/bin") / DEMO.slug, Path("/usr/share/applications") / f"{DEMO.bundle_id}.desktop"):
        assert not path.exists() and not path.is_symlink(), f"{path} is left after removal"
    assert (data_dir / "desktop-app.sqlite3").is_file(), "removing the program must keep the user's data"


# -- a third party's project ------------------------------------------------------
@pytest.fixture(scope="session")
def sample_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/sample_project copied out and built in its own folder, as its
    developer runs it: `desktop-app build --deb` (nothing of ours edited)."""
    project = tmp_path_factory.mktemp("their") / "unit-converter"
    shutil.copytree(SAMPLE, project)
    r = _run([sys.executable, "-m", "desktop_app", "build", "--deb"], timeout=1800, cwd=project)
    assert r.returncode == 0, f"desktop-app build failed in the sample:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    assert f"built {project / 'dist' / SAMPLE_SLUG} (" in r.stdout, r.stdout
    return project / "dist"


def use_the_converter(client: httpx.Client) -> None:
    # units.json is the sample's package data; the thousands comma is humanize's.
    assert call_event(client, "convert", [1000, "mile", "km"]) == ["1,609.34 km"]


def test_their_frozen_app_is_theirs(sample_dist: Path, data_dir: Path) -> None:
    exe = [str(sample_dist / SAMPLE_SLUG / SAMPLE_SLUG)]
    r = run_cli("--version", command=exe)
    assert r.returncode == 0 and r.stdout.strip() == f"{SAMPLE_SLUG} 1.2.0", (r.stdout, r.stderr)
    r = run_cli("--help", command=exe)
    assert SAMPLE_NAME in r.stdout and not re.search(r"\b(init|build)\b", r.stdout), r.stdout  # no developer commands
    exercise(exe, data_dir, use=use_the_converter)
    assert (data_dir / "logs" / f"{SAMPLE_SLUG}.log").is_file()


def test_two_apps_installed_side_by_side_share_nothing(dist: Path, sample_dist: Path, tmp_path: Path) -> None:
    """The demo's .deb and the sample's, installed together and running at once
    for one person (HOME in a temp folder): each has its own folders, cookies and
    title; both purge cleanly and leave that person's data."""
    if os.geteuid() != 0:
        pytest.skip("installing a .deb needs root (CI runs as root)")
    if _installed(DEMO.slug) or _installed(SAMPLE_SLUG):
        pytest.skip("one of the apps is already installed here; this test would replace it")
    (ours,) = dist.glob(f"{DEMO.slug}_*.deb")
    (theirs,) = sample_dist.glob(f"{SAMPLE_SLUG}_1.2.0_*.deb")
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_DATA_HOME": None, "XDG_CACHE_HOME": None, "XDG_STATE_HOME": None,
           "XDG_CONFIG_HOME": None}
    apps = {DEMO.slug: (DEMO.name, use_the_demo), SAMPLE_SLUG: (SAMPLE_NAME, use_the_converter)}
    _install(ours, theirs)
    try:
        entry = (Path("/usr/share/applications") / f"{SAMPLE_ID}.desktop").read_text()
        assert f"Name={SAMPLE_NAME}" in entry and f"Exec=/usr/bin/{SAMPLE_SLUG}" in entry
        running = {}
        for slug in apps:
            r = run_cli("users", "add", "alice", "--password-stdin", input=PASSWORD + "\n",
                        command=[f"/usr/bin/{slug}"], env=env)
            assert r.returncode == 0, r.stderr
            running[slug] = AppProcess(None, command=[f"/usr/bin/{slug}"], env=env)
        try:
            launches = {slug: app.wait_ready(timeout=120) for slug, app in running.items()}  # both up at once
            cookies = {}
            for slug, (name, use) in apps.items():
                with launched_client(launches[slug]) as client:
                    assert f" · {name}</title>" in client.get("/login").text  # its own title
                    assert sign_in(client, "alice").status_code == 303
                    use(client)
                    cookies[slug] = set(client.cookies.keys())
            assert all(name.startswith(f"{SAMPLE_SLUG}-") for name in cookies[SAMPLE_SLUG]), cookies
            assert not cookies[SAMPLE_SLUG] & cookies[DEMO.slug], cookies
            for app in running.values():
                assert app.stop(signal.SIGTERM) == 0, app.stderr()
        finally:
            for app in running.values():
                app.kill()
        for slug in apps:
            data = home / ".local" / "share" / slug
            assert (data / f"{slug}.sqlite3").is_file(), f"{slug} kept no store in {data}"
        assert {p.name for p in (home / ".local" / "share").iterdir()} == set(apps)
    finally:
        removed = _run(["dpkg", "--purge", DEMO.slug, SAMPLE_SLUG], timeout=600)
    assert removed.returncode == 0, removed.stderr
    for slug in apps:
        assert not _installed(slug) and not (Path("/opt") / slug).exists()
        assert (home / ".local" / "share" / slug / f"{slug}.sqlite3").is_file(), "purging keeps a person's data"
