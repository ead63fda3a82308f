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


# -- the import graph: every import of deisctl's own modules, in-function ones counted --------------

LAYERS = {"cli": 4, "api": 3, "ops": 2, "output": 1}  # everything else is the domain (0)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """{module: the deisctl modules it imports}, read from the source with ast."""
    import ast

    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
                found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                             for alias in node.names)
        graph[name] = {dep for dep in found if dep in modules and dep != name}
    return graph


def layer(module: str) -> int:
    parts = module.split(".")
    if parts[1:2] == ["__main__"]:
        return LAYERS["cli"]  # `python -m deisctl`: the CLI's entry
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def test_no_import_goes_up_a_layer():
    upward = [f"{module} -> {dep}" for module, deps in import_graph().items() for dep in deps
              if layer(dep) > layer(module)]
    assert upward == [], "imports from a lower layer into a higher one (ARCHITECTURE.md)"


def test_no_import_cycles():
    graph = import_graph()
    cycles, seen = [], set()
    for start in sorted(graph):  # a path back to start, through modules not yet settled
        stack = [(start, [start])]
        while stack:
            module, path = stack.pop()
            for dep in sorted(graph[module]):
                if dep == start:
                    cycles.append(" -> ".join(path + [start]))
                elif dep not in path and dep not in seen:
                    stack.append((dep, path + [dep]))
        seen.add(start)
    assert cycles == [], "import cycles"


def test_the_graph_reader_sees_in_function_imports():
    """The two rules would pass vacuously if in-function imports were missed."""
    graph = import_graph()
    assert "deisctl.etcd.audit" in graph["deisctl.etcd.client"]  # imported inside Store.send_audited
    assert "deisctl.ops.backup" in graph["deisctl.cli.backup"]  # imported inside its commands


# deisctl.api's methods each import their operation: its module-level names are its public API
# (`deisctl.api.config` must not be an ops module), although the operations are loaded with it.
IMPORTS_INSIDE_FOR_NAMES = {"deisctl.api"}


def in_function_imports(path: Path):
    """(line, module) of each import of a deisctl module inside a function."""
    import ast

    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    for function in ast.walk(ast.parse(path.read_text())):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("deisctl") and not node.level:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    yield node.lineno, sub if sub in modules else node.module
            elif isinstance(node, ast.Import):
                yield from ((node.lineno, alias.name) for alias in node.names if alias.name.startswith("deisctl"))


def test_every_import_inside_a_function_keeps_start_up_lean():
    """An import of deisctl's own module inside a function is there to load it only when the
    function runs (`config get` must not load paramiko, YAML, the schema...). One that names a
    module already loaded with its own module saves nothing and belongs at the top."""
    import json
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py") if path.stem != "__main__"}

    def loaded_with(module: str) -> set:
        out = subprocess.run([sys.executable, "-c", f"import {module}, sys, json; print(json.dumps(list(sys.modules)))"],
                             capture_output=True, text=True, check=True, cwd=ROOT, timeout=120)
        return set(json.loads(out.stdout))

    with ThreadPoolExecutor(4) as pool:
        loaded = dict(zip(modules, pool.map(loaded_with, modules)))
    saving_nothing = [f"{module}:{line} imports {target}" for module, path in sorted(modules.items())
                      if module not in IMPORTS_INSIDE_FOR_NAMES
                      for line, target in in_function_imports(path) if target in loaded[module]]
    assert saving_nothing == []
    assert any(True for _ in in_function_imports(modules["deisctl.cli.backup"]))  # the reader sees them
