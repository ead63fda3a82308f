"""ansible-test sanity on a copy of a collection, on a machine that reaches only package indexes.

ansible-test bootstraps pip into each of its venvs with a script it downloads from
ci-files.testing.ansible.com, which is not reachable here. Its error message names where the
script may be saved by hand instead; the rig saves there a stand-in (PIP_BOOTSTRAP): Python's
own ensurepip, then the pip version asked for from the package index (pip's own settings apply:
ensurepip turns them off for itself, so the stand-in turns them back on)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

PIP_BOOTSTRAP = '''# Stands in for ansible-test's get-pip script (tests/rig/ansible_test.py).
import ensurepip, os, subprocess, sys
ensurepip.bootstrap()
os.environ.pop("PIP_CONFIG_FILE", None)
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
'''
SAVE_HERE = re.compile(r"can be manually downloaded and saved to: (\S+)")
# No shell or PowerShell files; the changelog test needs antsibull-changelog's configuration.
SKIPPED = ("shellcheck", "pslint", "changelog")


def sanity(collection: Path, work: Path, env: dict, ansible_test: str) -> subprocess.CompletedProcess:
    """Run every sanity test but SKIPPED on a copy of the collection under work; env's HOME is
    where ansible-test keeps its venvs."""
    namespace, name = collection.parent.name, collection.name
    copy = work / "ansible_collections" / namespace / name
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(collection, copy, ignore=shutil.ignore_patterns("__pycache__", "tests/output"))
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    command = [ansible_test, "sanity", "--python", python, *(arg for test in SKIPPED for arg in ("--skip-test", test))]
    for _ in range(2):
        done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=1200)
        wanted = SAVE_HERE.search(done.stdout + done.stderr)
        if not wanted:
            return done
        Path(wanted.group(1)).parent.mkdir(parents=True, exist_ok=True)
        Path(wanted.group(1)).write_text(PIP_BOOTSTRAP)
    return done
