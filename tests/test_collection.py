"""The deis.deisctl Ansible collection, built with ansible-galaxy and run by real ansible-core
against real etcd clusters (the single server and the 3-member cluster: two inventory hosts) and
the rig's controller over sshd. State is checked with etcdctl and the controller's API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
import yaml

import deisctl
from tests.helpers import new_users
from tests.plugins.ansible import COLLECTION, ansible_env, ansible_tool
from tests.rig.ports import free_port

MODULES = ("config", "registration", "user", "info", "component", "backup")
SECRET = "s3cr3t-Bu1lder-value"


def revision(cluster) -> int:
    return json.loads(cluster.etcdctl("get", "/", "--prefix", "--keys-only", "-w", "json").stdout)["header"]["revision"]


# -- the collection itself ------------------------------------------------------------------------


def test_the_collection_version_follows_deisctl():
    galaxy = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())
    assert (galaxy["namespace"], galaxy["name"], galaxy["version"]) == ("deis", "deisctl", deisctl.__version__)


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_shows_every_module(installed, module):
    env = ansible_env(installed / "home", installed / "installed")
    shown = subprocess.run([ansible_tool("ansible-doc"), "--json", f"deis.deisctl.{module}"], capture_output=True,
                           text=True, env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)[f"deis.deisctl.{module}"]
    assert doc["doc"]["short_description"] and doc["examples"].strip() and doc["return"]
    assert {"endpoints", "password", "context"} <= set(doc["doc"]["options"])


def test_ansible_test_sanity(tmp_path_factory):
    """Every sanity test that runs without containers (all but those tests/rig/ansible_test.py
    skips: shellcheck, pslint, changelog), with the collection's ignore file for this ansible-core."""
    from tests.rig.ansible_test import sanity

    work = tmp_path_factory.mktemp("sanity")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["HOME"] = str(work / "home")
    done = sanity(COLLECTION, work, env, ansible_tool("ansible-test"))
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    ran = re.findall(r'^Running sanity test "([^"]+)"', done.stdout, re.M)
    assert {"validate-modules", "ansible-doc", "import", "pylint", "pep8", "compile", "yamllint"} <= set(ran), ran


def test_the_modules_import_deisctl_api_and_never_run_the_cli():
    for module in MODULES:
        source = (COLLECTION / "plugins" / "modules" / f"{module}.py").read_text()
        assert "subprocess" not in source and "run_command" not in source
    shared = (COLLECTION / "plugins" / "module_utils" / "deisctl_api.py").read_text()
    assert "from deisctl import api" in shared


# -- config ---------------------------------------------------------------------------------------


ENV_SECRET = "0th3r-s3cr3t-from-env"


def settings_task(**extra) -> dict:
    return {"name": "settings", "deis.deisctl.config": {
        "settings": {"builder": {"secretKey": SECRET},
                     "controller": {"registrationMode": "admin_only", "workers": 4,
                                    "auth/ldap/bind/password": {"env": "DEIS_TEST_LDAP_PASSWORD"}}}, **extra},
            "register": "applied"}


def test_config_on_two_clusters_check_diff_apply_rerun_and_no_secret_anywhere(playbook, etcd, cluster):
    clusters = {"one": {"deis_endpoints": [etcd.endpoints]}, "three": {"deis_endpoints": cluster.endpoints.split(",")}}
    etcd.write("/deis/controller/workers", "2")
    before = (revision(etcd), revision(cluster))

    secret_env = {"DEIS_TEST_LDAP_PASSWORD": ENV_SECRET, "DEISCTL_ENDPOINTS": "http://127.0.0.1:1"}  # the latter unread
    checked = playbook([settings_task()], clusters, "--check", "--diff", "-v", env_extra=secret_env)
    assert checked.proc.returncode == 0, checked.out[-4000:]
    assert {h: (r["changed"], r["failed"]) for h, r in checked.recap.items()} == {"one": (1, 0), "three": (1, 0)}
    assert (revision(etcd), revision(cluster)) == before  # check mode wrote nothing
    result = checked.results("changed")["one"]
    assert {c["key"]: (c["action"], c["old"], c["new"]) for c in result["changes"]} == {
        "builder/secretKey": ("added", None, "********"), "controller/registrationMode": ("added", None, "admin_only"),
        "controller/workers": ("changed", "2", "4"), "controller/auth/ldap/bind/password": ("added", None, "********")}
    # --diff: before/after listings, the secret masked.
    assert re.search(r"^-controller/workers: 2$", checked.out, re.M) and \
        re.search(r"^\+controller/workers: 4$", checked.out, re.M), checked.out[-4000:]
    assert re.search(r"^\+builder/secretKey: \*{8} \(wanted\)$", checked.out, re.M), checked.out[-4000:]

    applied = playbook([settings_task()], clusters, "-vvv", env_extra=secret_env)
    assert applied.proc.returncode == 0, applied.out[-4000:]
    assert {h: r["changed"] for h, r in applied.recap.items()} == {"one": 1, "three": 1}
    for server in (etcd, cluster):
        assert (server.read("/deis/controller/workers"), server.read("/deis/builder/secretKey")) == ("4", SECRET)
        assert server.read("/deis/controller/auth/ldap/bind/password") == ENV_SECRET
    assert applied.results("changed")["one"]["revision"] == revision(etcd)
    assert SECRET not in applied.out and ENV_SECRET not in applied.out  # -vvv: the invocation, every result
    record = json.loads(etcd.etcdctl("get", "/deisctl-audit/deis/records/", "--prefix", "--print-value-only")
                        .stdout.strip().splitlines()[-1])
    assert record["command"] == "ansible deis.deisctl.config" and record["reason"] == "ansible play 'test', task 'settings'"
    assert SECRET not in json.dumps(record)
    assert "admin_only" in applied.out  # ...while the other values stay readable

    again = playbook([settings_task()], clusters, "--diff", env_extra=secret_env)
    assert again.proc.returncode == 0 and {h: r["changed"] for h, r in again.recap.items()} == {"one": 0, "three": 0}


