"""The audit trail on real etcd: a record in the same transaction as each write, read back with
etcdctl; `deisctl audit` and `audit verify`; concurrent writers; tampering found."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import pytest

from tests.helpers import assert_error
from tests.rig.cli import deisctl_command

RECORDS = "/deisctl-audit/deis/records/"


def records(etcd) -> list[tuple[dict, int]]:
    """Every record with its mod_revision, read with etcdctl."""
    out = json.loads(etcd.etcdctl("get", RECORDS, "--prefix", "-w", "json").stdout)
    import base64

    return [(json.loads(base64.b64decode(kv["value"])), int(kv["mod_revision"])) for kv in out.get("kvs", [])]


def mod_revision(etcd, key: str) -> int:
    return int(json.loads(etcd.etcdctl("get", key, "-w", "json").stdout)["kvs"][0]["mod_revision"])


def dump(etcd) -> str:
    return etcd.etcdctl("get", "", "--from-key").stdout


def test_each_write_command_leaves_one_record_at_its_own_revision(dctl, etcd, tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text("controller:\n  workers: '3'\n  registrationMode: admin_only\n")
    steps = [
        (["--reason", "ticket 42", "config", "controller", "set", "workers=2"], [("controller", "workers", "put")]),
        (["config", "apply", "-f", str(settings)], [("controller", "registrationMode", "put"),
                                                     ("controller", "workers", "put")]),
        (["registration", "disable"], [("controller", "registrationEnabled", "put"),
                                      ("controller", "registrationMode", "put")]),
        (["config", "controller", "rm", "workers"], [("controller", "workers", "delete")]),
    ]
    for args, changes in steps:
        out = dctl(*args)
        assert out.exit_code == 0, (args, out.stderr)
        record, revision = records(etcd)[-1]
        assert [(c["component"], c["key"], c["action"]) for c in record["changes"]] == changes, record
        assert record["command"].startswith("deisctl ") and args[-1].split("=")[0] in record["command"]
        assert record["user"] and record["host"] and record["time"].endswith("+00:00")
        key = f"/deis/{changes[0][0]}/{changes[0][1]}"
        if changes[0][2] == "put":
            assert mod_revision(etcd, key) == revision  # the change and its record: one transaction
    first = records(etcd)[0][0]
    assert first["reason"] == "ticket 42" and "workers=2" not in first["command"]
    assert [r["seq"] for r, _ in records(etcd)] == [1, 2, 3, 4]
    out = dctl("audit", "verify")
    assert out.exit_code == 0 and "4 records" in out.stdout, out.stderr


def test_a_secret_value_is_nowhere_but_in_its_own_key(dctl, etcd):
    secret = "Hunter2-very-secret"
    assert dctl("config", "builder", "set", f"secretKey={secret}").exit_code == 0
    everything = dump(etcd)
    assert everything.count(secret) == 1  # the key's own value
    listed = dctl("audit", "-o", "json")
    assert secret not in listed.stdout and listed.exit_code == 0
    assert json.loads(listed.stdout)[-1]["changes"] == [{"component": "builder", "key": "secretKey", "action": "put"}]


def test_export_apply_and_prune_leave_the_records_alone(dctl, etcd, tmp_path):
    assert dctl("config", "controller", "set", "workers=2").exit_code == 0
    exported = dctl("config", "export", "-o", "json")
    assert "deisctl-audit" not in exported.stdout and "seq" not in exported.stdout
    document = tmp_path / "doc.yaml"
    document.write_text("controller:\n  workers: '2'\n")
    out = dctl("config", "apply", "-f", str(document), "--prune", "--yes")
    assert out.exit_code == 0, out.stderr
    assert len(records(etcd)) == 1  # nothing to write: no record, and none pruned


def test_audit_off_writes_no_record(dctl, etcd):
    out = dctl("config", "controller", "set", "workers=2", env={"DEISCTL_AUDIT": "off"})
    assert out.exit_code == 0, out.stderr
    assert records(etcd) == []
    assert_error(dctl("config", "controller", "set", "workers=3", env={"DEISCTL_AUDIT": "maybe"}), 2, "DEISCTL_AUDIT")


def test_audit_lists_and_filters(dctl, etcd):
    for n in range(3):
        assert dctl("config", "controller", "set", f"workers={n + 1}").exit_code == 0
    assert dctl("config", "platform", "set", "domain=example.com").exit_code == 0
    rows = json.loads(dctl("audit", "controller", "-o", "json").stdout)
    assert [r["seq"] for r in rows] == [1, 2, 3] and all(r["revision"] for r in rows)
    assert [r["seq"] for r in json.loads(dctl("audit", "--limit", "1", "-o", "json").stdout)] == [4]
    assert [r["seq"] for r in json.loads(dctl("audit", "--key", "domain", "-o", "json").stdout)] == [4]
    text = dctl("audit").stdout
    assert text.splitlines()[0].split()[:3] == ["SEQ", "REVISION", "TIME"] and "platform/domain" in text


def test_two_concurrent_writers_keep_one_whole_chain(cli, etcd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env["DEISCTL_ENDPOINTS"] = etcd.endpoints
    failures = []

    def writer(name):
        from deisctl import api

        client = api.Client(endpoints=[etcd.endpoints])
        for n in range(100):
            try:
                client.set("controller", {f"concurrent{name}": str(n)}, new_key=True)
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                failures.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert failures == []
    assert len(records(etcd)) == 200
    assert (etcd.read("/deis/controller/concurrentA"), etcd.read("/deis/controller/concurrentB")) == ("99", "99")
    verified = cli("--endpoints", etcd.endpoints, "audit", "verify")
    assert verified.exit_code == 0, verified.stderr


@pytest.mark.parametrize("tamper", ["delete", "edit"])
def test_verify_names_the_record_deleted_or_edited(cli, dctl, etcd, tamper):
    for n in range(4):
        assert dctl("config", "controller", "set", f"workers={n + 1}").exit_code == 0
    key = RECORDS + f"{2:016d}"
    if tamper == "delete":
        etcd.etcdctl("del", key)
    else:
        record = json.loads(etcd.etcdctl("get", key, "--print-value-only").stdout)
        record["reason"] = "nothing to see"
        etcd.etcdctl("put", key, json.dumps(record))
    out = dctl("audit", "verify")
    assert out.exit_code == 1, out.stdout + out.stderr
    assert "record 2 was" in out.stderr, out.stderr


def test_retention_keeps_the_newest_and_verify_still_passes(dctl, etcd):
    from deisctl.etcd.audit import TRIM_SLACK

    assert dctl("audit", "policy", "--keep", "5").exit_code == 0  # the cluster's policy
    for n in range(TRIM_SLACK + 10):
        assert dctl("config", "controller", "set", f"workers={n + 1}").exit_code == 0
    kept = records(etcd)
    assert len(kept) < TRIM_SLACK and kept[-1][0]["seq"] == TRIM_SLACK + 11  # the policy's record first
    assert dctl("audit", "verify").exit_code == 0


def test_kill_9_during_a_big_apply_leaves_a_record_for_each_transaction_that_landed(etcd, tmp_path):
    """Every revision that wrote keys has its record, and no record exists without its keys."""
    document = tmp_path / "big.yaml"
    document.write_text("bigapp:\n" + "".join(f"  k{i:05d}: v{i}\n" for i in range(10000)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    proc = subprocess.Popen([*deisctl_command(), "--endpoints", etcd.endpoints, "config", "apply", "-f",
                             str(document), "--new-component"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not records(etcd) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    kept = records(etcd)
    assert kept, "no transaction had landed"
    keys = json.loads(etcd.etcdctl("get", "/deis/bigapp/", "--prefix", "-w", "json").stdout).get("kvs", [])
    key_revisions = {int(kv["mod_revision"]) for kv in keys}
    assert key_revisions == {revision for _, revision in kept}
    assert sum(record["count"] for record, _ in kept) == len(keys)


def test_history_shows_who_wrote_each_revision_deisctl_recorded(dctl, etcd):
    assert dctl("--reason", "more workers", "config", "controller", "set", "workers=2").exit_code == 0
    etcd.write("/deis/controller/workers", "3")  # etcdctl: no record
    out = dctl("config", "controller", "history", "workers")
    lines = out.stdout.splitlines()[-2:]  # (earlier tests' generations of the key may come first)
    assert lines[0].endswith(": more workers]") and "[by " in lines[0] and "@" in lines[0], lines
    assert lines[1].endswith("  [by unknown: not written by deisctl]"), lines
    entries = json.loads(dctl("config", "controller", "history", "workers", "-o", "json").stdout)["entries"][-2:]
    assert entries[0]["author"]["reason"] == "more workers" and entries[1]["author"] is None


def test_records_older_than_the_maximum_age_are_trimmed_and_verify_still_passes(dctl, etcd):
    for n in range(5):
        assert dctl("config", "controller", "set", f"workers={n + 1}").exit_code == 0
    # A tenth of a second later, a maximum age of a millionth of a day (86 ms) makes them all old.
    time.sleep(0.2)
    assert dctl("audit", "policy", "--max-age", "0.000001").exit_code == 0  # record 6 (the policy's)
    time.sleep(0.2)
    out = dctl("config", "controller", "set", "workers=9")
    assert out.exit_code == 0, out.stderr
    assert [record["seq"] for record, _ in records(etcd)] == [7]
    verified = dctl("audit", "verify")
    assert verified.exit_code == 0 and "records before 7 were trimmed" in verified.stdout, verified.stdout
    assert_error(dctl("audit", "policy", "--max-age", "-1"), 2, "--max-age takes a positive number or none")


def test_a_role_without_access_to_the_trail_is_told_how_to_write(tls_files):
    """A role that may write /deis/ only: the audited write is refused (exit 5, nothing written)
    with the way out, and the hint followed literally writes."""
    from tests.helpers import hint_of
    from tests.rig.etcd import EtcdCluster

    with EtcdCluster(1, tls=tls_files, name="audit-role") as server:
        server.etcdctl("role", "add", "deis-writer")
        server.etcdctl("role", "grant-permission", "deis-writer", "--prefix=true", "readwrite", "/deis/")
        server.etcdctl("user", "add", "writer:Wr1ter-pw")
        server.etcdctl("user", "grant-role", "writer", "deis-writer")
        server.enable_auth("root", "R00t-pw")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
        env.update(DEISCTL_ENDPOINTS=server.endpoints, DEISCTL_CACERT=str(tls_files.ca), DEISCTL_USER="writer",
                   DEISCTL_PASSWORD="Wr1ter-pw")
        command = [*deisctl_command(), "config", "controller", "set", "workers=2"]
        refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 5, refused.stderr
        assert "need readwrite on /deisctl-audit/deis/" in refused.stderr and server.read("/deis/controller/workers") \
            is None
        hint = hint_of(type("Out", (), {"stderr": refused.stderr})())
        assert hint == "grant that to the etcd user's role, or set DEISCTL_AUDIT=off to write without a record"
        followed = subprocess.run(command, env=dict(env, DEISCTL_AUDIT="off"), capture_output=True, text=True,
                                  timeout=60)
        assert followed.returncode == 0, followed.stderr
        assert server.read("/deis/controller/workers") == "2"


def test_audit_since_keeps_the_records_from_that_time(dctl, etcd):
    assert dctl("config", "controller", "set", "workers=2").exit_code == 0
    cut = records(etcd)[-1][0]["time"]
    time.sleep(0.01)
    assert dctl("config", "controller", "set", "workers=3").exit_code == 0
    newest = records(etcd)[-1][0]["time"]
    assert [r["seq"] for r in json.loads(dctl("audit", "--since", newest, "-o", "json").stdout)] == [2]
    assert [r["seq"] for r in json.loads(dctl("audit", "--since", cut, "-o", "json").stdout)] == [1, 2]
    assert json.loads(dctl("audit", "--since", "2999-01-01", "-o", "json").stdout) == []
    assert_error(dctl("audit", "--limit", "0"), 2, "--limit must be a positive whole number")


def test_the_recorded_command_holds_no_password_and_no_value(tls_files):
    """--user NAME:PASSWORD on the command line: the record keeps the name only."""
    from tests.rig.etcd import EtcdCluster

    with EtcdCluster(1, tls=tls_files, name="audit-user") as server:
        server.enable_auth("root", "R00t-pw")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
        done = subprocess.run([*deisctl_command(), "--endpoints", server.endpoints, "--cacert", str(tls_files.ca),
                               "--user", "root:R00t-pw", "config", "builder", "set", "secretKey=s3cret-v4lue"],
                              env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        raw = server.etcdctl("get", RECORDS, "--prefix", "--print-value-only").stdout
        record = json.loads(raw.strip().splitlines()[-1])
        assert record["command"].endswith("--user root config builder set secretKey=...")
        assert record["etcd_user"] == "root" and "R00t-pw" not in raw and "s3cret-v4lue" not in raw
