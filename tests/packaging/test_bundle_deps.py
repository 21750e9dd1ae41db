"""What the PyInstaller spec collects besides its import analysis comes from pyproject.toml
(packaging/bundle_deps.py): a dependency added for the engine is in the next bundle with no
change to the spec, and the resources go where app/core/resources.py finds them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bundle_deps():
    spec = importlib.util.spec_from_file_location(
        "bundle_deps", ROOT / "packaging" / "bundle_deps.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["bundle_deps"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_runtime_dependency_is_bundled_by_its_import_names() -> None:
    deps = bundle_deps()
    names = deps.runtime_distributions()
    assert {"opencv-python-headless", "isal", "uvicorn", "PySide6-Essentials"} <= set(names)
    assert "pytest" not in names and "pyinstaller" not in names  # tool extras stay out
    imports = {d: deps.import_names(d) for d in names}
    assert "cv2" in imports["opencv-python-headless"] and "PIL" in imports["Pillow"]
    assert "isal" in imports["isal"] and "PySide6" in imports["PySide6-Essentials"]
    for distribution, modules in imports.items():
        for module in modules:
            assert importlib.util.find_spec(module) is not None, (distribution, module)


def test_a_dependency_added_to_pyproject_is_collected_with_no_change_to_the_spec(
    tmp_path: Path,
) -> None:
    deps = bundle_deps()
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\ndependencies = ["numpy>=1.26", "tifffile"]\n'
        "[project.optional-dependencies]\n"
        'engine = ["platformdirs>=4", "no-such-package-xyz"]\ntest = ["pytest"]\n',
        encoding="utf-8",
    )
    # An installed extra is bundled; one not installed is simply not in the bundle.
    assert deps.runtime_distributions(pyproject) == ["numpy", "tifffile", "platformdirs"]


def test_the_resources_go_where_an_installed_package_finds_them() -> None:
    deps = bundle_deps()
    resources = dict(deps.resources())
    assert resources[str(ROOT / "resources" / "schema")] == "app/_resources/schema"
    assert {"app/_resources/icons", "app/_resources/samples"} <= set(resources.values())
    source = (ROOT / "app" / "core" / "resources.py").read_text(encoding="utf-8")
    assert '"_resources"' in source  # where resources_dir() looks inside the package
