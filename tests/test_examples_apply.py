"""The examples run for real: the CI smoke-check script and the Ansible playbook.

The playbook runs with the ansible-playbook of the test venv (ansible-core is a test extra) and
the deis.deisctl collection as built and installed (tests/plugins/ansible.py), on an inventory
of two real clusters on loopback (the single server and the 3-member cluster). State is checked
with etcdctl.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.plugins.ansible import ansible_env, ansible_tool
from tests.rig.cli import deisctl_command
from tests.rig.ports import free_port

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PLAYBOOK = EXAMPLES / "ansible-playbook.yml"
SHIPPED_SETTINGS = {"/deis/controller/registrationMode": "admin_only", "/deis/controller/registrationEnabled": "0",
                    "/deis/platform/domain": "deis.example.com"}


def run_script(env_extra: dict, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(DEISCTL=" ".join(deisctl_command()), DEISCTL_CONFIG=str(cwd / "absent.yaml"), **env_extra)
    return subprocess.run(["bash", str(EXAMPLES / "ci-smoke-check.sh")], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60)


def diff_lines(out: str, sign: str, value: str) -> list[str]:
    """Lines of a diff that start with `sign` and mention `value` (any diff layout)."""
    return [line for line in out.splitlines() if line.startswith(sign) and not line.startswith(sign * 3)
            and value in line]


def test_ci_smoke_check_script(etcd, tmp_path):
    if len(deisctl_command()) > 1:
        pytest.skip("needs the installed deisctl executable")
    (tmp_path / "deis-settings.yaml").write_text("platform:\n  domain: example.com\n")
    env = {"DEISCTL_ENDPOINTS": etcd.endpoints}
    out = run_script(env, tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "FAIL cluster checks" in out.stdout and "- setting platform/domain:" in out.stdout

    etcd.write("/deis/platform/domain", "example.org")
    etcd.write("/deis/controller/host", "10.0.0.5")
    etcd.write("/deis/controller/port", "8000")
    out = run_script(env, tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "ok   cluster checks" in out.stdout and "FAIL settings drifted" in out.stdout
    assert diff_lines(out.stdout, "-", "example.org") and diff_lines(out.stdout, "+", "example.com"), out.stdout

    etcd.write("/deis/platform/domain", "example.com")
    out = run_script(env, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ok   settings match deis-settings.yaml" in out.stdout

    out = run_script({"DEISCTL_ENDPOINTS": f"http://127.0.0.1:{free_port()}", "DEISCTL_DIAL_TIMEOUT": "0.5"}, tmp_path)
    assert out.returncode == 75 and "SKIP etcd unreachable" in out.stdout


def test_ci_smoke_check_fails_when_the_settings_file_does_not_exist(etcd, tmp_path):
    if len(deisctl_command()) > 1:
        pytest.skip("needs the installed deisctl executable")
    etcd.write("/deis/platform/domain", "example.com")
    etcd.write("/deis/controller/host", "10.0.0.5")
    etcd.write("/deis/controller/port", "8000")
    env = {"DEISCTL_ENDPOINTS": etcd.endpoints}

    for settings in ({}, {"SETTINGS": str(tmp_path / "moved" / "deis-settings.yaml")}):  # the default, a typo
        out = run_script({**env, **settings}, tmp_path)
        assert out.returncode == 2, out.stdout + out.stderr
        assert "FAIL settings file" in out.stdout and "does not exist" in out.stdout
        assert "skip" not in out.stdout.lower()

    out = run_script({**env, "SETTINGS": ""}, tmp_path)  # skipping step 2 is explicit
    assert out.returncode == 0 and "skip settings diff: SETTINGS is empty" in out.stdout, out.stdout


# -- the Ansible playbook ----------------------------------------------------------------------


def test_ansible_playbook_runs_the_collection_on_the_inventorys_clusters():
    plays = yaml.safe_load(PLAYBOOK.read_text())
    assert (plays[0]["hosts"], plays[0]["connection"]) == ("deis_clusters", "local")
    apply = next(t for t in plays[0]["tasks"] if t["name"] == "Apply the settings document")
    assert apply["deis.deisctl.config"]["src"] == "{{ settings_file }}"
    assert not any("ansible.builtin.command" in task for task in plays[0]["tasks"])  # no CLI subprocess
    inventory = yaml.safe_load((EXAMPLES / "inventory.yml").read_text())
    assert len(inventory["deis_clusters"]["hosts"]) >= 2
    assert yaml.safe_load((EXAMPLES / "deis-settings.yaml").read_text())  # shipped next to it


@pytest.fixture
def fleet(installed, etcd, cluster, tmp_path):
    """Run the example playbook on an inventory of the single server and the 3-member cluster
    (the shipped inventory's shape, this machine's endpoints): (process, {host: recap})."""
    inventory = yaml.safe_load((EXAMPLES / "inventory.yml").read_text())
    inventory["deis_clusters"]["hosts"] = {"one": {"deis_endpoints": [etcd.endpoints]},
                                           "three": {"deis_endpoints": cluster.endpoints.split(",")}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    env = ansible_env(installed / "home", installed / "installed")

    def run(*args: str, hosts: dict | None = None):
        if hosts is not None:
            inventory["deis_clusters"]["hosts"] = hosts
            (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
        proc = subprocess.run([ansible_tool("ansible-playbook"), "-i", "inventory.yml", str(PLAYBOOK), *args],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        recap = {host: dict(zip(("ok", "changed", "unreachable", "failed"), map(int, counts)))
                 for host, *counts in re.findall(
                     r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout, re.M)}
        assert recap, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc, recap

    return run


def revision(server) -> int:
    import json

    return json.loads(server.etcdctl("get", "/", "--prefix", "--keys-only", "-w", "json").stdout)["header"]["revision"]


def publish_controller(*servers) -> None:
    """What a running controller publishes, so that the playbook's smoke check passes."""
    for server in servers:
        server.write("/deis/controller/host", "10.0.0.5")
        server.write("/deis/controller/port", "8000")


