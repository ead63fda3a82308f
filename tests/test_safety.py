"""Issue 9 on the config side, against a real etcd: registration on every Deis version, the
schema table, prune that asks and keeps published keys, dry runs, a real unified diff."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.helpers import assert_error, run_on_terminal
from tests.rig.cli import deisctl_command


def write(tmp_path, text: str, name: str = "settings.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def revisions(etcd, *keys) -> list[int]:
    return [json.loads(etcd.etcdctl("get", key, "-w", "json").stdout)["kvs"][0]["mod_revision"] for key in keys]


# -- registration ------------------------------------------------------------------------------

LEGACY, MODE = "/deis/controller/registrationEnabled", "/deis/controller/registrationMode"


@pytest.mark.parametrize("command, legacy, mode", [
    ("disable", "0", "disabled"), ("enable", "1", "enabled"), ("admin-only", "0", "admin_only")])
def test_registration_writes_both_keys_in_one_transaction(dctl, etcd, command, legacy, mode):
    etcd.write(MODE, "enabled")
    out = dctl("registration", command, "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["mode"] == mode and json.loads(out.stdout)["consistent"] is True
    assert (etcd.read(LEGACY), etcd.read(MODE)) == (legacy, mode)
    first, second = revisions(etcd, LEGACY, MODE)
    assert first == second  # one revision: one transaction
    again = dctl("registration", command)
    assert again.stdout.startswith(f"registration: already {mode} ")
    assert revisions(etcd, LEGACY, MODE) == [first, second]  # nothing rewritten


def test_registration_status_flags_a_contradiction(dctl, etcd):
    etcd.write(LEGACY, "0")  # the seed page's command, on a cluster whose Deis reads registrationMode
    out = dctl("registration", "status")
    assert out.exit_code == 0
    assert out.stdout.splitlines() == [
        "Deis < 1.6:  registration disabled   (controller/registrationEnabled=0)",
        "Deis >= 1.6: registration enabled    (controller/registrationMode=(unset))",
        "CONTRADICTION: Deis >= 1.6 keeps registration OPEN"]
    data = json.loads(dctl("registration", "status", "-o", "json").stdout)
    assert (data["mode"], data["legacy"], data["consistent"]) == ("enabled", "disabled", False)


def test_registration_dry_run_writes_nothing(dctl, etcd):
    out = dctl("registration", "disable", "--dry-run")
    assert out.stdout.startswith("registration: would be disabled") and "nothing written" in out.stdout
    assert etcd.read_prefix("/deis/") == {}


def test_setting_registration_enabled_alone_warns_and_names_the_command(dctl, etcd, tmp_path):
    etcd.write(MODE, "enabled")
    out = dctl("config", "controller", "set", "registrationEnabled=0")
    assert out.exit_code == 0 and out.stdout == "registrationEnabled=0\n"
    assert out.stderr.startswith("warning: ") and "Deis >= 1.6 reads controller/registrationMode" in out.stderr
    assert "'deisctl registration disable'" in out.stderr
    # consistent, or both keys given: no warning
    assert dctl("config", "controller", "set", "registrationEnabled=1").stderr == ""
    assert dctl("config", "controller", "set", "registrationEnabled=0", "registrationMode=disabled").stderr == ""
    # the same for a document that sets only registrationEnabled
    etcd.write(MODE, "enabled")
    out = dctl("config", "apply", "-f", write(tmp_path, "controller:\n  registrationEnabled: '0'\n"))
    assert out.exit_code == 0 and "'deisctl registration disable'" in out.stderr


def test_schema_lists_what_each_key_accepts_and_who_reads_it(dctl):
    out = dctl("config", "schema", "controller")
    assert out.exit_code == 0
    lines = out.stdout.splitlines()
    assert lines[0] == "controller: the Deis API server (Django)"
    row = next(line for line in lines if line.strip().startswith("registrationMode "))
    assert "enabled|disabled|admin_only" in row and ">= 1.6" in row
    assert "< 1.6" in next(line for line in lines if line.strip().startswith("registrationEnabled "))
    assert "secret, published" in next(line for line in lines if line.strip().startswith("secretKey "))
    rows = json.loads(dctl("config", "schema", "-o", "json").stdout)
    ssh_key = next(r for r in rows if r["key"] == "sshPrivateKey")
    assert (ssh_key["component"], ssh_key["secret"], ssh_key["file"]) == ("platform", True, "base64")
    assert_error(dctl("config", "schema", "controlle"), 3, "did you mean 'controller'?")


# -- destructive operations ----------------------------------------------------------------------

def test_prune_keeps_published_keys_and_secrets_unless_named(dctl, etcd, tmp_path):
    for key, value in (("controller/host", "10.0.0.5"), ("controller/port", "8000"), ("controller/secretKey", "s"),
                       ("controller/builderKey", "b"), ("controller/stale", "x"), ("controller/workers", "2")):
        etcd.write(f"/deis/{key}", value)
    path = write(tmp_path, "controller:\n  workers: 2\n")
    out = dctl("config", "apply", "-f", path, "--prune")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines() == ["removed  controller/stale: x", "1 removed"]
    assert "--prune keeps 4 key(s)" in out.stderr and "--delete-protected" in out.stderr
    assert set(etcd.read_prefix("/deis/")) == {f"/deis/controller/{k}" for k in
                                               ("host", "port", "secretKey", "builderKey", "workers")}
    out = dctl("config", "apply", "-f", path, "--prune", "--delete-protected", "controller/host")  # the hint
    assert out.stdout.splitlines() == ["removed  controller/host: 10.0.0.5", "1 removed"]
    assert etcd.read("/deis/controller/host") is None and etcd.read("/deis/controller/port") == "8000"


def test_a_large_prune_is_refused_without_a_terminal_or_yes(dctl, etcd, tmp_path):
    for i in range(6):  # more than a handful
        etcd.write(f"/deis/bulk/k{i}", "v")
    etcd.write("/deis/bulk/keep", "1")
    path = write(tmp_path, "bulk:\n  keep: '1'\n")
    out = dctl("config", "apply", "-f", path, "--prune")
    assert_error(out, 2, "--prune would delete 6 key(s)", "pass --yes")
    assert len(etcd.read_prefix("/deis/bulk/")) == 7
    assert dctl("config", "apply", "-f", path, "--prune", "--dry-run").exit_code == 0  # nothing to confirm
    assert dctl("config", "apply", "-f", path, "--prune", "--yes").exit_code == 0
    assert etcd.read_prefix("/deis/bulk/") == {"/deis/bulk/keep": "1"}


def test_a_large_prune_asks_on_a_terminal(etcd, tmp_path):
    for i in range(6):
        etcd.write(f"/deis/bulk/k{i}", "v")
    path = write(tmp_path, "bulk: {}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    argv = [*deisctl_command(), "--endpoints", etcd.endpoints, "config", "apply", "-f", path, "--prune"]
    code, seen = run_on_terminal(argv, b"n\n", env=env)
    assert code == 2 and "removed  bulk/k0: v" in seen and "bulk would be left without any key" in seen
    assert "Delete these 6 key(s)?" in seen and "not confirmed; nothing was written" in seen
    assert len(etcd.read_prefix("/deis/bulk/")) == 6
    code, seen = run_on_terminal(argv, b"y\n", env=env)
    assert code == 0 and "6 removed" in seen
    assert etcd.read_prefix("/deis/bulk/") == {}


def test_set_and_rm_dry_run_write_nothing(dctl, etcd):
    etcd.write("/deis/controller/workers", "2")
    out = dctl("config", "controller", "set", "workers=3", "webEnabled=1", "--dry-run", "-o", "json")
    assert out.exit_code == 0 and "dry run: nothing written" in out.stderr
    assert json.loads(out.stdout) == [
        {"key": "workers", "value": "3", "previous": "2", "changed": True},
        {"key": "webEnabled", "value": "1", "previous": None, "changed": True}]
    assert_error(dctl("config", "controller", "set", "workers=x", "--dry-run"), 2, "positive integer")
    out = dctl("config", "controller", "rm", "workers", "--dry-run")
    assert (out.exit_code, out.stdout) == (0, "workers\n")
    assert_error(dctl("config", "controller", "rm", "workers", "nope", "--dry-run"), 3, "nothing would be deleted")
    assert etcd.read_prefix("/deis/") == {"/deis/controller/workers": "2"}


# -- conventions ---------------------------------------------------------------------------------

@pytest.mark.skipif(not shutil.which("patch"), reason="patch is not installed")
def test_diff_is_a_unified_diff_that_patch_applies(dctl, etcd, tmp_path):
    etcd.write("/deis/myapp/a", "1")
    etcd.write("/deis/myapp/motd", "hello\nworld")
    etcd.write("/deis/myapp/z", "same")
    etcd.write("/deis/myapp/secretKey", "old")
    path = write(tmp_path, "myapp:\n  a: '2'\n  motd: |-\n    hello\n    there\n  z: same\n  secretKey: new\n")
    out = dctl("config", "diff", "-f", path)
    assert out.exit_code == 1
    lines = out.stdout.splitlines()
    assert lines[0].startswith("--- etcd:/deis (revision ") and lines[1] == f"+++ {path}"
    assert lines[2].startswith("@@ -1,") and "old" not in out.stdout and "new\n" not in out.stdout
    assert "-myapp/secretKey: ******** (etcd)" in lines and "+myapp/secretKey: ******** (file)" in lines
    # What etcd holds, as the diff lists it: patch turns it into what the file says.
    before = tmp_path / "etcd.txt"
    before.write_text("myapp/a: 1\nmyapp/motd: |\n  hello\n  world\nmyapp/secretKey: ******** (etcd)\n"
                      "myapp/z: same\n")
    result = subprocess.run(["patch", "-s", str(before)], input=out.stdout, text=True, capture_output=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert before.read_text() == ("myapp/a: 2\nmyapp/motd: |\n  hello\n  there\nmyapp/secretKey: ******** (file)\n"
                                  "myapp/z: same\n")


def test_components_named_like_config_commands(dctl, etcd):
    etcd.write("/deis/controller/workers", "2")
    out = dctl("config", "export", "get")  # meant: the keys of a component named "export"
    assert_error(out, 2, "'export' is a command, so no component can be named export",
                 "'deisctl config COMPONENT get'")
    assert out.stdout == ""
    out = dctl("config", "export", "myaddon")  # a component without keys: said, not an error
    assert out.exit_code == 0 and "myaddon: {}" in out.stdout and "warning: myaddon: no keys" in out.stderr
    for name in ("export", "apply", "diff", "schema"):
        out = dctl("config", "apply", "-f", "-", input=f"{name}:\n  a: '1'\n")
        assert_error(out, 2, f"{name!r} cannot be a component name")
    assert etcd.read_prefix("/deis/") == {"/deis/controller/workers": "2"}
