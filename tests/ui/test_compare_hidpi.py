"""The compare tests again on a screen with a device pixel ratio of 2, as on a high-DPI
laptop: there a logical pixel is two device pixels each way, the zoom counts device pixels
and a fitted picture is half its logical size, which tests written at a ratio of 1 would
not notice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
MODULES = [HERE / "test_compare.py", HERE / "test_compare_panel.py"]


@pytest.mark.skipif(
    os.environ.get("QT_SCALE_FACTOR") is not None, reason="already on a scaled screen"
)
def test_the_compare_tests_pass_at_a_device_pixel_ratio_of_2() -> None:
    # A QApplication's ratio is fixed when it starts, so the modules run in a process of
    # their own whose screen has a ratio of 2.
    environment = {**os.environ, "QT_SCALE_FACTOR": "2", "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider",
         *map(str, MODULES)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    report = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    # Every test ran (none skipped or deselected), among them the one that checks the
    # screen's ratio really is 2.
    summary = result.stdout.strip().splitlines()[-1]
    assert "passed" in summary and "skipped" not in summary, report
    assert "deselected" not in summary and "xfail" not in summary, report