def test_ansible_playbook_check_mode_then_apply_then_idempotent(fleet, etcd, cluster):
    publish_controller(etcd, cluster)
    before = (revision(etcd), revision(cluster))

    proc, recap = fleet("--check", "--diff")  # the shipped examples/deis-settings.yaml
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert {host: (r["changed"], r["failed"]) for host, r in recap.items()} == {"one": (1, 0), "three": (1, 0)}
    assert re.search(r"^\+platform/domain: deis\.example\.com$", proc.stdout, re.M), proc.stdout  # the diff
    assert (revision(etcd), revision(cluster)) == before  # nothing written

    proc, recap = fleet()
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert {host: r["changed"] for host, r in recap.items()} == {"one": 1, "three": 1}
    for server in (etcd, cluster):
        assert {k: server.read(k) for k in SHIPPED_SETTINGS} == SHIPPED_SETTINGS
    written = (revision(etcd), revision(cluster))

    proc, recap = fleet()
    assert proc.returncode == 0 and {host: r["changed"] for host, r in recap.items()} == {"one": 0, "three": 0}
    proc, recap = fleet("--check", "--diff")
    assert proc.returncode == 0 and {host: r["changed"] for host, r in recap.items()} == {"one": 0, "three": 0}
    assert (revision(etcd), revision(cluster)) == written


def test_ansible_playbook_a_cluster_down_fails_only_its_own_host(fleet, etcd):
    publish_controller(etcd)
    hosts = {"one": {"deis_endpoints": [etcd.endpoints]}, "down": {"deis_endpoints": [f"http://127.0.0.1:{free_port()}"]}}
    proc, recap = fleet("-e", "settings_file=" + str(EXAMPLES / "deis-settings.yaml"), hosts=hosts)
    assert proc.returncode != 0
    assert (recap["down"]["failed"], recap["down"]["changed"]) == (1, 0), recap
    assert (recap["one"]["failed"], recap["one"]["changed"]) == (0, 1), recap
    assert '"rc": 4' in proc.stdout and "cannot reach etcd" in proc.stdout
    assert {k: etcd.read(k) for k in SHIPPED_SETTINGS} == SHIPPED_SETTINGS


def test_ansible_playbook_prune_deletes_omitted_keys_and_keeps_published_ones(fleet, etcd, cluster):
    publish_controller(etcd, cluster)
    etcd.write("/deis/controller/workers", "4")  # not in the file

    proc, recap = fleet("-e", "prune=true")
    assert proc.returncode == 0 and recap["one"]["changed"] == 1, proc.stdout[-3000:]
    assert etcd.read("/deis/controller/workers") is None
    assert (etcd.read("/deis/controller/host"), etcd.read("/deis/controller/port")) == ("10.0.0.5", "8000")
    proc, recap = fleet("-e", "prune=true")
    assert proc.returncode == 0 and recap["one"]["changed"] == 0, proc.stdout[-3000:]
