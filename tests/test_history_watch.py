"""`config COMPONENT history|rollback|watch` on etcd's revisions, single node and 3 members."""

from __future__ import annotations

import json
import signal
import threading
import time

import pytest

from tests.rig.watch import Watcher, connected_ports
from tests.helpers import assert_error


def put(cluster, key: str, value: str) -> int:
    """Write with etcdctl; return the revision of the write."""
    cluster.write(key, value)
    out = cluster.etcdctl("get", key, "-w", "json").stdout
    return int(json.loads(out)["kvs"][0]["mod_revision"])


# -- history ------------------------------------------------------------------------------

def test_history_after_several_sets(dctl, etcd):
    revisions = [put(etcd, "/deis/controller/workers", str(n)) for n in (1, 2, 3)]
    etcd.write("/deis/controller/other", "x")  # another key's revisions are not in this history
    out = dctl("config", "controller", "history", "workers")
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["REVISION", "EVENT", "VALUE"]
    # The session's etcd is emptied by deleting keys: earlier tests' generations of the key may
    # precede these (history spans deletions); compare from this test's first write on.
    assert all(line.endswith("  [by unknown: not written by deisctl]") for line in lines[1:])  # etcdctl wrote them
    rows = [line.rsplit("  [by ", 1)[0].split() for line in lines[1:]]
    assert [row for row in rows if int(row[0]) >= revisions[0]] == [
        [str(revisions[0]), "created", "1"], [str(revisions[1]), "changed", "2"],
        [str(revisions[2]), "changed", "3", "(current)"]]

    data = json.loads(dctl("config", "controller", "history", "workers", "-o", "json").stdout)
    data["entries"] = [e for e in data["entries"] if e["revision"] >= revisions[0]]
    data["compacted_before"] = None  # (another test may have compacted the session's etcd)
    assert data == {"key": "controller/workers", "compacted_before": None, "entries": [
        {"revision": revisions[0], "event": "created", "value": "1", "author": None},
        {"revision": revisions[1], "event": "changed", "value": "2", "author": None},
        {"revision": revisions[2], "event": "changed", "value": "3", "author": None}]}


def test_history_across_delete_and_recreate_and_of_a_deleted_key(dctl, etcd):
    first = put(etcd, "/deis/myapp/a", "1")
    etcd.etcdctl("del", "/deis/myapp/a")
    second = put(etcd, "/deis/myapp/a", "2")
    data = json.loads(dctl("config", "myapp", "history", "a", "-o", "json").stdout)
    data["entries"] = [e for e in data["entries"] if e["revision"] >= first]
    assert [(e["revision"], e["event"], e["value"]) for e in data["entries"]] == [
        (first, "created", "1"), (first + 1, "deleted", None), (second, "created", "2")]
    etcd.etcdctl("del", "/deis/myapp/a")
    data = json.loads(dctl("config", "myapp", "history", "a", "-o", "json").stdout)
    assert [e["event"] for e in data["entries"] if e["revision"] >= first] == [
        "created", "deleted", "created", "deleted"]


def test_history_masks_secrets_unless_asked(dctl, etcd):
    put(etcd, "/deis/controller/secretKey", "hunter2")
    assert "hunter2" not in dctl("config", "controller", "history", "secretKey").stdout
    assert "hunter2" in dctl("config", "controller", "history", "secretKey", "--show-secrets").stdout


def test_history_of_a_key_that_never_existed_is_not_found(dctl, etcd):
    assert_error(dctl("config", "controller", "history", "nothing"), 3, "no history for /deis/controller/nothing")


