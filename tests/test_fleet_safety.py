"""Fleet safety, run as a playbook runs deisctl: no terminal, stdin closed, JSON output, files
exported from one cluster applied to another. Nothing lands on the wrong component, key or
cluster; every refusal writes nothing and its hint, followed literally, works. State is checked
with etcdctl."""

from __future__ import annotations

import json
import time

import pytest

from tests.helpers import assert_error, hint_of, write


def unattended(dctl):
    """dctl as a playbook runs it: stdin closed (empty), -o json."""
    def run(*args, env=None, input=""):
        return dctl(*args, "-o", "json", env=env, input=input)

    return run


@pytest.fixture
def play(dctl):
    return unattended(dctl)


def rerun_with(hint: str) -> str:
    """The flag of a `rerun with --flag` hint."""
    return hint.split("rerun with ", 1)[1].split()[0]


# -- components and keys --------------------------------------------------------------------------

def test_a_typod_component_is_refused_and_the_hint_creates_it(play, etcd):
    out = play("config", "controler", "set", "registrationEnabled=0")
    assert_error(out, 2, "unknown component 'controler'", "nothing was written", "did you mean 'controller'?")
    assert etcd.read_prefix("/deis/") == {}
    flag = rerun_with(hint_of(out))
    assert flag == "--new-component"
    out = play("config", "controler", "set", "registrationEnabled=0", flag)
    assert out.exit_code == 0, out.stderr
    assert etcd.read_prefix("/deis/") == {"/deis/controler/registrationEnabled": "0"}


def test_a_custom_component_that_has_keys_is_written_as_before(play, etcd):
    etcd.write("/deis/myapp/a", "1")
    assert play("config", "myapp", "set", "b=2").exit_code == 0
    assert etcd.read("/deis/myapp/b") == "2"


def test_strict_refuses_unknown_components_too(play, etcd):
    etcd.write("/deis/myapp/a", "1")
    assert_error(play("config", "myapp", "set", "--strict", "b=2"), 2, "--strict", "not a component the schema knows")
    assert etcd.read("/deis/myapp/b") is None
    assert_error(play("config", "controller", "set", "--strict", "nosuchkey=1"), 2, "not a known controller setting")


@pytest.mark.parametrize("typo, meant", [("registrationmode=admin_only", "registrationMode"),
                                         ("workerz=3", "workers"), ("webEnabeld=True", "webEnabled")])
def test_near_miss_keys_are_refused_and_the_hint_writes_them(play, etcd, typo, meant):
    out = play("config", "controller", "set", typo)
    assert_error(out, 2, f"looks like a typo of controller/{meant}", "nothing was written")
    assert etcd.read_prefix("/deis/") == {}
    out = play("config", "controller", "set", typo, rerun_with(hint_of(out)))
    assert out.exit_code == 0, out.stderr
    assert etcd.read(f"/deis/controller/{typo.split('=')[0]}") == typo.split("=", 1)[1]


def test_a_near_miss_of_an_existing_key_is_refused(play, etcd):
    etcd.write("/deis/myapp/databaseUrl", "x")
    assert_error(play("config", "myapp", "set", "databaseURL=y"), 2, "looks like a typo of myapp/databaseUrl")
    assert etcd.read_prefix("/deis/") == {"/deis/myapp/databaseUrl": "x"}


def test_apply_refuses_a_document_with_an_unknown_component_and_writes_none_of_it(play, etcd, tmp_path):
    path = write(tmp_path, "controller:\n  workers: '4'\ncontroler:\n  registrationEnabled: '0'\n")
    out = play("config", "apply", "-f", path)
    assert_error(out, 2, "unknown component 'controler'", "did you mean 'controller'?")
    assert etcd.read_prefix("/deis/") == {}  # not even the valid rest
    out = play("config", "apply", "-f", path, rerun_with(hint_of(out)))
    assert out.exit_code == 0 and json.loads(out.stdout)["changed"] is True
    assert etcd.read_prefix("/deis/") == {"/deis/controller/workers": "4", "/deis/controler/registrationEnabled": "0"}


def test_apply_refuses_near_miss_keys(play, etcd, tmp_path):
    path = write(tmp_path, "controller:\n  registrationmode: admin_only\n")
    out = play("config", "apply", "-f", path)
    assert_error(out, 2, "looks like a typo of controller/registrationMode")
    assert etcd.read_prefix("/deis/") == {}
    assert play("config", "apply", "-f", path, rerun_with(hint_of(out))).exit_code == 0


def test_reads_of_typos_exit_3_with_a_did_you_mean(play, etcd):
    etcd.write("/deis/controller/registrationMode", "admin_only")
    etcd.write("/deis/myservice/endpoint", "x")
    assert_error(play("config", "controller", "get", "registrationmode"), 3, "did you mean 'registrationMode'?")
    assert_error(play("config", "controller", "history", "registrationModee"), 3, "did you mean 'registrationMode'?")
    assert_error(play("config", "myservce", "get"), 3, "did you mean 'myservice'?")  # a component only etcd knows
    assert_error(play("config", "controler", "get", "registrationMode"), 3,
                 "'controler' is not a known component; did you mean 'controller'?")
    assert_error(play("config", "myservice", "rm", "endpont"), 3, "nothing was deleted", "did you mean 'endpoint'?")


# -- published keys stay with their cluster -------------------------------------------------------

