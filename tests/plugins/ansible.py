"""Fixtures for the deis.deisctl collection: ansible-core's tools from the test venv, and the
collection as a user gets it (built with ansible-galaxy, installed from the tarball)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import deisctl

COLLECTION = Path(__file__).resolve().parents[2] / "ansible_collections" / "deis" / "deisctl"


def ansible_tool(name: str) -> str:
    beside = Path(sys.executable).with_name(name)  # the venv's own, also when its bin/ is not on PATH
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (the test extra ansible-core)")
    return found


def ansible_env(home: Path, collections: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEISCTL_", "ANSIBLE_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_HOME=str(home), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(home / "tmp"), ANSIBLE_REMOTE_TEMP=str(home / "remote"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_RETRY_FILES_ENABLED="false",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="default")
    return env


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """The collection as a user gets it: built into a tarball, installed from it."""
    work = tmp_path_factory.mktemp("collection")
    env = ansible_env(work / "home", work / "installed")
    galaxy = ansible_tool("ansible-galaxy")
    built = subprocess.run([galaxy, "collection", "build", str(COLLECTION), "--output-path", str(work)],
                           capture_output=True, text=True, env=env, timeout=120, cwd=work)
    assert built.returncode == 0, built.stdout + built.stderr
    tarball = work / f"deis-deisctl-{deisctl.__version__}.tar.gz"
    assert tarball.exists(), built.stdout
    done = subprocess.run([galaxy, "collection", "install", str(tarball), "-p", str(work / "installed")],
                          capture_output=True, text=True, env=env, timeout=120, cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    return work


class Run:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.proc, self.out = proc, proc.stdout + proc.stderr
        self.recap = {host: dict(zip(("ok", "changed", "unreachable", "failed"), map(int, counts)))
                      for host, *counts in re.findall(
                          r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout,
                          re.M)}
        assert self.recap, self.out[-4000:]

    def results(self, status: str) -> dict:
        """{host: result} of the lines `STATUS: [host] => {json}` (-v shows results)."""
        found, decoder = {}, json.JSONDecoder()
        pattern = rf"^{status}: \[([^\]]+)\]: FAILED! => " if status == "fatal" else rf"^{status}: \[([^\]]+)\] => "
        for match in re.finditer(pattern, self.proc.stdout, re.M):
            found[match.group(1)] = decoder.raw_decode(self.proc.stdout, match.end())[0]
        return found


@pytest.fixture
def playbook(installed, tmp_path):
    """Write a playbook and an inventory of clusters, run it: a Run."""
    env = ansible_env(installed / "home", installed / "installed")

    def run(tasks: list, clusters: dict, *args: str, env_extra: dict | None = None) -> Run:
        inventory = {"deis_clusters": {"vars": {"ansible_python_interpreter": sys.executable},
                                       "hosts": clusters}}
        (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
        play = [{"name": "test", "hosts": "deis_clusters", "connection": "local", "gather_facts": False,
                 "module_defaults": {"group/deis.deisctl.all": {"endpoints": "{{ deis_endpoints }}"}},
                 "tasks": tasks}]
        (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
        proc = subprocess.run([ansible_tool("ansible-playbook"), "-i", "inventory.yml", "play.yml", *args],
                              capture_output=True, text=True, env={**env, **(env_extra or {})}, cwd=tmp_path,
                              timeout=300)
        return Run(proc)

    return run
