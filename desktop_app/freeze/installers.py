"""This system's installer from the onedir bundle in DIST: a .deb on Linux
(make_deb), a setup program on Windows (Inno Setup: windows/installer.iss), a
disk image on macOS (macos/make_dmg). Each script is given the app's identity;
none reads a project or this package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from desktop_app.errors import UserError
from desktop_app.identity import Identity

HERE = Path(__file__).resolve().parent
DEB_TOOLS = ("dpkg-deb", "dpkg-shlibdeps", "file")


def kind() -> str:
    """What `--installer` makes on this system."""
    if sys.platform == "win32":
        return "setup"
    if sys.platform == "darwin":
        return "dmg"
    return "deb"


def check_tools(which: str) -> None:
    """Before anything is built: a missing tool is one line, not a failure
    minutes later."""
    if which == "deb":
        if not sys.platform.startswith("linux"):
            raise UserError("--deb makes a Debian package, which is built on Linux; use --installer here.",
                            exit_code=2)
        missing = [tool for tool in DEB_TOOLS if shutil.which(tool) is None]
        if missing:
            raise UserError(f"--deb needs {', '.join(missing)}; run: sudo apt-get install dpkg-dev file.")
    elif which == "setup" and _iscc() is None:
        raise UserError("--installer needs Inno Setup 6 (ISCC.exe); run: choco install innosetup.")
    elif which == "dmg" and shutil.which("hdiutil") is None:
        raise UserError("--installer makes a .dmg with hdiutil, which comes with macOS; it is not on PATH here.")


def make(which: str, app: Identity, dist: Path, work: Path) -> Path:
    if which == "deb":
        return make_deb(app, dist, work)
    if which == "setup":
        return make_setup(app, dist, work)
    return make_dmg(app, dist)


def make_deb(app: Identity, dist: Path, work: Path) -> Path:
    """dist/<slug>_<version>_<arch>.deb from dist/<slug>/."""
    from desktop_app.freeze.icons import hicolor_icons

    icons = hicolor_icons(Path(app.icon), work / "icons", app.slug)
    env = {"APP_NAME": app.name, "APP_SLUG": app.slug, "APP_VERSION": debian_version(app.version),
           "BUNDLE_ID": app.bundle_id, "APP_DESCRIPTION": app.description, "MAINTAINER": app.maintainer,
           "APP_HOMEPAGE": app.homepage, "APP_ICONS": str(icons)}
    return _script(["bash", str(HERE / "make_deb"), str(dist), str(dist)], env, "make_deb")


def debian_version(version: str) -> str:
    """A PEP 440 version in Debian's order: 1.0rc1 -> 1.0~rc1 (before 1.0, as
    pip sorts it), 1.0.dev1 -> 1.0~~dev1, 1!2.0 -> 1:2.0, 1.0.post1 -> 1.0+post1."""
    from packaging.version import Version

    v = Version(version)
    out = (f"{v.epoch}:" if v.epoch else "") + ".".join(map(str, v.release))
    if v.pre is not None:
        out += f"~{v.pre[0]}{v.pre[1]}"
    if v.dev is not None:
        out += f"~{'' if v.pre is not None else '~'}dev{v.dev}"
    if v.post is not None:
        out += f"+post{v.post}"
    if v.local is not None:
        out += f"+{v.local}"
    return out


def make_dmg(app: Identity, dist: Path) -> Path:
    """dist/<slug>-<version>.dmg from dist/<Name>.app."""
    env = {"APP_NAME": app.name, "APP_SLUG": app.slug, "APP_VERSION": app.version}
    return _script(["bash", str(HERE / "macos" / "make_dmg"), str(dist)], env, "make_dmg")


def make_setup(app: Identity, dist: Path, work: Path) -> Path:
    """dist/<slug>-<version>-setup.exe from dist/<slug>/."""
    script = write_inno_setup(app, dist, work / "windows")
    iscc = _iscc()
    assert iscc is not None  # check_tools ran first
    r = subprocess.run([iscc, "/Q", str(script)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise UserError(f"Inno Setup could not make the installer: {last_line(r.stderr + r.stdout, r.returncode)}")
    return dist / f"{app.slug}-{app.version}-setup.exe"


def write_inno_setup(app: Identity, dist: Path, work: Path) -> Path:
    """The installer script and its identity.iss in WORK, ready for ISCC
    (separate from make_setup so that other systems can check what it writes)."""
    from PIL import Image

    work.mkdir(parents=True, exist_ok=True)
    icon = work / f"{app.slug}.ico"
    Image.open(app.icon).save(icon, sizes=[(s, s) for s in (16, 32, 48, 64, 128, 256)])
    values = {"AppName": app.name, "AppSlug": app.slug, "AppVersion": app.version,
              "WindowsAppId": app.windows_app_id, "Maintainer": app.maintainer,
              "AppDescription": app.description, "DistDir": str(dist), "IconFile": str(icon)}
    lines = []
    for key, value in values.items():
        # ISPP strings have no escapes: a double quote would end the string.
        if '"' in value:
            raise UserError(f"{key} is {value!r}: Inno Setup cannot take a double quote in it; remove it.",
                            exit_code=2)
        lines.append(f'#define {key} "{value}"')
    (work / "identity.iss").write_text("\n".join(lines) + "\n", encoding="utf-8")
    script = work / "installer.iss"
    shutil.copyfile(HERE / "windows" / "installer.iss", script)
    return script


def _iscc() -> str | None:
    found = shutil.which("iscc")
    if found:
        return found
    default = Path(os.environ.get("ProgramFiles(x86)", r"C:\Program Files (x86)")) / "Inno Setup 6" / "ISCC.exe"
    return str(default) if default.is_file() else None


def _script(cmd: list[str], identity_env: dict[str, str], name: str) -> Path:
    r = subprocess.run(cmd, env={**os.environ, **identity_env}, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise UserError(last_line(r.stderr, r.returncode, f"{name} failed"))
    return Path(r.stdout.strip().splitlines()[-1])


def last_line(output: str, code: int, what: str = "") -> str:
    """A failed tool's own last words (its one-line error), else its exit code."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if lines:
        return lines[-1]
    return f"{what} (exit {code})." if what else f"exit {code}"
