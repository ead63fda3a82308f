"""`deisctl check`: healthy, failing, leaderless and unreachable clusters."""

from __future__ import annotations

import json
import time

import pytest

from tests.rig.ports import free_port
from tests.helpers import assert_error


def healthy(cluster):
    cluster.write("/deis/platform/domain", "example.com")
    cluster.write("/deis/controller/host", "10.0.0.5")
    cluster.write("/deis/controller/port", "8000")


def test_healthy_single_node(cli, etcd):
    healthy(etcd)
    out = cli("--endpoints", etcd.endpoints, "check")
    assert (out.exit_code, out.stderr) == (0, "")
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["CHECK", "OK", "DETAIL"]
    rows = {line[:line.index("  ")]: line for line in lines[1:]}
    assert list(rows) == [f"endpoint {etcd.endpoints}", "cluster leader", "cluster alarms",
                          "setting platform/domain", "controller heartbeat"]
    assert all(" ok " in line for line in rows.values())
    assert "etcd 3." in rows[f"endpoint {etcd.endpoints}"]
    assert rows["controller heartbeat"].endswith("10.0.0.5:8000")

    data = json.loads(cli("--endpoints", etcd.endpoints, "check", "-o", "json").stdout)
    assert [set(row) for row in data] == [{"check", "ok", "detail"}] * 5
    assert all(row["ok"] for row in data)


def test_missing_and_invalid_settings_fail(cli, etcd):
    out = cli("--endpoints", etcd.endpoints, "-o", "json", "check")
    assert out.exit_code == 1
    assert out.stderr == "error: 2 check(s) failed: setting platform/domain, controller heartbeat\n"
    data = {row["check"]: row for row in json.loads(out.stdout)}
    assert not data["setting platform/domain"]["ok"]
    assert "/deis/platform/domain is not set" in data["setting platform/domain"]["detail"]
    assert data["cluster leader"]["ok"]

    etcd.write("/deis/platform/domain", "not a domain")
    data = {row["check"]: row for row in json.loads(cli("--endpoints", etcd.endpoints, "-o", "json", "check").stdout)}
    assert "must be a DNS name" in data["setting platform/domain"]["detail"]


def test_a_different_prefix_is_honoured(cli, etcd):
    etcd.write("/custom/platform/domain", "example.com")
    etcd.write("/custom/controller/host", "h")
    etcd.write("/custom/controller/port", "1")
    assert cli("--endpoints", etcd.endpoints, "--prefix", "/custom", "check").exit_code == 0


def test_unreachable_exits_4_with_the_table(run_deisctl):
    dead = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    started = time.monotonic()
    out = run_deisctl("--endpoints", ",".join(dead), "--dial-timeout", "1", "--command-timeout", "1", "check")
    assert time.monotonic() - started < 5
    assert_error(out, 4, "cannot reach etcd", "connection refused")
    assert out.stdout.count("FAIL") == 2 and "unreachable: connection refused" in out.stdout


@pytest.mark.cluster
def test_healthy_cluster_then_one_member_down(cli, cluster):
    healthy(cluster)
    out = cli("--endpoints", cluster.endpoints, "-o", "json", "check")
    assert out.exit_code == 0, out.stdout
    data = json.loads(out.stdout)
    leaders = {row["detail"].rsplit("leader ", 1)[1] for row in data if row["check"].startswith("endpoint ")}
    assert len(leaders) == 1  # every member names the same leader

    cluster.members[2].kill()
    out = cli("--endpoints", cluster.endpoints, "--dial-timeout", "1", "-o", "json", "check")
    assert out.exit_code == 1
    failed = [row["check"] for row in json.loads(out.stdout) if not row["ok"]]
    assert failed == [f"endpoint {cluster.members[2].url}"]


