"""`deisctl registration` against a real etcd: both keys in one transaction on every Deis version,
the status and its contradictions, dry runs, and the warning when the seed's own command sets
registrationEnabled alone."""

from __future__ import annotations

import json

import pytest

from tests.helpers import write



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


# -- destructive operations ----------------------------------------------------------------------


# -- conventions ---------------------------------------------------------------------------------
