"""ARCHITECTURE.md's package map lists every module of deisctl/, and only those; the layering
rules hold (no Click outside cli/, no sys.std* assignment, one expanduser)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "deisctl"


def mapped_modules() -> set[str]:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    table = text.split("## Package map", 1)[1]
    modules = set()
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        folder = ""
        for name in re.findall(r"`([^`]+)`", cell):
            if "/" in name:
                folder = name.rsplit("/", 1)[0] + "/"
                modules.add(name)
            else:
                modules.add(folder + name)  # `output/config.py`, `documents.py`: same folder
    return modules


def test_the_package_map_lists_every_module_and_only_those():
    actual = {str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")}
    listed = mapped_modules()
    assert sorted(actual - listed) == [], "modules missing from ARCHITECTURE.md's package map"
    assert sorted(listed - actual) == [], "ARCHITECTURE.md lists modules that do not exist"


def sources():
    for path in PACKAGE.rglob("*.py"):
        yield path.relative_to(PACKAGE), path.read_text()


def test_layering_rules():
    for name, text in sources():
        assert not re.search(r"sys\.std(in|out|err)\s*=[^=]", text), name
        if not str(name).startswith("cli/"):
            assert not re.search(r"^\s*(import click|from click)", text, re.M), name
    expanduser = [str(name) for name, text in sources() if "os.path.expanduser(" in text]
    assert expanduser == []  # ~ is localfiles.expand_user's, from the invocation's HOME