def test_a_stopped_cluster_fails_only_its_own_host(playbook, etcd):
    clusters = {"up": {"deis_endpoints": [etcd.endpoints]},
                "down": {"deis_endpoints": [f"http://127.0.0.1:{free_port()}"]}}
    task = settings_task(dial_timeout=0.5)
    for mode in (["--check"], []):
        run = playbook([task], clusters, "-v", *mode, env_extra={"DEIS_TEST_LDAP_PASSWORD": ENV_SECRET})
        assert run.proc.returncode != 0
        assert (run.recap["down"]["failed"], run.recap["down"]["changed"]) == (1, 0), run.recap
        assert (run.recap["up"]["failed"], run.recap["up"]["changed"]) == (0, 1), run.recap
        failed = run.results("fatal")["down"]
        assert (failed["rc"], failed["changed"]) == (4, False) and "cannot reach etcd" in failed["msg"], failed
    assert etcd.read("/deis/controller/workers") == "4"


def test_config_failures_are_deisctls_line_and_exit_code(playbook, etcd):
    clusters = {"one": {"deis_endpoints": [etcd.endpoints]}}
    cases = [({"settings": {"controler": {"workers": "2"}}}, 2, "unknown component 'controler'"),
             ({"settings": {"controller": {"registrationEnabled": "maybe"}}}, 2, "registrationEnabled"),
             ({"src": "/nonexistent/settings.yaml"}, 2, "/nonexistent/settings.yaml")]
    before = revision(etcd)
    for options, code, fragment in cases:
        run = playbook([{"deis.deisctl.config": options}], clusters, "-v")
        failed = run.results("fatal")["one"]
        assert (failed["rc"], failed["changed"]) == (code, False), failed
        assert fragment in failed["msg"] and not failed["msg"].startswith("error:"), failed
    assert revision(etcd) == before


def test_prune_and_state_absent(playbook, etcd, tmp_path):
    clusters = {"one": {"deis_endpoints": [etcd.endpoints]}}
    etcd.write("/deis/controller/host", "10.0.0.5")  # published by the controller itself: kept
    etcd.write("/deis/controller/workers", "4")
    etcd.write("/deis/controller/oldSetting", "x")
    document = tmp_path / "settings.yaml"
    document.write_text("controller:\n  workers: '4'\n")

    pruned = playbook([{"deis.deisctl.config": {"src": str(document), "prune": True}}], clusters, "-v")
    assert pruned.recap["one"]["changed"] == 1, pruned.out[-4000:]
    assert etcd.read("/deis/controller/oldSetting") is None and etcd.read("/deis/controller/host") == "10.0.0.5"

    absent = [{"deis.deisctl.config": {"state": "absent", "settings": {"controller": {"workers": ""}}}}]
    assert playbook(absent, clusters, "--check").recap["one"]["changed"] == 1
    assert etcd.read("/deis/controller/workers") == "4"
    assert playbook(absent, clusters).recap["one"]["changed"] == 1
    assert etcd.read("/deis/controller/workers") is None
    assert playbook(absent, clusters).recap["one"]["changed"] == 0


