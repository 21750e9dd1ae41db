"""What the PyInstaller bundle carries beyond what its analysis of the imports finds.

Read from pyproject.toml, not listed by hand, so a dependency added for the engine (a new
fill's package, say) is in the next bundle with no change here: every runtime dependency,
and those of the optional extras that are installed (not ``test`` or ``packaging``), is
collected whole (its submodules, data files, shared libraries and metadata). Packages that
PyInstaller's own hooks already collect whole (Qt, numpy, OpenCV, Pillow) are only named.
"""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# PyInstaller's hooks collect these with their plugins and libraries; collecting them
# again would drag in their test suites and the Qt modules we do not use.
HOOKED = {"PySide6", "Shiboken", "shiboken6", "numpy", "cv2", "PIL"}
TOOL_EXTRAS = {"test", "packaging", "dev", "docs"}
# The entry points pick these by name at run time (uvicorn: its loop and protocols).
DYNAMIC = ("app", "uvicorn")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """``"opencv-python-headless>=4.9"`` -> ``"opencv-python-headless"``."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"pyproject.toml: {requirement!r} is not a requirement")
    return match.group(1)


def runtime_distributions(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The runtime dependencies and those of the installed non-tool extras."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    names = [requirement_name(r) for r in project.get("dependencies", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        if extra in TOOL_EXTRAS:
            continue
        for requirement in requirements:
            name = requirement_name(requirement)
            if installed(name):  # an extra not installed is simply not in the bundle
                names.append(name)
    return list(dict.fromkeys(names))


def installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def import_names(distribution: str) -> list[str]:
    """The top-level modules a distribution installs (``pillow`` -> ``PIL``)."""
    wanted = _normal(distribution)
    names = [
        top
        for top, owners in metadata.packages_distributions().items()
        if any(_normal(owner) == wanted for owner in owners) and not top.startswith("__")
    ]
    names = [n for n in names if importlib.util.find_spec(n) is not None]  # not stubs alone
    return sorted(names) or [distribution.replace("-", "_")]


@dataclass
class Collected:
    hiddenimports: list[str] = field(default_factory=list)
    datas: list[tuple[str, str]] = field(default_factory=list)
    binaries: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def collect(pyproject: Path = ROOT / "pyproject.toml") -> Collected:
    """Everything to hand to Analysis(); needs PyInstaller (run it from the spec)."""
    from PyInstaller.utils.hooks import (
        collect_data_files,
        collect_dynamic_libs,
        collect_submodules,
        copy_metadata,
    )

    def wanted(module: str) -> bool:
        return not re.search(r"\.(tests?|testing)(\.|$)", module)

    found = Collected()
    for name in DYNAMIC:
        found.hiddenimports += collect_submodules(name, filter=wanted)
    for distribution in runtime_distributions(pyproject):
        if not installed(distribution):
            found.missing.append(distribution)
            continue
        found.datas += copy_metadata(distribution)
        for module in import_names(distribution):
            found.hiddenimports.append(module)
            if module in HOOKED:
                continue
            found.hiddenimports += collect_submodules(module, filter=wanted)
            found.datas += collect_data_files(module, excludes=["**/tests/**", "**/*.pyi"])
            found.binaries += collect_dynamic_libs(module)
    found.hiddenimports = list(dict.fromkeys(found.hiddenimports))
    return found


def resources(root: Path = ROOT) -> list[tuple[str, str]]:
    """The resources (schema, icons, samples), where app/core/resources.py looks for them in an
    installed package: ``app/_resources`` (as the wheel has them)."""
    folder = root / "resources"
    parts = sorted(p.name for p in folder.iterdir() if p.is_dir())
    return [(str(folder / part), f"app/_resources/{part}") for part in parts]


if __name__ == "__main__":  # what would be collected, for a look
    for distribution in runtime_distributions():
        print(f"{distribution}: {', '.join(import_names(distribution))}", file=sys.stdout)