@pytest.mark.cluster
def test_leaderless_cluster_fails_without_hanging(cli, cluster):
    healthy(cluster)
    cluster.members[1].kill()
    cluster.members[2].kill()
    deadline = time.monotonic() + 10
    while True:  # the survivor notices within an election timeout that it has no leader
        started = time.monotonic()
        out = cli("--endpoints", cluster.endpoints, "--dial-timeout", "1", "--command-timeout", "1",
                  "-o", "json", "check")
        assert time.monotonic() - started < 10  # bounded: a stale leader may cost a read timeout or two
        rows = {row["check"]: row for row in json.loads(out.stdout)}
        if not rows["cluster leader"]["ok"] or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert out.exit_code == 4  # the outage `get` exits 4 for, too
    assert out.stderr == "error: cannot reach etcd: no member has a leader: the cluster has lost its quorum\n"
    assert rows["cluster leader"]["detail"] == "no member has a leader: the cluster has lost its quorum"
    assert rows[f"endpoint {cluster.members[0].url}"]["detail"].endswith("no leader")
    assert rows["setting platform/domain"]["detail"] == "not read: the cluster has no leader"


# -- --controller: SSH to the node and the container's state (the remote rig: sshd + dockerd) -----

def test_controller_ssh_and_container(cli, etcd, sshd_server, controller_container):
    from tests.helpers import node_flags

    healthy(etcd)
    out = cli("--endpoints", etcd.endpoints, "-o", "json", "check", "--controller", *node_flags(sshd_server))
    assert out.exit_code == 0, (out.stdout, out.stderr)
    rows = {row["check"]: row for row in json.loads(out.stdout)}
    assert rows["controller ssh"] == {"check": "controller ssh", "ok": True,
                                      "detail": f"{sshd_server.user}@{sshd_server.host}:{sshd_server.port}"}
    assert rows["controller container deis-controller"]["ok"]
    assert rows["controller container deis-controller"]["detail"].startswith("running")

    with controller_container.stopped():
        out = cli("--endpoints", etcd.endpoints, "-o", "json", "check", "--controller", *node_flags(sshd_server))
        assert out.exit_code == 1
        row = {r["check"]: r for r in json.loads(out.stdout)}["controller container deis-controller"]
        assert not row["ok"] and row["detail"].startswith("exited")

    out = cli("--endpoints", etcd.endpoints, "-o", "json", "check", "--controller", *node_flags(sshd_server),
              "--container", "deis-nothing")
    assert out.exit_code == 1
    detail = {r["check"]: r for r in json.loads(out.stdout)}["controller container deis-nothing"]["detail"]
    assert "no container named 'deis-nothing'" in detail and "running there: deis-controller" in detail, detail
    out = cli("--endpoints", etcd.endpoints, "-o", "json", "check", "--controller", *node_flags(sshd_server),
              "--container", "deis-controler")
    detail = {r["check"]: r for r in json.loads(out.stdout)}["controller container deis-controler"]["detail"]
    assert "did you mean 'deis-controller'?" in detail, detail


def test_controller_ssh_failure_is_a_failed_check(cli, etcd, sshd_server):
    from tests.helpers import node_flags

    healthy(etcd)
    out = cli("--endpoints", etcd.endpoints, "-o", "json", "check", "--controller",
              *node_flags(sshd_server, port=free_port()), "--ssh-timeout", "2")
    assert out.exit_code == 1
    rows = {row["check"]: row for row in json.loads(out.stdout)}
    assert not rows["controller ssh"]["ok"] and "refused" in rows["controller ssh"]["detail"]


def test_a_raised_alarm_fails_the_check_while_reads_still_work(cli, tmp_path):
    """A NOSPACE alarm (the space quota filled): etcd refuses every write, reads still answer, so
    a check that only read would pass. The check names the alarm."""
    from tests.rig.etcd import EtcdCluster

    with EtcdCluster(1, name="quota", extra_args=["--quota-backend-bytes", str(16 * 1024 * 1024)]) as small:
        small.write("/deis/platform/domain", "example.com")
        blob = "x" * 120_000  # below the kernel's limit for one argv string
        for i in range(600):  # until etcd says the database space is exceeded
            done = small.etcdctl("put", f"/fill/{i}", blob, check=False)
            if done.returncode != 0:
                assert "database space exceeded" in done.stderr
                break
        else:
            pytest.fail("the quota was never reached")
        out = cli("--endpoints", small.endpoints, "-o", "json", "check")
        rows = {row["check"]: row for row in json.loads(out.stdout)}
        assert out.exit_code == 1
        assert rows["cluster alarms"]["ok"] is False and rows["cluster alarms"]["detail"].startswith("NOSPACE on member")
        assert "cluster alarms" in out.stderr
        assert cli("--endpoints", small.endpoints, "config", "platform", "get", "domain").stdout == "example.com\n"
