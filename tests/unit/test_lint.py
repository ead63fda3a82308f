"""The code is linted as part of the tests, the controller's Django script included (it is a real
module in the package, not a string)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is a test dependency (pyproject.toml [test]); install the project with its test extras"
    script = ROOT / "deisctl" / "controller" / "script.py"
    assert script.exists()
    result = subprocess.run([ruff, "check", "--no-cache", "deisctl", "tests", "examples", "bench"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
