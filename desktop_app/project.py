"""A developer's own project: the `[tool.desktop-app]` table in their pyproject.toml.

    [tool.desktop-app]
    name = "Unit Converter"          # window title, installer and menu name
    ui = "converter.app:build"       # their Blocks factory
    icon = "assets/icon.png"         # one PNG of at least 512 x 512 px
    bundle-id = "org.example.converter"
    # version: [project].version; slug: from name unless `slug =` is given.
    # Optional: slug, description (else [project].description), windows-app-id
    # (else one made from bundle-id; keep it for the life of the product).

`load_project` reads and checks it; every mistake is one UserError that names
the key, the value and the fix. Nothing here imports the developer's code or
Gradio: whether `ui` really returns Blocks is checked where it is built.
`desktop-app init` writes the table, `run` and `build` read it (devtools.py).
"""

from __future__ import annotations

import re
import struct
import tomllib
from dataclasses import dataclass
from pathlib import Path

from desktop_app.errors import UserError
from desktop_app.identity import Identity, windows_app_id_for

TABLE = "desktop-app"
MIN_ICON_PX = 512
# Directory names, the command, the Linux package name, the cookie prefix: so
# lowercase letters, digits and '-', starting with a letter (Debian's rules for a
# package name, minus '+' and '.').
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
BUNDLE_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z0-9-]+)+$")
UI_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_KEYS = {"name", "ui", "icon", "bundle-id", "slug", "description", "windows-app-id"}
WINDOWS_APP_ID_RE = re.compile(r"^[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$")
# The name is a folder and file name on each system (the macOS .app, the Windows
# install folder) and goes into installer scripts: none of these may be in it.
NAME_FORBIDDEN = set('/\\:*?"<>|{},')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Project:
    root: Path  # the folder of pyproject.toml
    name: str
    slug: str
    version: str
    ui: str
    icon: Path
    bundle_id: str
    description: str = ""
    maintainer: str = ""
    homepage: str = ""
    windows_app_id: str = ""

    @property
    def source_root(self) -> Path:
        """Where the UI's package is, importable as the bundle will have it,
        installed or not: PROJECT/src in a src layout, else PROJECT."""
        top = self.ui.partition(":")[0].split(".")[0]
        src = self.root / "src"
        if (src / top).is_dir() or (src / f"{top}.py").is_file():
            return src
        return self.root

    def identity(self) -> Identity:
        """Who the app made from this project is (identity.py)."""
        return Identity(
            name=self.name, slug=self.slug, version=self.version, bundle_id=self.bundle_id, ui=self.ui,
            icon=str(self.icon), description=" ".join(self.description.split()) or f"{self.name}, a Gradio app on this computer.",
            maintainer=self.maintainer or f"{self.name} developers <{self.slug}@example.invalid>",
            windows_app_id=self.windows_app_id or windows_app_id_for(self.bundle_id), homepage=self.homepage,
        )


def find_pyproject(start: Path) -> Path:
    """pyproject.toml in `start` or the nearest folder above it."""
    start = start.absolute()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    raise UserError(f"No pyproject.toml in {str(start)!r} or above it; run this inside your project.")


def slug_of(name: str) -> str:
    """'Unit Converter' -> 'unit-converter'; '' when nothing usable is left."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-")


def icon_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG, from its header; UserError if it is not one."""
    try:
        if path.exists() and not path.is_file():  # a folder, or a pipe that would block the read
            raise UserError(f"icon: {str(path)!r} is not a file; give the path of a PNG.", exit_code=2)
        with path.open("rb") as f:
            head = f.read(24)
    except FileNotFoundError:
        raise UserError(f"icon: {str(path)!r} does not exist; give the path of a PNG, relative to pyproject.toml.",
                        exit_code=2) from None
    except OSError as exc:
        raise UserError(f"icon: cannot read {str(path)!r}: {exc.strerror or exc}.", exit_code=2) from None
    if len(head) < 24 or not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        raise UserError(f"icon: {str(path)!r} is not a PNG file; save it as PNG.", exit_code=2)
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def read_pyproject(pyproject: Path) -> dict:
    try:
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"Cannot read {str(pyproject)!r}: {exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{str(pyproject)!r} is not valid TOML ({exc}).", exit_code=2) from None