@pytest.mark.cluster
def test_an_export_from_one_cluster_never_rewrites_anothers_identity(play, dctl, etcd, cluster, cli, tmp_path):
    for key, value in {"controller/host": "10.0.0.1", "controller/port": "8000", "controller/workers": "4",
                       "controller/registrationMode": "admin_only"}.items():
        etcd.write(f"/deis/{key}", value)
    for key, value in {"controller/host": "10.1.1.1", "controller/port": "8001"}.items():
        cluster.write(f"/deis/{key}", value)
    default = dctl("config", "export", "controller")
    assert "host" not in default.stdout and "left out 2 key(s) the components publish" in default.stderr
    path = str(tmp_path / "a.yaml")
    assert dctl("config", "export", "controller", "--include-published", "-f", path).exit_code == 0

    out = cli("--endpoints", cluster.endpoints, "config", "apply", "-f", path, "-o", "json", input="")
    assert out.exit_code == 0, out.stderr
    result = json.loads(out.stdout)
    assert sorted(c["key"] for c in result["changes"]) == ["controller/registrationMode", "controller/workers"]
    assert sorted(c["key"] for c in result["kept"]) == ["controller/host", "controller/port"]
    assert cluster.read("/deis/controller/host") == "10.1.1.1" and cluster.read("/deis/controller/port") == "8001"
    diff = cli("--endpoints", cluster.endpoints, "config", "diff", "-f", path, "-o", "json", input="")
    assert diff.exit_code == 0 and [c["key"] for c in json.loads(diff.stdout)["kept"]] == ["controller/host",
                                                                                            "controller/port"]
    # Named explicitly, it is written.
    out = cli("--endpoints", cluster.endpoints, "config", "apply", "-f", path, "--write-published",
              "controller/host", input="")
    assert out.exit_code == 0 and cluster.read("/deis/controller/host") == "10.0.0.1"
    assert cluster.read("/deis/controller/port") == "8001"


# -- prune ----------------------------------------------------------------------------------------

def test_prune_without_a_terminal_deletes_nothing_without_yes_even_one_key(play, etcd, tmp_path):
    etcd.write("/deis/controller/workers", "2")
    etcd.write("/deis/controller/registrationMode", "admin_only")
    path = write(tmp_path, "controller:\n  workers: '2'\n")
    out = play("config", "apply", "-f", path, "--prune")
    assert_error(out, 2, "--prune would delete 1 key(s)", "nothing was written", "pass --yes")
    assert etcd.read("/deis/controller/registrationMode") == "admin_only"
    out = play("config", "apply", "-f", path, "--prune", "--yes")
    assert out.exit_code == 0 and etcd.read("/deis/controller/registrationMode") is None
    assert play("config", "diff", "-f", path, "--prune").exit_code == 0  # diff and dry runs never ask


# -- secrets without argv --------------------------------------------------------------------------

def test_env_and_file_values_for_any_key(play, etcd, tmp_path):
    (tmp_path / "pw.txt").write_text("hunter2\n")
    path = write(tmp_path, "controller:\n  auth/ldap/bind/password: {file: pw.txt}\n"
                           "  auth/ldap/bind/dn: {env: LDAP_DN}\n")
    out = play("config", "apply", "-f", path, env={"LDAP_DN": "cn=admin,dc=example"})
    assert out.exit_code == 0, out.stderr
    assert "hunter2" not in out.stdout + out.stderr
    assert etcd.read("/deis/controller/auth/ldap/bind/password") == "hunter2"  # without the final newline
    assert etcd.read("/deis/controller/auth/ldap/bind/dn") == "cn=admin,dc=example"
    etcd.wipe()
    assert_error(play("config", "apply", "-f", path), 2, "the environment variable LDAP_DN is not set",
                 "nothing was written")
    assert etcd.read_prefix("/deis/") == {}
    outside = write(tmp_path, "controller:\n  auth/ldap/bind/password: {file: /etc/hostname}\n", "outside.yaml")
    assert_error(play("config", "apply", "-f", outside), 2, "outside the document's folder")


def test_set_from_stdin_keeps_the_secret_out_of_argv(play, etcd):
    out = play("config", "controller", "set", "auth/ldap/bind/password", "--from-stdin", input="s3cret\n")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)[0]["value"] == "********"
    assert etcd.read("/deis/controller/auth/ldap/bind/password") == "s3cret"
    assert_error(play("config", "controller", "set", "auth/ldap/bind/password", "--from-stdin"), 2,
                 "no value for controller/auth/ldap/bind/password on standard input")
    assert_error(play("config", "controller", "set", "a=b", "--from-stdin", input="x"), 2, "exactly one KEY")


# -- one outage, one exit code ------------------------------------------------------------------------

@pytest.mark.cluster
def test_lost_quorum_is_exit_4_for_check_as_for_get(cluster, cli):
    from tests.test_reliability import wait_leaderless

    survivor, *stopped = cluster.members
    timing = ["--dial-timeout", "2", "--command-timeout", "5"]  # the defaults, written out
    try:
        for member in stopped:
            member.pause()
        wait_leaderless(survivor)
        check = cli("--endpoints", cluster.endpoints, *timing, "check", "-o", "json", input="")
        started = time.monotonic()
        get = cli("--endpoints", survivor.url, *timing, "config", "controller", "get", input="")
        elapsed = time.monotonic() - started
    finally:
        for member in stopped:
            member.resume()
    assert check.exit_code == 4 == get.exit_code, (check.stderr, get.stderr)
    assert "lost its quorum" in check.stderr.strip().splitlines()[-1]
    assert elapsed < 2 + 5 + 1.5, elapsed  # a leaderless single endpoint: within the dial and command timeouts
