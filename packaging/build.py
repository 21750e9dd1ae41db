"""Build the one-folder bundle, dist/retouch-studio/, with one command:

    python -m pip install -e ".[packaging]"    # once: the project and PyInstaller
    python packaging/build.py                  # then dist/retouch-studio/retouch-studio

``--if-changed`` skips the build when the bundle was made from the same sources (a digest
of app/, resources/, pyproject.toml and the spec, kept in dist/retouch-studio.build.json).
The bundle is checked once built: ``retouch --version`` must print this version.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "retouch-studio.spec"
NAME = "retouch-studio"
SOURCES = ("app", "resources", "pyproject.toml", "packaging/retouch-studio.spec",
           "packaging/bundle_deps.py", "packaging/bundle", "packaging/linux")  # fmt: skip


def sources_digest(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        place = root / name
        files = sorted(place.rglob("*")) if place.is_dir() else [place]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(file.relative_to(root).as_posix().encode() + b"\0")
                digest.update(file.read_bytes())
    return digest.hexdigest()


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())


def program(bundle: Path, name: str) -> Path:
    return bundle / (name + (".exe" if sys.platform == "win32" else ""))


def record_path(dist: Path) -> Path:
    return dist / f"{NAME}.build.json"


def read_record(dist: Path) -> dict:
    try:
        return json.loads(record_path(dist).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def is_current(dist: Path) -> bool:
    record = read_record(dist)
    built = program(dist / NAME, "retouch")
    return built.is_file() and record.get("sources") == sources_digest()


def check_version(bundle: Path) -> str:
    from app import __version__

    done = subprocess.run(
        [str(program(bundle, "retouch")), "--version"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    printed = done.stdout.strip()
    if done.returncode != 0 or printed != f"retouch {__version__}":
        raise SystemExit(
            f"build.py: the bundle's `retouch --version` printed {printed!r} (exit "
            f"{done.returncode}), not 'retouch {__version__}':\n{done.stderr[-2000:]}"
        )
    return printed


def add_desktop_files(bundle: Path) -> None:
    """The desktop entry, metainfo, icons and install.sh in ``desktop/``, so that the bundle
    alone installs itself in the launcher (``desktop/install.sh``)."""
    folder = bundle / "desktop"
    (folder / "icons").mkdir(parents=True, exist_ok=True)
    for file in (ROOT / "packaging" / "linux").iterdir():
        shutil.copy2(file, folder / file.name)
    for file in (ROOT / "resources" / "icons" / "app").iterdir():
        shutil.copy2(file, folder / "icons" / file.name)


def archive(dist: Path, version: str) -> Path:
    """dist/retouch-studio-VERSION-PLATFORM-MACHINE.tar.gz, the bundle as it is shipped."""
    stem = f"{NAME}-{version}-{sys.platform}-{platform.machine()}"
    made = shutil.make_archive(str(dist / stem), "gztar", root_dir=dist, base_dir=NAME)
    return Path(made)


def build(dist: Path, work: Path) -> dict:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit(
            'build.py: PyInstaller is not installed; run: python -m pip install -e ".[packaging]"'
        ) from None
    icons = subprocess.run([sys.executable, str(ROOT / "packaging" / "icons.py"), "--check"])
    if icons.returncode != 0:
        raise SystemExit("build.py: the icon PNGs are not the SVG's; see above")
    started = time.monotonic()
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
               "--log-level", "WARN", "--distpath", str(dist), "--workpath", str(work),
               str(SPEC)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:
        raise SystemExit("build.py: PyInstaller failed; see its messages above")
    seconds = time.monotonic() - started
    bundle = dist / NAME
    if sys.platform.startswith("linux"):
        add_desktop_files(bundle)
    record = {
        "version": check_version(bundle).split()[-1],
        "sources": sources_digest(),
        "seconds": round(seconds, 1),
        "bytes": folder_bytes(bundle),
        "python": sys.version.split()[0],
        "platform": sys.platform,
    }
    record_path(dist).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Retouch Studio bundle.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="default: dist/")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller",
                        help="PyInstaller's work folder (default: build/pyinstaller/)")  # fmt: skip
    parser.add_argument("--if-changed", action="store_true",
                        help="keep a bundle built from the same sources")  # fmt: skip
    parser.add_argument("--archive", action="store_true",
                        help="also pack it as dist/retouch-studio-VERSION-....tar.gz")  # fmt: skip
    args = parser.parse_args(argv)
    dist, bundle = args.dist.resolve(), args.dist.resolve() / NAME
    if args.if_changed and is_current(dist):
        record = read_record(dist)
        print(f"{bundle} is up to date ({record.get('version')})")
        return 0
    record = build(dist, args.work.resolve())
    print(
        f"built {bundle} in {record['seconds']:.0f} s: {record['bytes'] / 1e6:.0f} MB, "
        f"version {record['version']}\n  run it: {program(bundle, NAME)}"
    )
    if args.archive:
        packed = archive(dist, record["version"])
        print(f"packed {packed}: {packed.stat().st_size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