def test_an_unquoted_secret_is_masked_at_vvv_too(playbook, etcd):
    """A secret written as a YAML number or boolean (`password: 73920148`) is as secret as a quoted one."""
    clusters = {"one": {"deis_endpoints": [etcd.endpoints]}}
    task = [{"deis.deisctl.config": {"settings": {"controller": {"auth/ldap/bind/password": 73920148,
                                                                 "auth/ldap/bind/dn": "cn=admin"}},
                                     "new_key": True}}]
    done = playbook(task, clusters, "-vvv")
    assert done.recap["one"]["changed"] == 1, done.out[-4000:]
    assert etcd.read("/deis/controller/auth/ldap/bind/password") == "73920148"
    assert "73920148" not in done.out, [line for line in done.out.splitlines() if "73920148" in line]
    assert "cn=admin" in done.out  # what is not secret stays readable


def test_the_same_value_types_as_the_api(playbook, etcd):
    """Numbers and booleans are written as their text, through the collection as through the API;
    a float is refused by both (YAML's 1.10 would be stored as 1.1), with deisctl's line, rc 2."""
    from deisctl import api

    clusters = {"one": {"deis_endpoints": [etcd.endpoints]}}
    bad = playbook([{"deis.deisctl.config": {"settings": {"controller": {"workers": 4.5}}}}], clusters, "-v")
    failed = bad.results("fatal")["one"]
    assert failed["rc"] == 2 and "write the value as a JSON string" in failed["msg"], failed
    with pytest.raises(api.UsageError) as caught:
        api.Client(endpoints=etcd.endpoints).apply({"controller": {"workers": 4.5}})
    assert caught.value.message in failed["msg"]
    good = playbook([{"deis.deisctl.config": {"settings": {"controller": {"workers": 4},
                                                           "platform": {"enablePlacementOptions": True}}}}],
                    clusters)
    assert good.recap["one"]["changed"] == 1, good.out[-4000:]
    assert (etcd.read("/deis/controller/workers"), etcd.read("/deis/platform/enablePlacementOptions")) == \
        ("4", "true")


def test_state_absent_on_an_empty_custom_component_is_idempotent(playbook, etcd):
    """The rerun of `state: absent` on a custom component it emptied: ok, not changed, no record."""
    clusters = {"one": {"deis_endpoints": [etcd.endpoints]}}
    etcd.write("/deis/billing/apiUrl", "https://billing.example")
    task = [{"deis.deisctl.config": {"state": "absent", "settings": {"billing": {"apiUrl": ""}}}, "register": "gone"}]
    first = playbook(task, clusters, "-v")
    assert (first.recap["one"]["changed"], first.recap["one"]["failed"]) == (1, 0), first.out[-4000:]
    assert etcd.read("/deis/billing/apiUrl") is None
    records = etcd.etcdctl("get", "/deisctl-audit/deis/records/", "--prefix", "--keys-only").stdout.split()
    for _ in range(2):
        again = playbook(task, clusters)
        assert (again.recap["one"]["changed"], again.recap["one"]["failed"]) == (0, 0), again.out[-4000:]
    assert etcd.etcdctl("get", "/deisctl-audit/deis/records/", "--prefix", "--keys-only").stdout.split() == records


# -- registration, info ---------------------------------------------------------------------------


def test_registration_and_info(playbook, etcd):
    clusters = {"one": {"deis_endpoints": [etcd.endpoints]}}
    etcd.write("/deis/platform/domain", "example.com")
    etcd.write("/deis/builder/secretKey", SECRET)
    task = [{"deis.deisctl.registration": {"mode": "admin_only"}}]
    assert playbook(task, clusters, "--check").recap["one"]["changed"] == 1
    assert etcd.read("/deis/controller/registrationMode") is None
    assert playbook(task, clusters).recap["one"]["changed"] == 1
    assert (etcd.read("/deis/controller/registrationMode"), etcd.read("/deis/controller/registrationEnabled")) == \
        ("admin_only", "0")
    assert playbook(task, clusters).recap["one"]["changed"] == 0

    info = playbook([{"deis.deisctl.info": {}, "register": "deis"}, {"debug": {"var": "deis"}}], clusters, "--check")
    assert info.proc.returncode == 0, info.out[-4000:]
    assert info.recap["one"]["changed"] == 0 and SECRET not in info.out
    shown = info.results("ok")["one"]["deis"]
    assert shown["settings"]["builder"]["secretKey"] == "********"
    assert shown["registration"] == {"mode": "admin_only", "legacy": "disabled"}
    assert {row["check"] for row in shown["checks"]} >= {"setting platform/domain"}


# -- user -----------------------------------------------------------------------------------------


