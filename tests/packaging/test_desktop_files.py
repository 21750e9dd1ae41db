"""The desktop entry and the AppStream metainfo pass the freedesktop validators and say what the
issue asks (the launcher, the photo types for "Open with", screenshots, releases, content
rating); install.sh puts them, with the icon, under ~/.local/share and takes them away again.

The validators come from the distribution (desktop-file-utils, appstream): without them the
validating tests are skipped, unless RETOUCH_REQUIRE_VALIDATORS=1 (packaging/check.sh sets it
after installing them) makes that a failure."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

import app

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
DESKTOP = LINUX / "retouch-studio.desktop"
APP_ID = "io.github.retouch_studio.RetouchStudio"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
PHOTO_TYPES = {"image/png", "image/jpeg", "image/webp", "image/tiff", "image/heic", "image/avif"}
SIZES = (16, 24, 32, 48, 64, 128, 256)


def validator(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("RETOUCH_REQUIRE_VALIDATORS") == "1":
            pytest.fail(f"{name} is not installed (apt-get install desktop-file-utils appstream)")
        pytest.skip(f"{name} is not installed (apt-get install desktop-file-utils appstream)")
    return found


def entry(path: Path = DESKTOP) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def metainfo() -> ElementTree.Element:
    return ElementTree.parse(METAINFO).getroot()


def test_the_desktop_entry_passes_desktop_file_validate() -> None:
    done = subprocess.run([validator("desktop-file-validate"), str(DESKTOP)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_the_desktop_entry_launches_the_editor_with_the_photos_opened() -> None:
    desktop = entry()
    assert desktop["Type"] == "Application" and desktop["Name"] == "Retouch Studio"
    assert desktop["GenericName"] and desktop["Comment"]
    assert desktop["Exec"] == "retouch-studio %F" and desktop["Icon"] == "retouch-studio"
    assert {"Graphics", "RasterGraphics", "Photography"} <= set(desktop["Categories"].split(";"))
    assert set(desktop["MimeType"].split(";")) >= PHOTO_TYPES
    # Qt names the window's class after the application (app/gui.py): the dock groups it.
    assert desktop["StartupWMClass"] == "Retouch Studio"


def test_the_metainfo_passes_appstreamcli_validate() -> None:
    done = subprocess.run([validator("appstreamcli"), "validate", "--no-net", str(METAINFO)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_metainfo_describes_this_release_with_screenshots_and_a_content_rating() -> None:
    root = metainfo()
    assert root.get("type") == "desktop-application" and root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("icon") == entry()["Icon"]
    assert root.findtext("project_license") == "MIT"
    assert len(root.find("description").findall("p")) >= 2
    newest = root.find("releases").find("release")
    assert newest.get("version") == app.__version__
    assert root.find("content_rating").get("type") == "oars-1.1"
    shots = root.find("screenshots").findall("screenshot")
    assert len(shots) >= 3 and sum(s.get("type") == "default" for s in shots) == 1
    for shot in shots:
        url = shot.findtext("image")
        assert url.startswith("https://") and shot.findtext("caption")
        name = url.rsplit("/", 1)[1]
        assert (ROOT / "packaging" / "screenshots" / name).is_file(), name
    mediatypes = {m.text for m in root.find("provides").findall("mediatype")}
    assert mediatypes == set(entry()["MimeType"].strip(";").split(";"))


def fake_bundle(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "_internal").mkdir()
    for name in ("retouch", "retouch-studio"):
        (folder / name).write_text("#!/bin/sh\n")
        (folder / name).chmod(0o755)
    return folder


def install(home: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "share")}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(["bash", str(LINUX / "install.sh"), *args], env=env,
                          capture_output=True, text=True)  # fmt: skip


def installed_files(home: Path) -> set[str]:
    return {
        p.relative_to(home).as_posix()
        for p in home.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.name != "mimeinfo.cache"
    }


def test_install_sh_puts_a_bundle_in_the_launcher_and_takes_it_away(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bundle = fake_bundle(tmp_path / "Retouch Studio bundle")
    done = install(home, "--bundle", str(bundle))
    assert done.returncode == 0, done.stderr
    share = home / "share"
    desktop = entry(share / "applications" / "retouch-studio.desktop")
    # The launcher runs the bundle's program wherever it is, quoted for the space.
    assert desktop["Exec"] == f'"{bundle}/retouch-studio" %F'
    assert desktop["TryExec"] == f"{bundle}/retouch-studio"
    for size in SIZES:
        icon = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "retouch-studio.png"
        assert icon.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", size
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "retouch-studio.svg").is_file()
    assert (share / "metainfo" / METAINFO.name).read_bytes() == METAINFO.read_bytes()
    assert (home / ".local" / "bin" / "retouch").resolve() == (bundle / "retouch").resolve()
    if shutil.which("desktop-file-validate"):
        check = [shutil.which("desktop-file-validate"), str(share / "applications" / DESKTOP.name)]
        assert subprocess.run(check, capture_output=True).returncode == 0
    done = install(home, "--uninstall")
    assert done.returncode == 0, done.stderr
    assert installed_files(home) == set()


def test_install_sh_finds_the_pip_installed_launcher_or_says_what_to_do(tmp_path: Path) -> None:
    home, tools = tmp_path / "home", tmp_path / "venv" / "bin"
    tools.mkdir(parents=True)
    system = "/usr/bin:/bin"
    done = install(home, path=system)
    assert done.returncode == 2 and "retouch-studio is not on PATH" in done.stderr
    assert "--bundle DIR" in done.stderr and installed_files(home) == set()
    launcher = tools / "retouch-studio"
    launcher.write_text("#!/bin/sh\n")
    launcher.chmod(0o755)
    done = install(home, path=f"{tools}:{system}")
    assert done.returncode == 0, done.stderr
    desktop = entry(home / "share" / "applications" / "retouch-studio.desktop")
    assert desktop["Exec"] == f'"{launcher}" %F'
    assert not (home / ".local" / "bin").exists()  # pip's own launcher, no links made
