"""The issue-4 examples run for real: the CI smoke-check script and the Ansible playbook.

The playbook runs with the ansible-playbook of the test venv (ansible-core is a test extra),
against the test's own etcd on loopback; its only host is the implicit localhost with
`connection: local`. State is checked with etcdctl.
"""

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


def test_ansible_playbook_is_local_and_reads_apply_json():
    plays = yaml.safe_load(PLAYBOOK.read_text())
    assert (plays[0]["hosts"], plays[0]["connection"]) == ("localhost", "local")
    apply = next(t for t in plays[0]["tasks"] if t["name"] == "Apply the settings document")
    argv = apply["ansible.builtin.command"]["argv"]
    assert "'config', 'apply'" in argv and "'-o', 'json'" in argv
    # from_json only after deisctl succeeded: its stdout is empty on failure.
    assert apply["changed_when"].startswith("deis_apply.rc == 0 and ")
    assert yaml.safe_load((EXAMPLES / "deis-settings.yaml").read_text())  # shipped next to it


def ansible_playbook() -> str:
    # The venv's own, also when its bin/ is not on PATH (python -m pytest from the venv).
    beside = Path(sys.executable).with_name("ansible-playbook")
    found = str(beside) if beside.exists() else shutil.which("ansible-playbook")
    if not found:
        pytest.skip("ansible-playbook is not installed (the test extra ansible-core)")
    return found


@pytest.fixture
def playbook(etcd, tmp_path):
    """Run the example playbook against the test's etcd: (process, recap, failed task results)."""
    command = ansible_playbook()
    if len(deisctl_command()) > 1:
        pytest.skip("needs the installed deisctl executable")
    ansible_home = tmp_path / "ansible"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEISCTL_", "ANSIBLE_"))}
    env.update(DEISCTL_ENDPOINTS=etcd.endpoints, DEISCTL_CONFIG=str(tmp_path / "absent.yaml"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(ansible_home), ANSIBLE_LOCAL_TEMP=str(ansible_home / "tmp"),
               ANSIBLE_REMOTE_TEMP=str(ansible_home / "remote"), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_RETRY_FILES_ENABLED="false")

    def run(*args: str, env_extra: dict | None = None):
        cmd = [command, str(PLAYBOOK), "-e", f"deisctl={deisctl_command()[0]}", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**env, **(env_extra or {})},
                              cwd=tmp_path, timeout=120)  # cwd: no ansible.cfg of the checkout
        recap = re.search(r"^localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)",
                          proc.stdout, re.M)
        assert recap, proc.stdout[-3000:] + proc.stderr[-3000:]
        ok, changed, unreachable, failed = map(int, recap.groups())
        fatal = [json.loads(line.split(" => ", 1)[1]) for line in proc.stdout.splitlines()
                 if line.startswith("fatal: [localhost]: FAILED! => ")]
        return proc, {"ok": ok, "changed": changed, "unreachable": unreachable, "failed": failed}, fatal

    return run


def revision(etcd) -> int:
    return json.loads(etcd.etcdctl("get", "/", "--prefix", "--keys-only", "-w", "json").stdout)["header"]["revision"]


def test_ansible_playbook_check_mode_then_apply_then_idempotent(playbook, etcd):
    # What a running controller publishes, so the playbook's smoke check passes.
    etcd.write("/deis/controller/host", "10.0.0.5")
    etcd.write("/deis/controller/port", "8000")
    before = revision(etcd)

    proc, recap, _ = playbook("--check", "--diff")  # the shipped examples/deis-settings.yaml
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (recap["changed"], recap["failed"]) == (1, 0)
    assert "changed: [localhost]" in proc.stdout
    assert re.search(r'^\s+"\+.*domain.*deis\.example\.com",?$', proc.stdout, re.M), proc.stdout  # --diff: the diff
    assert "added platform/domain: (none) -> deis.example.com" in proc.stdout
    assert revision(etcd) == before and etcd.read("/deis/platform/domain") is None  # nothing written

    proc, recap, _ = playbook()
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (recap["changed"], recap["failed"]) == (1, 0)
    assert "added controller/registrationMode: (none) -> admin_only" in proc.stdout
    assert '"controller heartbeat",\n            true' in proc.stdout  # the smoke check ran and passed
    assert {k: etcd.read(k) for k in SHIPPED_SETTINGS} == SHIPPED_SETTINGS
    written = revision(etcd)

    proc, recap, _ = playbook()
    assert proc.returncode == 0 and (recap["changed"], recap["failed"]) == (0, 0), proc.stdout[-3000:]
    proc, recap, _ = playbook("--check", "--diff")
    assert proc.returncode == 0 and (recap["changed"], recap["failed"]) == (0, 0), proc.stdout[-3000:]
    assert "Print the diff" in proc.stdout and "skipping: [localhost]" in proc.stdout  # equal: no diff shown
    assert revision(etcd) == written


def test_ansible_playbook_failures_fail_the_task_without_a_change(playbook, etcd, tmp_path):
    etcd.write("/deis/controller/registrationEnabled", "1")
    before = revision(etcd)
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("controller:\n  registrationEnabled: 'true'\n")  # the controller would crash on it
    cases = [
        ("missing file", ["-e", f"settings_file={tmp_path / 'absent-settings.yaml'}"], {}, 2),
        ("invalid value", ["-e", f"settings_file={invalid}"], {}, 2),
        ("etcd down", [], {"DEISCTL_ENDPOINTS": f"http://127.0.0.1:{free_port()}", "DEISCTL_DIAL_TIMEOUT": "0.5"}, 4),
    ]
    for what, args, env_extra, code in cases:
        for mode in ([], ["--check"]):
            proc, recap, fatal = playbook(*args, *mode, env_extra=env_extra)
            assert proc.returncode != 0, (what, mode, proc.stdout[-3000:])
            assert (recap["changed"], recap["failed"]) == (0, 1), (what, mode, recap)
            assert len(fatal) == 1, (what, mode, proc.stdout[-3000:])
            result = fatal[0]
            assert (result["changed"], result["rc"]) == (False, code), (what, mode, result)
            assert result["stderr"].startswith("error: ") and result["stdout"] == "", (what, mode, result)
            assert "changed_when_result" not in result, (what, mode, result)  # the old from_json failure
    assert revision(etcd) == before and etcd.read("/deis/controller/registrationEnabled") == "1"


def test_ansible_playbook_prune_deletes_omitted_keys_and_keeps_published_ones(playbook, etcd):
    etcd.write("/deis/controller/host", "10.0.0.5")  # published by the controller itself
    etcd.write("/deis/controller/port", "8000")
    etcd.write("/deis/controller/workers", "4")  # not in the file

    proc, recap, _ = playbook("-e", "prune=true")  # no terminal: the playbook passes --yes
    assert proc.returncode == 0 and (recap["changed"], recap["failed"]) == (1, 0), proc.stdout[-3000:]
    assert "removed controller/workers: 4 -> (none)" in proc.stdout
    assert etcd.read("/deis/controller/workers") is None
    assert (etcd.read("/deis/controller/host"), etcd.read("/deis/controller/port")) == ("10.0.0.5", "8000")
    proc, recap, _ = playbook("-e", "prune=true")
    assert proc.returncode == 0 and recap["changed"] == 0, proc.stdout[-3000:]
