"""How tests and benchmarks run the installed `deisctl` executable."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def deisctl_command() -> list[str]:
    """The console script beside this interpreter, else on PATH, else `python -m deisctl`."""
    beside = Path(sys.executable).with_name("deisctl")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("deisctl")
    return [found] if found else [sys.executable, "-m", "deisctl"]
