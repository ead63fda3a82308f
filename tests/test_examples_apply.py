"""The issue-4 examples run for real: the CI smoke-check script and the Ansible playbook."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.rig.cli import deisctl_command
from tests.rig.ports import free_port

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_script(env_extra: dict, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(DEISCTL=" ".join(deisctl_command()), DEISCTL_CONFIG=str(cwd / "absent.yaml"), **env_extra)
    return subprocess.run(["bash", str(EXAMPLES / "ci-smoke-check.sh")], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60)


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
    assert "-example.org\n+example.com" in out.stdout

    etcd.write("/deis/platform/domain", "example.com")
    out = run_script(env, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ok   settings match deis-settings.yaml" in out.stdout

    out = run_script({"DEISCTL_ENDPOINTS": f"http://127.0.0.1:{free_port()}", "DEISCTL_DIAL_TIMEOUT": "0.5"}, tmp_path)
    assert out.returncode == 75 and "SKIP etcd unreachable" in out.stdout


def test_ansible_playbook_parses_and_uses_apply_json():
    plays = yaml.safe_load((EXAMPLES / "ansible-playbook.yml").read_text())
    tasks = plays[0]["tasks"]
    apply = tasks[0]
    assert "'config', 'apply'" in apply["ansible.builtin.command"]["argv"] and "'-o', 'json'" in \
        apply["ansible.builtin.command"]["argv"]
    assert apply["changed_when"] == "(deis_apply.stdout | from_json).changed"


@pytest.mark.skipif(not shutil.which("ansible-playbook"), reason="ansible-playbook is not installed")
def test_ansible_playbook_runs(etcd, tmp_path):
    settings = tmp_path / "deis-settings.yaml"
    settings.write_text("platform:\n  domain: example.com\ncontroller:\n  host: 10.0.0.5\n  port: '8000'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(DEISCTL_ENDPOINTS=etcd.endpoints, DEISCTL_CONFIG=str(tmp_path / "absent.yaml"), ANSIBLE_NOCOLOR="1")
    cmd = ["ansible-playbook", str(EXAMPLES / "ansible-playbook.yml"), "-e", f"settings_file={settings}",
           "-e", f"deisctl={deisctl_command()[0]}"]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stdout[-3000:]
    assert "changed=1" in first.stdout
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert second.returncode == 0 and "changed=0" in second.stdout, second.stdout[-3000:]
    assert etcd.read("/deis/platform/domain") == "example.com"
