"""Hung members and lost replies, on real etcd servers: lost quorum (2 of 3 members SIGSTOPped),
a write whose reply is lost after etcd applied it, and which limit `check` says expired.

The tests print the measured figures (`[figures] ...`) whatever pytest's capture setting.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.helpers import assert_error
from tests.rig.fakes import HungServer, ReplyLosingProxy

DIAL, COMMAND = 1, 2
TIMEOUTS = ["--dial-timeout", str(DIAL), "--command-timeout", str(COMMAND)]
# About --dial-timeout + --command-timeout, plus one retry; and the process's own start-up.
BOUND = 2 * (DIAL + COMMAND) + 1


def figures(capsys, text: str) -> None:
    with capsys.disabled():
        print(f"\n[figures] {text}")


def revision_of(cluster, key: str) -> int:
    return int(json.loads(cluster.etcdctl("get", key, "-w", "json").stdout)["kvs"][0]["mod_revision"])


def wait_leaderless(member, deadline: float = 10) -> None:
    """Until the member says it has no leader (etcd's Status: leader 0)."""
    from deisctl.etcd.endpoints import probe
    import etcd3

    channel = etcd3.Endpoint("127.0.0.1", member.client_port, secure=False)
    try:
        end = time.monotonic() + deadline
        while probe(channel, 1).result().leader != 0:
            assert time.monotonic() < end, "the member still has a leader"
            time.sleep(0.1)
    finally:
        channel.close()


@pytest.mark.cluster
def test_lost_quorum_every_command_exits_4_within_the_timeouts(cluster, run_deisctl, tmp_path, capsys):
    """2 of 3 members SIGSTOPped: the survivor has no leader. Each command says so in one line and
    exits 4 within the timeouts (it refuses at once: deisctl asks for a leader with each request);
    a write says it was not applied."""
    cluster.write("/deis/myapp/a", "1")
    first = revision_of(cluster, "/deis/myapp/a")
    cluster.write("/deis/myapp/a", "2")
    doc = tmp_path / "doc.yaml"
    doc.write_text("myapp:\n  a: '5'\n")
    commands = {
        "set": (["config", "myapp", "set", "--new-component", "a=3"], True),
        "get": (["config", "myapp", "get", "a"], False),
        "rm": (["config", "myapp", "rm", "a"], True),
        "apply": (["config", "apply", "-f", str(doc)], False),  # fails at its read, before writing
        "rollback": (["config", "myapp", "rollback", "a", "--to-revision", str(first)], False),
        "history": (["config", "myapp", "history", "a"], False),
    }
    survivor, *stopped = cluster.members
    elapsed = {}
    try:
        for member in stopped:
            member.pause()
        wait_leaderless(survivor)
        for name, (args, write) in commands.items():
            started = time.monotonic()
            out = run_deisctl("--endpoints", cluster.endpoints, *TIMEOUTS, *args)
            elapsed[name] = time.monotonic() - started
            assert_error(out, 4, "no leader")
            if write:
                assert "the write was not applied" in out.stderr
            assert elapsed[name] < BOUND, (name, elapsed[name])
    finally:
        for member in stopped:
            member.resume()
    assert cluster.read("/deis/myapp/a") == "2"
    figures(capsys, "lost quorum, settled (--dial-timeout 1 --command-timeout 2): "
            + ", ".join(f"{name} exit 4 in {seconds:.2f}s" for name, seconds in elapsed.items()))


@pytest.mark.cluster
def test_lost_quorum_while_a_write_is_in_flight(cluster, cli, capsys):
    """The write is sent before the survivor notices that its leader is gone: it times out, and
    the one line says that it may or may not have been applied."""
    cluster.write("/deis/myapp/a", "1")
    leader = cluster.leader()
    survivor = next(m for i, m in enumerate(cluster.members) if i != leader)
    stopped = [m for m in cluster.members if m is not survivor]
    try:
        for member in stopped:
            member.pause()
        started = time.monotonic()
        out = cli("--endpoints", survivor.url + "," + ",".join(m.url for m in stopped), *TIMEOUTS,
                  "config", "myapp", "set", "--new-component", "a=2")
        elapsed = time.monotonic() - started
    finally:
        for member in stopped:
            member.resume()
    assert_error(out, 4, "the write may or may not have been applied", "check with get")
    assert elapsed < BOUND, elapsed
    figures(capsys, f"lost quorum, write in flight: set exit 4 in {elapsed:.2f}s")


# The gRPC streams of one `set`: 1 the dial probe, 3 the read of the component's keys (the typo
# check), 5 the write.
WRITE_STREAM = 5


def test_set_whose_reply_is_lost_reports_what_it_replaced(cli, etcd):
    """etcd applies the write, its reply never arrives; the retry finds the write in place and
    reports the value it replaced (not its own value, as a plain repeat would)."""
    etcd.write("/deis/myapp/a", "old")
    proxy = ReplyLosingProxy(etcd.members[0].client_port, lose_stream=WRITE_STREAM)
    try:
        out = cli("--endpoints", proxy.url, "--command-timeout", "1", "-o", "json", "config", "myapp", "set", "--new-component", "a=new")
    finally:
        proxy.close()
    assert out.exit_code == 0, out.stderr
    assert proxy.lost.is_set() and proxy.connections >= 2, (proxy.connections, out)
    from tests.helpers import without_revision

    assert without_revision(json.loads(out.stdout)) == [{"key": "a", "value": "new", "previous": "old", "changed": True}]
    assert etcd.read("/deis/myapp/a") == "new"
    history = etcd.etcdctl("get", "/deis/myapp/a", "-w", "json").stdout
    assert json.loads(history)["kvs"][0]["version"] == 2  # written once: not repeated


def test_set_whose_reply_is_lost_then_overwritten_says_previous_is_unknown(cli, etcd):
    """Someone else writes the key between the lost reply and the retry: what our write replaced
    cannot be told, and the output says so instead of guessing; the value asked for is set."""
    etcd.write("/deis/myapp/a", "old")
    proxy = ReplyLosingProxy(etcd.members[0].client_port, lose_stream=WRITE_STREAM,
                             on_lost=lambda: etcd.write("/deis/myapp/a", "other"))
    try:
        out = cli("--endpoints", proxy.url, "--command-timeout", "1", "-o", "json", "config", "myapp", "set", "--new-component", "a=new")
    finally:
        proxy.close()
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout) == [{"key": "a", "value": "new", "previous": None, "changed": None}]
    assert "reply to the write was lost" in out.stderr and "previous: unknown" in out.stderr
    assert etcd.read("/deis/myapp/a") == "new"


def test_check_says_which_limit_expired(cli, etcd, capsys):
    """A port that never completes the connection: --dial-timeout; a server that connects but
    never answers: --command-timeout (each with its own figure, not their sum)."""
    hung = HungServer()
    silent = ReplyLosingProxy(etcd.members[0].client_port, lose_stream=1)  # connects, answers nothing
    try:
        started = time.monotonic()
        out = cli("--endpoints", f"{hung.url},{silent.url}", *TIMEOUTS, "-o", "json", "check")
        elapsed = time.monotonic() - started
    finally:
        hung.close()
        silent.close()
    assert out.exit_code == 4, out.stderr
    rows = {row["check"]: row["detail"] for row in json.loads(out.stdout)}
    assert rows[f"endpoint {hung.url}"] == f"unreachable: no answer within --dial-timeout {DIAL}s"
    assert rows[f"endpoint {silent.url}"] == f"unreachable: connected, but no answer within --command-timeout {COMMAND}s"
    assert elapsed < DIAL + COMMAND + 1, elapsed