def load_project(pyproject: Path, data: dict | None = None, *, read_icon: bool = True) -> Project:
    """Read and check the table (from `data`, when given: pyproject's parsed
    content); the first mistake found is the error. `read_icon=False`: the icon
    is not there yet (init is about to write it), so only its path is checked."""
    if data is None:
        data = read_pyproject(pyproject)
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise UserError(f"[tool] in {str(pyproject)!r} is not a table.", exit_code=2)
    table = tool.get(TABLE)
    where = f"[tool.{TABLE}] in {str(pyproject)!r}"
    if not isinstance(table, dict):
        raise UserError(f"{str(pyproject)!r} has no [tool.{TABLE}] table; `desktop-app init` writes one.",
                        exit_code=2)
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r}; the keys are {', '.join(sorted(_KEYS))}.",
                        exit_code=2)

    def text(key: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise UserError(f"{where} needs {key} = \"...\" (a non-empty string).", exit_code=2)
        return value.strip()

    name = text("name")
    bad = sorted(NAME_FORBIDDEN & set(name))
    if bad:
        raise UserError(f"{where}: name {name!r} has {' '.join(bad)} in it, which cannot be in a file name or an "
                        "installer on every system; leave it out.", exit_code=2)
    slug = str(table["slug"]) if "slug" in table else slug_of(name)
    if not SLUG_RE.match(slug):
        said = f"slug {slug!r}" if "slug" in table else f"name {name!r} makes the slug {slug!r}, which"
        raise UserError(f"{where}: {said} is not usable: 2 to 40 lowercase letters, digits or '-', starting "
                        "with a letter; set slug = \"...\".", exit_code=2)
    ui = text("ui")
    if not UI_RE.match(ui):
        raise UserError(f"{where}: ui must look like 'package.module:function', not {ui!r}.", exit_code=2)
    bundle_id = text("bundle-id")
    if not BUNDLE_ID_RE.match(bundle_id):
        raise UserError(f"{where}: bundle-id must be reverse-DNS such as 'org.example.converter', "
                        f"not {bundle_id!r}.", exit_code=2)
    version = _version(data.get("project", {}), pyproject)
    icon_text = text("icon")
    icon = (pyproject.parent / icon_text).resolve()
    if Path(icon_text).is_absolute() or not icon.is_relative_to(pyproject.parent.resolve()):
        raise UserError(f"{where}: icon {icon_text!r} is outside the project; give a path inside it, "
                        "relative to pyproject.toml.", exit_code=2)
    width, height = icon_size(icon) if read_icon else (MIN_ICON_PX, MIN_ICON_PX)
    if min(width, height) < MIN_ICON_PX:
        raise UserError(f"icon: {str(icon)!r} is {width} x {height} px; it must be at least "
                        f"{MIN_ICON_PX} x {MIN_ICON_PX} (each system's sizes are made from it).", exit_code=2)
    windows_app_id = str(table.get("windows-app-id", ""))
    if windows_app_id and not WINDOWS_APP_ID_RE.match(windows_app_id):
        raise UserError(f"{where}: windows-app-id must be a GUID such as 7C1D5E0A-3B8F-4D62-9A57-2E4F6B1C8D93, "
                        f"not {windows_app_id!r}.", exit_code=2)
    description = text("description") if "description" in table else _project_text(data, "description")
    maintainer, homepage = _maintainer(data), _homepage(data)
    for key, value in (("name", name), ("description", description), ("[project] maintainer", maintainer),
                       ("[project] urls.Homepage", homepage)):
        # A line break would add lines to the desktop entry, the Debian control
        # file and the workflow's YAML.
        if _CONTROL.search(value):
            raise UserError(f"{where}: {key} {value!r} has a line break or another control character in it; "
                            "write it on one line.", exit_code=2)
    return Project(root=pyproject.parent.absolute(), name=name, slug=slug, version=version, ui=ui, icon=icon,
                   bundle_id=bundle_id, description=description, maintainer=maintainer,
                   homepage=homepage, windows_app_id=windows_app_id.upper())


def _project_text(data: dict, key: str) -> str:
    project = data.get("project")
    value = project.get(key) if isinstance(project, dict) else None
    return " ".join(value.split()) if isinstance(value, str) else ""


def _maintainer(data: dict) -> str:
    """'Name <email>' from [project].maintainers, else authors: the first with both."""
    project = data.get("project")
    for key in ("maintainers", "authors"):
        people = project.get(key) if isinstance(project, dict) else None
        for person in people if isinstance(people, list) else []:
            if isinstance(person, dict) and isinstance(person.get("name"), str) and isinstance(person.get("email"), str):
                name, email = " ".join(person["name"].split()), person["email"].strip()
                if name and email and "<" not in name + email and ">" not in name + email:
                    return f"{name} <{email}>"
    return ""


def _homepage(data: dict) -> str:
    project = data.get("project")
    urls = project.get("urls") if isinstance(project, dict) else None
    if isinstance(urls, dict):
        for key, value in urls.items():
            if str(key).lower() in ("homepage", "home", "home-page") and isinstance(value, str):
                return value.strip()
    return ""


def _version(project: object, pyproject: Path) -> str:
    from packaging.version import InvalidVersion, Version  # here: only a project needs it

    version = project.get("version") if isinstance(project, dict) else None
    if not isinstance(version, str):
        raise UserError(f"[project] in {str(pyproject)!r} needs version = \"...\" (the app's version; "
                        "a dynamic version is not read).", exit_code=2)
    try:
        Version(version)
    except InvalidVersion:
        raise UserError(f"[project] version {version!r} in {str(pyproject)!r} is not a PEP 440 version "
                        "such as 1.0 or 2.1.3.", exit_code=2) from None
    return str(Version(version))  # as pip writes it: "v1.0" is 1.0
