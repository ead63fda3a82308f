"""deisctl.api, the public Python API, against a real etcd (and the rig's real sshd, dockerd and
controller for the user operations): every operation once, state checked with etcdctl; nothing
printed, nothing read from the process's environment, questions only through the callables given.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from deisctl import api
from tests.helpers import new_users, write

ROOT = Path(__file__).resolve().parent.parent


def test_the_architecture_example_runs(etcd, capsys):
    """The example in ARCHITECTURE.md, as written there, against the test etcd."""
    text = (ROOT / "ARCHITECTURE.md").read_text()
    example = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert "http://127.0.0.1:2379" in example
    exec(compile(example.replace("http://127.0.0.1:2379", etcd.endpoints), "ARCHITECTURE.md", "exec"), {})
    assert etcd.read("/deis/controller/registrationMode") == "admin_only"
    assert capsys.readouterr() == ("", "")  # the API prints nothing


def test_the_api_imports_neither_click_nor_paramiko():
    probe = "import sys, deisctl.api; print(sorted({'click', 'paramiko'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_config_operations(client, etcd, tmp_path, capsys):
    c = client()
    result = c.set("controller", {"registrationMode": "admin_only", "workers": "4"})
    assert [(ch.key, ch.old, ch.new) for ch in result.changes] == [("registrationMode", None, "admin_only"),
                                                                   ("workers", None, "4")]
    assert etcd.read_prefix("/deis/") == {"/deis/controller/registrationMode": "admin_only",
                                          "/deis/controller/workers": "4"}
    assert c.get("controller", ["workers"]).values == {"workers": b"4"}
    assert c.list("controller").items == {"registrationMode": "admin_only", "workers": "4"}
    assert c.set("controller", {"workers": "5"}, dry_run=True).changes[0].old == "4"
    assert etcd.read("/deis/controller/workers") == "4"
    assert c.rm("controller", ["workers"]).keys == ["workers"]
    assert etcd.read_prefix("/deis/") == {"/deis/controller/registrationMode": "admin_only"}
    assert any(row[2] == "registrationMode" for row in c.schema("controller").rows)
    assert capsys.readouterr() == ("", "")


def test_errors_carry_the_cli_exit_code_and_line(client):
    c = client()
    with pytest.raises(api.NotFoundError) as missing:
        c.get("controller", ["nope"])
    assert missing.value.exit_code == 3
    assert missing.value.render() == "error: key not found: /deis/controller/nope"
    with pytest.raises(api.UsageError) as bad:
        c.set("controller", {"workers": "many"})
    assert bad.value.exit_code == 2
    with pytest.raises(api.UnreachableError) as down:
        api.Client(endpoints="http://127.0.0.1:9", dial_timeout=0.5).get("controller", ["workers"])
    assert down.value.exit_code == 4 and "cannot reach etcd" in down.value.message


def test_documents_as_mappings_and_files(client, etcd, tmp_path):
    c = client()
    etcd.write("/deis/controller/workers", "2")
    etcd.write("/deis/controller/stale", "x")
    document = {"controller": {"workers": 3, "registrationMode": "admin_only"}}  # numbers stored as their text
    compared = c.diff(document)
    assert compared.exit_code == 1 and sorted(ch.key for ch in compared.changes) == ["registrationMode", "workers"]
    assert c.apply(document, dry_run=True).dry_run is True
    assert etcd.read("/deis/controller/workers") == "2"
    applied = c.apply(document, prune=True, yes=True)
    assert sorted((ch.key, ch.action) for ch in applied.changes) == [
        ("registrationMode", "added"), ("stale", "removed"), ("workers", "changed")]
    assert etcd.read_prefix("/deis/") == {"/deis/controller/workers": "3",
                                          "/deis/controller/registrationMode": "admin_only"}
    assert c.apply(document).changes == []  # idempotent
    path = write(tmp_path, "controller:\n  workers: '4'\n")
    assert [ch.new for ch in c.apply(path).changes] == ["4"]
    exported = c.export(["controller"])
    assert exported.document == {"controller": {"registrationMode": "admin_only", "workers": "4"}}
    assert c.diff(exported.document).exit_code == 0


def test_confirmation_comes_only_from_the_callable_given(client, etcd):
    for i in range(7):
        etcd.write(f"/deis/bulk/k{i}", "v")
    with pytest.raises(api.UsageError) as refused:
        client().apply({"bulk": {"k0": "v"}}, prune=True)  # nobody to ask: refused
    assert "nothing was written (pass yes=True" in refused.value.render()
    assert len(etcd.read_prefix("/deis/bulk/")) == 7
    asked = []
    with pytest.raises(api.UsageError, match="not confirmed"):
        client(confirm=lambda q: asked.append(q) or False).apply({"bulk": {"k0": "v"}}, prune=True)
    assert asked == ["Delete these 6 key(s)?"] and len(etcd.read_prefix("/deis/bulk/")) == 7
    client(confirm=lambda q: True).apply({"bulk": {"k0": "v"}}, prune=True)
    assert etcd.read_prefix("/deis/bulk/") == {"/deis/bulk/k0": "v"}


def test_history_rollback_watch(client, etcd):
    c = client()
    key = f"k{uuid.uuid4().hex}"  # etcd keeps the history of the keys other tests wrote
    c.set("myapp", {key: "1"}, new_component=True)
    c.set("myapp", {key: "2"})
    entries = c.history("myapp", key).entries
    assert [e.value for e in entries] == [b"1", b"2"]
    assert c.rollback("myapp", key, entries[0].revision).change.new == "1"
    assert etcd.read(f"/deis/myapp/{key}") == "1"


def test_watch_yields_deisctl_events(client, etcd):
    import threading

    c = client()
    events = c.watch("controller", count=2, timeout=20)
    writer = threading.Timer(1.0, lambda: (etcd.write("/deis/controller/workers", "7"),
                                            etcd.etcdctl("del", "/deis/controller/workers")))
    writer.start()
    try:
        seen = [(e.change.key, e.change.old, e.change.new) for e in events]
    finally:
        writer.join()
        events.close()
    assert seen == [("workers", None, "7"), ("workers", "7", None)]
    assert any("watching /deis/controller/" in message for message in c.messages)


def test_registration_and_check(client, etcd):
    c = client()
    assert c.registration().consistent is True
    changed = c.set_registration("admin_only")
    assert changed.changed is True
    assert etcd.read_prefix("/deis/controller/") == {"/deis/controller/registrationEnabled": "0",
                                                     "/deis/controller/registrationMode": "admin_only"}
    assert c.set_registration("admin_only").changed is False
    with pytest.raises(api.UsageError):
        c.set_registration("closed")
    result = c.check()
    assert result.exit_code == 1  # platform/domain is not set
    assert ("setting platform/domain", False) in [(name, ok) for name, ok, _ in result.rows]


def test_no_process_environment_and_no_config_file_unless_named(client, etcd, tmp_path, monkeypatch):
    monkeypatch.setenv("DEISCTL_PREFIX", "/elsewhere")
    config = write(tmp_path, "current-context: other\ncontexts:\n  other:\n    prefix: /other\n", "config.yaml")
    monkeypatch.setenv("DEISCTL_CONFIG", config)
    client().set("controller", {"workers": "4"})
    assert etcd.read_prefix("/deis/") == {"/deis/controller/workers": "4"}
    named = client(context="other", config_file=config)
    named.set("controller", {"workers": "5"})
    assert etcd.read("/other/controller/workers") == "5"
    given = client(env={"DEISCTL_PREFIX": "/given"})
    given.set("controller", {"workers": "6"})
    assert etcd.read("/given/controller/workers") == "6"


def test_user_operations_on_the_real_controller(etcd, sshd_server, controller_container):
    node = api.Node(host=sshd_server.host, ssh_port=sshd_server.port, ssh_user=sshd_server.user,
                    ssh_key=sshd_server.client_key, known_hosts=sshd_server.known_hosts)
    c = api.Client(endpoints=etcd.endpoints, node=node)
    bob, alice = new_users(2)
    tokens = controller_container.seed(bob, alice)
    assert c.revoke_token([bob], dry_run=True).users[0]["result"] == "would-revoke"
    assert controller_container.check_token(tokens[bob]) == 200
    revoked = c.revoke_token([bob])
    assert revoked.changed is True and controller_container.check_token(tokens[bob]) == 401
    assert c.revoke_token([bob]).changed is False
    assert [row["result"] for row in c.promote([bob, alice]).users] == ["promoted", "promoted"]
    assert c.demote([bob]).users[0]["result"] == "demoted"  # alice is still an administrator
    assert bob in [row["username"] for row in c.users().users]
    with pytest.raises(api.UsageError, match="all_users revokes every user.s token: confirm with yes=True"):
        c.revoke_token(all_users=True)  # nobody to ask: refused before connecting
    assert c.check(controller=True).rows[-1][1] is True  # the controller's container runs


def test_edit_without_an_editor_and_its_conflict_rule(client, etcd):
    etcd.write("/deis/controller/workers", "2")
    etcd.write("/deis/controller/secretKey", "s3cret")
    edited = client().edit("controller", lambda doc: {**doc, "workers": "4", "registrationMode": "admin_only"})
    assert sorted((c.key, c.action) for c in edited.changes) == [("registrationMode", "added"),
                                                                 ("workers", "changed")]
    assert etcd.read_prefix("/deis/controller/") == {"/deis/controller/workers": "4",
                                                     "/deis/controller/secretKey": "s3cret",  # left masked: kept
                                                     "/deis/controller/registrationMode": "admin_only"}
    gone = client().edit("controller", {"workers": "4", "secretKey": "********"})  # the new document itself
    assert [(c.key, c.action) for c in gone.changes] == [("registrationMode", "removed")]

    def meanwhile(doc):  # another writer, between the read and the write
        etcd.write("/deis/controller/workers", "9")
        return {**doc, "workers": "5"}

    with pytest.raises(api.ConflictError) as caught:
        client().edit("controller", meanwhile)
    assert caught.value.exit_code == 6 and "nothing was written" in caught.value.message
    assert etcd.read("/deis/controller/workers") == "9"
    with pytest.raises(api.UsageError):
        client().edit("controller", lambda doc: ["not", "a", "mapping"])


def test_audit_verify_policy_and_repair(client, etcd, tmp_path):
    anchors = tmp_path / "anchors.json"
    deis = client(audit_anchors=str(anchors), reason="api test")
    deis.set("controller", {"workers": "2"})
    deis.set("controller", {"workers": "3"})
    records = deis.audit("controller").records
    assert [r["seq"] for r in records] == [1, 2] and records[0]["reason"] == "api test"
    verified = deis.audit_verify()
    assert (verified.exit_code, verified.problem, verified.head.split(":")[0]) == (0, None, "2")
    assert anchors.exists() and json.loads(anchors.read_text())  # this client's anchor, outside etcd
    assert deis.audit_policy(keep=500).keep == 500 and deis.audit_policy().stored
    etcd.etcdctl("del", "/deisctl-audit/deis/records/0000000000000003")  # the newest: the policy's record
    etcd.etcdctl("put", "/deisctl-audit/deis/head", '{"seq": 2, "hash": "%s", "first": 1, "anchor": ""}'
                 % verified.head.split(":")[1])
    broken = deis.audit_verify()  # the chain is whole again; the anchor (record 3) says otherwise
    assert broken.exit_code == 1 and "the trail ends at record 2" in broken.problem
    etcd.etcdctl("del", "/deisctl-audit/deis/head")
    with pytest.raises(api.DeisctlError, match="never overwritten") as caught:
        deis.set("controller", {"workers": "4"})
    assert "deisctl audit repair" in caught.value.hint
    assert deis.audit_repair().record == 3
    deis.set("controller", {"workers": "4"})
    assert deis.audit_verify(expect_head=verified.head).exit_code == 0