def test_user_token_revoked_check_mode_then_real_then_rerun(playbook, etcd, controller_rig):
    """On every generation of controller (today's Django, and Deis v1's Python 2.7 / Django 1.6)."""
    sshd_server, controller_container = controller_rig.sshd, controller_rig.controller
    (bob,) = new_users(1)
    token = controller_container.seed(bob)[bob]
    node = {"host": sshd_server.host, "ssh_port": sshd_server.port, "ssh_user": sshd_server.user,
            "ssh_key": sshd_server.client_key, "known_hosts": sshd_server.known_hosts}
    clusters = {"one": {"deis_endpoints": [etcd.endpoints]}}
    task = [{"deis.deisctl.user": {"name": bob, "token": "revoked", **node}}]

    checked = playbook(task, clusters, "--check")
    assert checked.recap["one"]["changed"] == 1, checked.out[-4000:]
    assert controller_container.check_token(token) == 200  # check mode revoked nothing
    done = playbook(task, clusters)
    assert done.recap["one"]["changed"] == 1, done.out[-4000:]
    assert controller_container.check_token(token) == 401
    again = playbook(task, clusters)
    assert (again.recap["one"]["changed"], again.recap["one"]["failed"]) == (0, 0), again.out[-4000:]

    missing = playbook([{"deis.deisctl.user": {"name": "ghost-" + bob, "admin": True, **node}}], clusters, "-v")
    failed = missing.results("fatal")["one"]
    assert (failed["rc"], failed["changed"]) == (3, False) and "no such user" in failed["msg"], failed


def test_a_users_life_with_a_vaulted_password_and_the_settings_lookup(playbook, etcd, controller_rig, installed,
                                                                      tmp_path):
    """A playbook creates a user with a password from a vault variable, revokes its token, reads
    settings through the deis.deisctl.settings lookup, and deletes the user; each rerun changes
    nothing; the password appears nowhere in the output, even at -vvv."""
    sshd_server, controller = controller_rig.sshd, controller_rig.controller
    (carol,) = new_users(1, "vault")
    password = "V4ulted-horse-battery-9"
    vault_pass = tmp_path / "vault-pass"
    vault_pass.write_text("the-vault-key\n")
    env = ansible_env(installed / "home", installed / "installed")
    encrypted = subprocess.run([ansible_tool("ansible-vault"), "encrypt_string", "--vault-password-file",
                                str(vault_pass), password, "--name", "carol_password"], capture_output=True,
                               text=True, env=env, timeout=120)
    assert encrypted.returncode == 0, encrypted.stderr
    (tmp_path / "secrets.yml").write_text(encrypted.stdout)
    vault = ("-e", f"@{tmp_path / 'secrets.yml'}", "--vault-password-file", str(vault_pass))
    etcd.write("/deis/controller/registrationMode", "admin_only")
    etcd.write("/deis/controller/secretKey", "s3cret-key")
    node = {"host": sshd_server.host, "ssh_port": sshd_server.port, "ssh_user": sshd_server.user,
            "ssh_key": sshd_server.client_key, "known_hosts": sshd_server.known_hosts}
    clusters = {"one": {"deis_endpoints": [etcd.endpoints]}}
    lookup = "lookup('deis.deisctl.settings', '{term}', endpoints=deis_endpoints)"
    tasks = [
        {"deis.deisctl.user": {"name": carol, "state": "present", "password": "{{ carol_password }}",
                               "email": f"{carol}@example.com", **node}},
        {"deis.deisctl.user": {"name": carol, "token": "revoked", **node}},
        {"ansible.builtin.set_fact": {"mode": "{{ " + lookup.format(term="controller/registrationMode") + " }}",
                                      "controller": "{{ " + lookup.format(term="controller") + " }}"}},
        {"ansible.builtin.assert": {"that": ["mode == 'admin_only'", "controller.secretKey == '********'",
                                             "controller.registrationMode == 'admin_only'"]}},
    ]
    first = playbook(tasks, clusters, "-vvv", *vault)
    made = 2 if controller.generation == "deis-v1" else 1  # Deis gives a new user a token at once: revoked
    assert (first.recap["one"]["changed"], first.recap["one"]["failed"]) == (made, 0), first.out[-4000:]
    assert password not in first.out and "s3cret-key" not in first.out
    assert controller.login(carol, password)[0] == 200
    token = controller.login(carol, password)[1]["token"]
    assert controller.check_token(token) == 200
    again = playbook(tasks, clusters, *vault)  # present and token: nothing to do (the login made a token)
    assert again.recap["one"]["failed"] == 0 and again.recap["one"]["changed"] == 1  # that token, revoked
    assert controller.check_token(token) == 401
    assert playbook(tasks, clusters, *vault).recap["one"]["changed"] == 0
    gone = [{"deis.deisctl.user": {"name": carol, "state": "absent", **node}}]
    assert playbook(gone, clusters, "--check").recap["one"]["changed"] == 1
    assert playbook(gone, clusters).recap["one"]["changed"] == 1
    assert playbook(gone, clusters).recap["one"]["changed"] == 0
    assert controller.login(carol, password)[0] == 400
