"""Where the bundled resources live, in a source checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "resources", here / "_resources"):
        if (candidate / "schema").is_dir():
            return candidate
    raise FileNotFoundError(
        f"Retouch Studio's resources folder is missing (looked beside {here}); "
        "reinstall the package."
    )


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
