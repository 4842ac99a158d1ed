"""A developer's own project (desktop_app/project.py): the sample in
tests/sample_project read as its developer wrote it, and each mistake the
table can hold answered in one line that names it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.errors import UserError
from desktop_app.project import find_pyproject, icon_size, load_project, slug_of
from tests.conftest import SAMPLE


def edit(root: Path, old: str, new: str) -> Path:
    path = root / "pyproject.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))
    return path


def test_the_sample_is_read_as_written(project: Path) -> None:
    found = find_pyproject(project / "converter")  # from anywhere inside the project
    assert found == project / "pyproject.toml"
    p = load_project(found)
    assert (p.name, p.slug, p.version, p.ui, p.bundle_id) == (
        "Unit Converter", "unit-converter", "1.2.0", "converter.app:build", "org.example.converter")
    assert p.icon == (project / "assets" / "icon.png").resolve() and p.root == project
    assert icon_size(p.icon) == (512, 512)


def test_a_version_is_read_as_pip_writes_it(project: Path) -> None:
    assert load_project(edit(project, 'version = "1.2.0"', 'version = "v1.2.0-RC1"')).version == "1.2.0rc1"


def test_a_slug_can_be_given(project: Path) -> None:
    edit(project, 'name = "Unit Converter"', 'name = "Unit Converter"\nslug = "units"')
    assert load_project(project / "pyproject.toml").slug == "units"


@pytest.mark.parametrize(("name", "slug"), [
    ("Unit Converter", "unit-converter"), ("  Ünïcode Tool! 2 ", "n-code-tool-2"), ("日本語", ""), ("A" * 60, "a" * 40),
])
def test_slugs_come_from_names(name: str, slug: str) -> None:
    assert slug_of(name) == slug


@pytest.mark.parametrize(("old", "new", "fragment"), [
    ("[tool.desktop-app]", "[tool.other]", "has no [tool.desktop-app] table; `desktop-app init` writes one"),
    ('name = "Unit Converter"', 'name = ""', 'needs name = "..."'),
    ('name = "Unit Converter"', 'name = "日本語"', "makes the slug '', which is not usable"),
    ('name = "Unit Converter"', 'name = "Unit Converter"\nslug = "Bad Slug"', "slug 'Bad Slug' is not usable"),
    ('ui = "converter.app:build"', 'ui = "converter.app"', "ui must look like 'package.module:function'"),
    ('bundle-id = "org.example.converter"', 'bundle-id = "converter"', "bundle-id must be reverse-DNS"),
    ('bundle-id = "org.example.converter"', 'bundle_id = "org.example.converter"', "unknown key 'bundle_id'"),
    ('version = "1.2.0"', 'version = "one point two"', "is not a PEP 440 version"),
    ('version = "1.2.0"', 'dynamic = ["version"]', "needs version = "),
    ('icon = "assets/icon.png"', 'icon = "assets/missing.png"', "does not exist; give the path of a PNG"),
    ('[project]', '[project', "is not valid TOML"),
    ('icon = "assets/icon.png"', 'icon = "../icon.png"', "is outside the project"),
    ('icon = "assets/icon.png"', 'icon = "/etc/icon.png"', "is outside the project"),
    # What would break a file name, an installer script, a desktop entry or YAML:
    ('name = "Unit Converter"', 'name = "Units/Converter"', "has / in it, which cannot be in a file name"),
    ('name = "Unit Converter"', 'name = "Units, {Pro}"', "has , { } in it"),
    ('name = "Unit Converter"', 'name = "Unit\\nConverter"', "has a line break or another control character"),
    ('name = "Unit Converter"', 'name = "Unit Converter"\ndescription = "Two\\nlines"', "description 'Two\\nlines' has a line break"),
])
def test_each_mistake_is_one_line_naming_it(project: Path, old: str, new: str, fragment: str) -> None:
    before = (project / "pyproject.toml").read_text().replace(old, new)
    path = edit(project, old, new)
    with pytest.raises(UserError) as caught:
        load_project(path)
    message = caught.value.message
    assert fragment in message and "\n" not in message, message
    assert path.read_text() == before  # reading never writes


def test_an_icon_that_is_not_a_png_or_too_small_is_refused(project: Path) -> None:
    icon = project / "assets" / "icon.png"
    Image.new("RGB", (512, 512)).save(icon, format="JPEG")
    with pytest.raises(UserError, match="is not a PNG file"):
        load_project(project / "pyproject.toml")
    Image.new("RGB", (511, 1024)).save(icon)
    with pytest.raises(UserError, match=re.escape("is 511 x 1024 px; it must be at least 512 x 512")):
        load_project(project / "pyproject.toml")


def test_outside_a_project_says_where_to_run_it(tmp_path: Path) -> None:
    # tmp_path's parents hold no pyproject.toml (they are under the system's temp folder)
    with pytest.raises(UserError, match="No pyproject.toml in .* or above it; run this inside your project"):
        find_pyproject(tmp_path)


def test_the_samples_ui_runs_in_the_shell_and_reads_its_package_data(live_with, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # As `desktop-app run` will run it: the developer's package importable, their factory as --ui.
    from tests.support.helpers import sign_in
    from tests.test_web import call_event

    monkeypatch.syspath_prepend(str(SAMPLE))
    live = live_with(ui=load_project(SAMPLE / "pyproject.toml").ui)
    with live.client() as client:
        assert sign_in(client, "alice").status_code == 303
        assert call_event(client, "convert", [26.2, "mile", "km"]) == ["42.1648 km"]  # a marathon


# -- desktop-app init --------------------------------------------------------
def new_project(root: Path, text: str = '[project]\nname = "my-tool"\nversion = "0.3"\n# a comment of theirs\n') -> Path:
    (root / "src" / "my_tool").mkdir(parents=True)
    (root / "src" / "my_tool" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(text)
    return root


def test_init_adds_the_table_and_what_it_names_and_the_ui_runs(tmp_path: Path, live_with, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.support.helpers import run_cli, sign_in
    from tests.test_web import call_event

    root = new_project(tmp_path / "proj")
    before = (root / "pyproject.toml").read_text()
    r = run_cli("init", cwd=root / "src")  # from anywhere inside the project
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "My Tool (my-tool 0.3): wrote pyproject.toml, icon.png, src/my_tool/app.py."
    text = (root / "pyproject.toml").read_text()
    assert text.startswith(before)  # their text and comments, untouched; the table appended
    p = load_project(root / "pyproject.toml")
    assert (p.name, p.slug, p.ui, p.bundle_id) == ("My Tool", "my-tool", "my_tool.app:build", "org.example.mytool")
    assert icon_size(p.icon) == (512, 512)
    again = run_cli("init", cwd=root)  # never twice
    assert again.returncode == 2 and "already has a [tool.desktop-app] table" in again.stderr
    assert (root / "pyproject.toml").read_text() == text
    monkeypatch.syspath_prepend(str(root / "src"))
    live = live_with(ui=p.ui)
    with live.client() as client:
        assert sign_in(client, "alice").status_code == 303
        assert call_event(client, "lambda", ["Ada"]) == ["Hello, Ada!"]


def test_init_with_a_bad_value_writes_nothing(tmp_path: Path) -> None:
    from desktop_app.project_init import init

    root = new_project(tmp_path / "proj")
    before = sorted(p for p in root.rglob("*"))
    text = (root / "pyproject.toml").read_text()
    for flags, fragment in (({"bundle_id": "nope"}, "bundle-id must be reverse-DNS"),
                            ({"name": "日本語"}, "is not usable"),
                            ({"ui": "my_tool.app"}, "ui must look like"),
                            ({"icon": "../../icon.png"}, "without '..'"),
                            ({"icon": str(tmp_path / "elsewhere.png")}, "give a path inside the project"),
                            ({"name": 'Say "hi"\nthere'}, "control characters")):
        with pytest.raises(UserError, match=fragment):
            init(root, **flags)
        assert (root / "pyproject.toml").read_text() == text and sorted(root.rglob("*")) == before


def test_init_keeps_an_existing_ui_and_icon(tmp_path: Path) -> None:
    from desktop_app.project_init import init

    root = new_project(tmp_path / "proj")
    ui = root / "src" / "my_tool" / "screens.py"
    ui.write_text("def make():\n    raise NotImplementedError\n")
    Image.new("RGB", (600, 600), (1, 2, 3)).save(root / "logo.png")
    written = init(root, ui="my_tool.screens:make", icon="logo.png", bundle_id="com.acme.tool")
    assert written.files == [root / "pyproject.toml"]
    assert ui.read_text().startswith("def make()") and icon_size(root / "logo.png") == (600, 600)


def test_init_never_writes_outside_the_project_or_over_anything(tmp_path: Path) -> None:
    # From the attack pass on init: each of these wrote outside, deleted a folder, or left files behind.
    import os

    from desktop_app.project_init import init

    outside = tmp_path / "outside"
    outside.mkdir()
    root = new_project(tmp_path / "proj")
    (root / "assets").mkdir()
    (root / "ext").symlink_to(outside)  # a folder that leads out
    (root / "src" / "my_tool" / "app.py").symlink_to(outside / "dangling.py")  # a link to nothing, yet
    os.mkfifo(root / "pipe.png")
    (root / "src" / "my_tool" / "screens.py").mkdir()  # a folder where a module would go
    snapshot = {p: (p.is_symlink(), p.is_dir()) for p in root.rglob("*")}
    text = (root / "pyproject.toml").read_text()
    for flags, fragment in (
        ({"ui": "ext.app:build"}, "leads outside the project"),
        ({}, "leads outside the project"),  # the dangling link at my_tool/app.py
        ({"ui": "my_tool.screens:build"}, "is in the way"),
        ({"ui": "my_tool.other:build", "icon": "sub/../assets/new.png"}, "without '..'"),
        ({"ui": "my_tool.other:build", "icon": "pipe.png"}, "is not a file"),
        ({"ui": "my_tool.other:build", "icon": "pyproject.toml/icon.png"}, "is a file, not a folder"),
        ({"ui": "my_tool.other:build", "name": ""}, 'needs name = "..."'),
        ({"ui": "my_tool.other:build", "name": "Caf\udce9"}, "not valid UTF-8"),
    ):
        with pytest.raises(UserError, match=re.escape(fragment)):
            init(root, **flags)
        assert (root / "pyproject.toml").read_text() == text, flags
        assert {p: (p.is_symlink(), p.is_dir()) for p in root.rglob("*")} == snapshot, flags
    assert list(outside.iterdir()) == []


def test_init_refuses_a_linked_or_odd_pyproject(tmp_path: Path) -> None:
    from desktop_app.project_init import init

    real = tmp_path / "real.toml"
    real.write_text('[project]\nname = "x"\nversion = "1"\n')
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pyproject.toml").symlink_to(real)
    with pytest.raises(UserError, match="is a symbolic link"):
        init(tmp_path / "proj")
    assert real.read_text() == '[project]\nname = "x"\nversion = "1"\n'
    odd = new_project(tmp_path / "odd", 'tool = 1\n[project]\nname = "x"\nversion = "1"\n')
    with pytest.raises(UserError, match=re.escape("[tool] and [project]")):
        init(odd)


def test_the_made_ui_is_python_whatever_the_name(tmp_path: Path) -> None:
    import ast

    from desktop_app.project_init import init

    root = new_project(tmp_path / "proj")
    name = "Say 'Hi' — it's O'Brien's #1 tool"  # quotes a name may have (a double quote it may not)
    written = init(root, name=name, slug="say-hi", bundle_id="org.example.sayhi")
    source = (root / "src" / "my_tool" / "app.py").read_text()
    ast.parse(source)
    assert repr(name) in source and written.project.name == name