def test_history_after_a_compaction_says_so(dctl, etcd):
    revisions = [put(etcd, "/deis/controller/workers", str(n)) for n in range(1, 6)]
    etcd.etcdctl("compact", str(revisions[2]))
    out = dctl("config", "controller", "history", "workers", "-o", "json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["compacted_before"] == revisions[2]
    assert [e["value"] for e in data["entries"]] == ["3", "4", "5"]
    assert f"compacted its history up to revision {revisions[2]}" in out.stderr

    # Rolling back to a compacted revision is a clear error; to a kept one works.
    assert_error(dctl("config", "controller", "rollback", "workers", "--to-revision", str(revisions[0])), 3,
                 f"revision {revisions[0]}", "compacted")
    out = dctl("config", "controller", "rollback", "workers", "--to-revision", str(revisions[3]))
    assert out.exit_code == 0, out.stderr
    assert etcd.read("/deis/controller/workers") == "4"


# -- rollback -------------------------------------------------------------------------------

def test_rollback_restores_the_value_at_a_revision(dctl, etcd):
    revisions = [put(etcd, "/deis/controller/registrationMode", v) for v in ("enabled", "admin_only", "disabled")]
    out = dctl("config", "controller", "rollback", "registrationMode", "--to-revision", str(revisions[0]))
    assert out.exit_code == 0, out.stderr
    assert out.stdout == f"registrationMode=enabled (restored: the value at revision {revisions[0]})\n"
    assert etcd.read("/deis/controller/registrationMode") == "enabled"
    # Nothing to do the second time: no write.
    out = dctl("config", "controller", "rollback", "registrationMode", "--to-revision", str(revisions[0]),
               "-o", "json")
    assert json.loads(out.stdout) == {"key": "registrationMode", "value": "enabled", "previous": "enabled",
                                      "changed": False, "revision": revisions[0]}


def test_rollback_of_a_deleted_key_recreates_it(dctl, etcd):
    revision = put(etcd, "/deis/myapp/a", "1")
    etcd.etcdctl("del", "/deis/myapp/a")
    assert dctl("config", "myapp", "rollback", "a", "--to-revision", str(revision)).exit_code == 0
    assert etcd.read("/deis/myapp/a") == "1"


def test_rollback_errors(dctl, etcd):
    revision = put(etcd, "/deis/myapp/other", "x")
    put(etcd, "/deis/myapp/a", "1")
    assert_error(dctl("config", "myapp", "rollback", "a", "--to-revision", str(revision)), 3,
                 "did not exist at revision")
    assert_error(dctl("config", "myapp", "rollback", "a", "--to-revision", "999999"), 2, "does not exist yet")
    assert_error(dctl("config", "myapp", "rollback", "a", "--to-revision", "0"), 2)


def test_rollback_guarded_against_a_concurrent_change(client, etcd):
    from deisctl.api import ConflictError

    first = put(etcd, "/deis/controller/workers", "1")
    put(etcd, "/deis/controller/workers", "2")
    interfering = client(before_txn=lambda i, n: etcd.write("/deis/controller/workers", "7"))
    with pytest.raises(ConflictError) as caught:
        interfering.rollback("controller", "workers", first)
    assert "/deis/controller/workers" in caught.value.render() and "nothing was written" in caught.value.message
    assert etcd.read("/deis/controller/workers") == "7"


# -- watch ----------------------------------------------------------------------------------

@pytest.fixture
def watchers():
    started: list[Watcher] = []

    def start(*args):
        started.append(Watcher(*args))
        return started[-1]

    yield start
    for watcher in started:
        watcher.stop()


def test_watch_prints_changes_then_stops_at_count(etcd, watchers):
    etcd.write("/deis/controller/workers", "1")
    w = watchers("--endpoints", etcd.endpoints, "config", "controller", "watch", "--count", "4")
    w.wait_ready()
    etcd.write("/deis/controller/workers", "2")
    etcd.write("/deis/controller/secretKey", "hunter2")
    etcd.write("/deis/controllers/not-this-one", "x")
    etcd.etcdctl("del", "/deis/controller/workers")
    etcd.write("/deis/controller/auth/ldap/bind/dn", "cn=a")
    assert w.collect(4) == ["workers: 1 → 2", "secretKey: (none) → ********", "workers: 2 → (deleted)",
                            "auth/ldap/bind/dn: (none) → cn=a"]
    assert w.wait() == 0


def test_watch_one_key_as_json_lines(etcd, watchers):
    w = watchers("--endpoints", etcd.endpoints, "-o", "json", "config", "myapp", "watch", "a", "--count", "2")
    w.wait_ready()
    etcd.write("/deis/myapp/b", "ignored")
    first = put(etcd, "/deis/myapp/a", "1")
    put(etcd, "/deis/myapp/a", "2")
    events = [json.loads(line) for line in w.collect(2)]
    assert events == [{"key": "a", "event": "put", "revision": first, "old": None, "new": "1"},
                      {"key": "a", "event": "put", "revision": first + 1, "old": "1", "new": "2"}]
    assert w.wait() == 0


def test_watch_timeout(cli, etcd):
    started = time.monotonic()
    out = cli("--endpoints", etcd.endpoints, "config", "myapp", "watch", "--timeout", "0.5")
    assert (out.exit_code, out.stdout) == (0, "")
    assert time.monotonic() - started < 3
    out = cli("--endpoints", etcd.endpoints, "config", "myapp", "watch", "--timeout", "0.5", "--count", "1")
    assert out.exit_code == 1
    assert out.stderr.splitlines()[-1] == "error: timed out after 0.5s: 0 of 1 changes seen"


def test_watch_ctrl_c_exits_cleanly(etcd, watchers):
    w = watchers("--endpoints", etcd.endpoints, "config", "myapp", "watch")
    w.wait_ready()
    etcd.write("/deis/myapp/a", "1")
    assert w.collect(1) == ["a: (none) → 1"]
    w.proc.send_signal(signal.SIGINT)
    assert w.wait(10) == 130
    stderr = "".join(w.stderr)
    assert "Traceback" not in stderr and "error:" not in stderr


@pytest.mark.cluster
def test_watch_survives_the_death_of_its_member_without_losing_an_event(cluster, watchers):
    """Kill the member the watch streams from, mid-stream, while changes keep coming."""
    total = 60
    w = watchers("--endpoints", cluster.endpoints, "-o", "json", "config", "myapp", "watch", "--count", str(total))
    w.wait_ready()
    serving = [i for i, m in enumerate(cluster.members) if m.client_port in connected_ports(w.proc.pid)]
    assert len(serving) == 1, serving
    victim = cluster.members[serving[0]]
    others = ",".join(m.url for m in cluster.members if m is not victim)
    killed = threading.Event()

    def writer():
        for i in range(total):
            deadline = time.monotonic() + 20
            while True:  # etcdctl may time out while the survivors elect a leader: retry, once applied
                done = cluster.etcdctl("put", "/deis/myapp/n", str(i), endpoints=others, check=False)
                if done.returncode == 0 or cluster.read("/deis/myapp/n") == str(i):
                    break
                assert time.monotonic() < deadline, done.stderr
                time.sleep(0.2)
            if i == total // 3:
                victim.kill()
                killed.set()

    thread = threading.Thread(target=writer)
    thread.start()
    events = [json.loads(line) for line in w.collect(total, timeout=60)]
    thread.join()
    assert killed.is_set()
    assert [e["new"] for e in events] == [str(i) for i in range(total)]  # none lost, none repeated
    assert [e["old"] for e in events[1:]] == [str(i) for i in range(total - 1)]
    revisions = [e["revision"] for e in events]
    assert revisions == sorted(set(revisions))
    assert w.wait() == 0
    notes = [line for line in w.stderr if line.startswith("watch: lost")]
    assert notes and "resuming at revision" in notes[0]
    # The death is reported as such: the connection had worked, so no hint about http vs TLS.
    assert "TLS" not in notes[0] and ("closed the connection" in notes[0] or "connection lost" in notes[0]), notes


def write_retrying(cluster, endpoints: str, key: str, value: str) -> None:
    """etcdctl put through endpoints; retried (once applied) while a new leader is elected."""
    deadline = time.monotonic() + 20
    while True:
        done = cluster.etcdctl("put", key, value, endpoints=endpoints, check=False)
        if done.returncode == 0 or cluster.etcdctl("get", key, "--print-value-only", endpoints=endpoints,
                                                   check=False).stdout.rstrip("\n") == value:
            return
        assert time.monotonic() < deadline, done.stderr
        time.sleep(0.2)


@pytest.mark.cluster
def test_watch_resumes_elsewhere_when_its_member_hangs(cluster, watchers, capsys):
    """SIGSTOP the member serving the watch after 50 of 150 writes (which go to the other members):
    the stream is found dead by a progress request that gets no answer, and resumes on another
    member at the next revision: all 150 events, none twice, in order."""
    total, hang_after, command_timeout = 150, 50, 2
    w = watchers("--endpoints", cluster.endpoints, "--command-timeout", str(command_timeout), "-o", "json",
                 "config", "myapp", "watch", "--count", str(total))
    w.wait_ready()
    serving = [i for i, m in enumerate(cluster.members) if m.client_port in connected_ports(w.proc.pid)]
    assert len(serving) == 1, serving
    victim = cluster.members[serving[0]]
    others = ",".join(m.url for m in cluster.members if m is not victim)
    paused_at = []

    def writer():
        for i in range(total):
            write_retrying(cluster, others, "/deis/myapp/n", str(i))
            if i == hang_after - 1:
                victim.pause()
                paused_at.append(time.monotonic())

    thread = threading.Thread(target=writer)
    try:
        thread.start()
        events = [json.loads(line) for line in w.collect(total, timeout=90)]
        thread.join()
    finally:
        victim.resume()
    assert [e["new"] for e in events] == [str(i) for i in range(total)]  # none lost, none repeated
    revisions = [e["revision"] for e in events]
    assert revisions == sorted(set(revisions))
    assert w.wait() == 0
    lost = [(at, line) for at, line in w.stderr_at if line.startswith("watch: lost")]
    assert len(lost) == 1 and "stopped answering" in lost[0][1], w.stderr
    detected, finished = lost[0][0] - paused_at[0], w.line_at[-1] - paused_at[0]
    # A progress request after 1 s of silence, unanswered for --command-timeout.
    assert detected < 1 + command_timeout + 1.5, detected
    with capsys.disabled():
        print(f"\n[figures] hung watch member (--command-timeout {command_timeout}): detected after "
              f"{detected:.2f}s, all {total} events {finished:.2f}s after the SIGSTOP")


@pytest.mark.cluster
def test_history_on_a_cluster_with_a_dead_member(cli, cluster):
    for n in range(3):
        cluster.write("/deis/controller/workers", str(n + 1))
    cluster.members[0].kill()
    out = cli("--endpoints", cluster.endpoints, "-o", "json", "config", "controller", "history", "workers")
    assert out.exit_code == 0, out.stderr
    assert [e["value"] for e in json.loads(out.stdout)["entries"]][-3:] == ["1", "2", "3"]


@pytest.mark.cluster
def test_history_of_a_deleted_key_on_each_member_of_a_cluster(cli, cluster):
    """Served by any member (the barriers count only rounds that reached the revision read)."""
    for n in range(3):
        cluster.write("/deis/controller/workers", str(n + 1))
    cluster.etcdctl("del", "/deis/controller/workers")
    for member in cluster.members:
        out = cli("--endpoints", member.url, "-o", "json", "config", "controller", "history", "workers")
        assert out.exit_code == 0, out.stderr
        entries = json.loads(out.stdout)["entries"]
        assert [(e["event"], e["value"]) for e in entries][-4:] == \
            [("created", "1"), ("changed", "2"), ("changed", "3"), ("deleted", None)], entries


def test_history_of_a_deleted_key_with_a_long_history_is_complete(client, etcd):
    """A deleted key with 3,000 revisions of its own: all of them, and the delete."""
    import uuid

    import etcd3

    key = f"/deis/myapp/long-{uuid.uuid4().hex[:8]}"
    raw = etcd3.client(host="127.0.0.1", port=etcd.members[0].client_port, timeout=10)
    try:
        for i in range(3000):
            raw.put(key, str(i))
        raw.delete(key)
    finally:
        raw.close()
    entries = client().history("myapp", key.rsplit("/", 1)[1]).entries
    assert len(entries) == 3001 and entries[-1].deleted and entries[-2].value == b"2999"


def test_history_of_a_deleted_key_is_complete_however_long_etcd_takes_to_replay(capsys):
    """etcd replays a watch from revision 1 by reading every revision since (600,000 writes of
    other keys here, well over the 0.4 s pause that once ended the replay): a deleted key's
    history still has every event, and ends as soon as etcd's replay is known to be over."""
    import etcd3

    from deisctl import api
    from tests.rig.etcd import EtcdCluster

    with EtcdCluster(1, name="long-history", extra_args=["--max-txn-ops", "1000"]) as server:
        raw = etcd3.client(host="127.0.0.1", port=server.members[0].client_port, timeout=60)
        try:
            for i in range(3):
                raw.put("/deis/myapp/gone", str(i))
            filler = "x" * 400
            for batch in range(600):
                raw.transaction(compare=[], failure=[], success=[
                    raw.transactions.put(f"/other/{batch}/{i}", filler) for i in range(1000)])
            raw.delete("/deis/myapp/gone")
            raw.put("/deis/myapp/kept", "1")
        finally:
            raw.close()
        client = api.Client(endpoints=[server.endpoints], command_timeout=60)
        started = time.monotonic()
        kept = client.history("myapp", "kept").entries  # ends at its own revision: the replay's time
        replay = time.monotonic() - started
        started = time.monotonic()
        gone = client.history("myapp", "gone").entries
        deleted = time.monotonic() - started
    assert [(e.value, e.deleted) for e in gone] == [(b"0", False), (b"1", False), (b"2", False), (b"", True)]
    assert [e.value for e in kept] == [b"1"]
    with capsys.disabled():
        print(f"\n[figures] history replay of 600k revisions: existing key {replay:.2f}s, deleted key {deleted:.2f}s")


def test_history_of_a_deleted_key_for_a_user_who_may_read_only_its_component(tls_files):
    """The barriers that end a deleted key's replay watch the key's own folder: a role limited
    to /deis/myapp/ reads its history."""
    from deisctl import api
    from tests.rig.etcd import EtcdCluster

    with EtcdCluster(1, tls=tls_files, name="history-role") as server:
        server.etcdctl("put", "/deis/myapp/gone", "1")
        server.etcdctl("put", "/deis/myapp/kept", "2")
        server.etcdctl("del", "/deis/myapp/gone")
        server.etcdctl("put", "/deis/other/x", "3")  # the last write: outside what the role may read
        server.etcdctl("role", "add", "myapp-reader")
        server.etcdctl("role", "grant-permission", "myapp-reader", "--prefix=true", "read", "/deis/myapp/")
        server.etcdctl("user", "add", "reader:Re4der-pw")
        server.etcdctl("user", "grant-role", "reader", "myapp-reader")
        server.enable_auth("root", "R00t-pw")
        client = api.Client(endpoints=[server.endpoints], cacert=str(tls_files.ca), user="reader",
                            password="Re4der-pw")
        entries = client.history("myapp", "gone").entries
        assert [(e.value, e.deleted) for e in entries] == [(b"1", False), (b"", True)]
        with pytest.raises(Exception, match="permission denied"):
            client.get("other", "x")
