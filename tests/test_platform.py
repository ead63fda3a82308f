"""`status`, `logs`, `restart` and `ssh` against a platform of three nodes (tests/rig/platform.py):
each node its own loopback address, sshd and Docker engine; components real containers that
publish their heartbeat in the real etcd with a lease. Every command runs without a terminal,
stdin closed, through the real CLI."""

from __future__ import annotations

import json
import os
import contextlib
import signal
import socket
import subprocess
import threading
import time

import pytest

from tests.helpers import assert_error, hint_of
from tests.rig.cli import deisctl_command

pytestmark = pytest.mark.usefixtures("audited_by_the_test_etcd")


@pytest.fixture(scope="module")
def platform(etcd_server):
    from tests.rig.docker_engine import _which
    from tests.rig.platform import Platform

    if not (_which("dockerd") and os.path.exists("/usr/sbin/sshd")):
        pytest.skip("needs dockerd and sshd")
    etcd_server.wipe("/deis/")  # what other modules left: a component with keys there is one status expects
    with Platform(etcd_server.endpoints) as rig:
        rig.run(rig.nodes[0], "controller")
        rig.run_everywhere("router", per_host=True)
        yield rig


@pytest.fixture
def up(platform, etcd_server):
    """Every component running and published (what a test stopped is started again)."""
    expected = {"controller": [platform.nodes[0]], "router": platform.nodes}
    for component, nodes in expected.items():
        for node in nodes:
            if node.state(component) != "running":
                platform.run(node, component, per_host=component == "router")
    platform.wait_published(etcd_server, "/deis/controller/host")
    for node in platform.nodes:
        platform.wait_published(etcd_server, f"/deis/router/hosts/{node.address}/host")
    return platform


@pytest.fixture
def deis(up, tmp_path):
    """The installed deisctl with the platform's context (its nodes listed), no terminal, stdin closed."""
    config = tmp_path / "config.yaml"
    config.write_text("current-context: platform\ncontexts:\n  platform:\n"
                      f"    endpoints: {os.environ['DEISCTL_ENDPOINTS']}\n"
                      f"    nodes: [{', '.join(node.address for node in up.nodes)}]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(DEISCTL_CONFIG=str(config))

    def run(*args, timeout=120):
        proc = subprocess.run([*deisctl_command(), *args[:1], *up.node_flags(), *args[1:]] if args[:1] in
                              (("status",), ("list",), ("logs",), ("restart",), ("ssh",)) else [*deisctl_command(), *args],
                              capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=timeout)
        return Outcome(proc.returncode, proc.stdout, proc.stderr)

    run.env, run.config = env, config
    return run


class Outcome:
    def __init__(self, exit_code, stdout, stderr):
        self.exit_code, self.stdout, self.stderr = exit_code, stdout, stderr


def rows_of(out) -> dict:
    return {(row["component"], row["node"]): row for row in json.loads(out.stdout)}


# -- status -----------------------------------------------------------------------------------------


def test_status_everything_up(deis, up):
    out = deis("status", "-o", "json")
    assert (out.exit_code, out.stderr) == (0, ""), out.stderr
    rows = rows_of(out)
    assert set(rows) == {("controller", up.nodes[0].address)} | {("router", n.address) for n in up.nodes}
    for row in rows.values():
        assert row["ok"] and row["container"]["state"] == "running" and row["container"]["image"] == "deis-rig/base:1"
        assert 0 < row["heartbeat"]["ttl_left"] <= 6 and row["heartbeat"]["port"] == "8000"
    text = deis("list")  # the Go deisctl's name
    assert text.exit_code == 0 and text.stdout.splitlines()[0].split() == \
        ["COMPONENT", "NODE", "HEARTBEAT", "CONTAINER", "SINCE", "RESTARTS", "IMAGE"]
    only = deis("status", "controller", "-o", "json")
    assert set(rows_of(only)) == {("controller", up.nodes[0].address)}


def test_status_a_container_stopped_is_down(deis, up):
    node = up.nodes[1]
    node.docker("stop", "-t", "1", "deis-router")
    out = deis("status", "-o", "json")
    assert out.exit_code == 1
    assert out.stderr == f"error: down: router on {node.address}\n"
    row = rows_of(out)[("router", node.address)]
    assert row["container"]["state"] == "exited" and row["problem"] == "container deis-router is exited"
    assert all(r["ok"] for key, r in rows_of(out).items() if key != ("router", node.address))


def test_status_a_heartbeat_expired_while_the_container_runs(deis, up, etcd_server):
    node = up.nodes[2]
    with up.steered(node, "router", "pause-heartbeat"):
        up.wait_published(etcd_server, f"/deis/router/hosts/{node.address}/host", present=False)
        out = deis("status", "router", "-o", "json")
        node.docker("rm", "-f", "deis-router")  # started again by the next test's `up`
    assert out.exit_code == 1
    row = rows_of(out)[("router", node.address)]
    assert row["container"]["state"] == "running" and row["problem"] == "no heartbeat published"


def test_status_a_node_down_and_a_node_that_never_answers_are_rows_not_waits(deis, up):
    """127.0.0.6: nothing listens there; 127.0.0.5: accepts on the SSH port and never says a word.
    Both are one row each, within the SSH timeout; the others are asked all the same."""
    hung = socket.socket()
    hung.bind(("127.0.0.5", up.port))
    hung.listen(8)
    config = deis.config.read_text().replace("nodes: [", "nodes: [127.0.0.5, 127.0.0.6, ")
    deis.config.write_text(config)
    try:
        started = time.monotonic()
        out = deis("status", "--ssh-timeout", "2", "-o", "json")
        took = time.monotonic() - started
    finally:
        hung.close()
    assert out.exit_code == 1 and took < 2 * 2 + 6, took
    rows = rows_of(out)
    for address, why in (("127.0.0.5", "no SSH banner within --ssh-timeout 2s"), ("127.0.0.6", "refused")):
        row = rows[("*", address)]
        assert not row["ok"] and row["problem"].startswith("node does not answer: ") and why in row["problem"], row
    assert all(row["ok"] for (_, node), row in rows.items() if node not in ("127.0.0.5", "127.0.0.6"))
    assert out.stderr == "error: down: * on 127.0.0.5, * on 127.0.0.6\n"


def test_a_component_gone_from_every_node_is_still_a_row_and_down(deis, up, etcd_server):
    """The controller's container removed and its lease expired: neither etcd nor a node says it
    ran any more, but its other keys say the cluster has one (Deis's controller publishes its
    secretKey): it is a row, down, not a component the table forgets (exit 0 before)."""
    etcd_server.write("/deis/controller/secretKey", "django-s3cret")
    etcd_server.write("/deis/platform/domain", "example.com")  # check's own setting, not a component that runs
    up.nodes[0].docker("rm", "-f", "deis-controller")  # started again by the next test's `up`
    up.wait_published(etcd_server, "/deis/controller/host", present=False)
    out = deis("status", "-o", "json")
    assert out.exit_code == 1 and out.stderr == "error: down: controller\n", out.stderr
    rows = rows_of(out)
    nodes = ", ".join(sorted(node.address for node in up.nodes))
    assert rows[("controller", None)] == {
        "component": "controller", "node": None, "ok": False, "heartbeat": None, "container": None,
        "problem": f"no heartbeat in etcd and no deis-controller container on {nodes}"}
    assert all(row["ok"] for (component, _), row in rows.items() if component == "router")
    text = deis("status", "controller")
    assert text.exit_code == 1 and text.stdout.splitlines()[1].split()[:4] == ["controller", "-", "missing", "-"]
    checked = deis("check", "--status", *up.node_flags(), "-o", "json")
    assert checked.exit_code == 1 and checked.stderr.startswith("error: 2 check(s) failed: controller heartbeat, "
                                                                "status controller\n"), checked.stderr
    row = {row["check"]: row for row in json.loads(checked.stdout)}["status controller"]
    assert (row["ok"], row["detail"]) == (False, f"no heartbeat in etcd and no deis-controller container on {nodes}")


def test_routers_that_all_stopped_publishing_are_down(deis, up, etcd_server):
    """Every router's container runs and none publishes: each row is down (the routers publish one
    heartbeat per node; when none is left, that is still what a router must do)."""
    with contextlib.ExitStack() as paused:
        for node in up.nodes:
            paused.enter_context(up.steered(node, "router", "pause-heartbeat"))
        for node in up.nodes:
            up.wait_published(etcd_server, f"/deis/router/hosts/{node.address}/host", present=False)
        out = deis("status", "router", "-o", "json")
        for node in up.nodes:
            node.docker("rm", "-f", "deis-router")  # started again by the next test's `up`
    assert out.exit_code == 1, out.stderr
    rows = rows_of(out)
    assert set(rows) == {("router", node.address) for node in up.nodes}
    assert {(row["container"]["state"], row["problem"]) for row in rows.values()} == {
        ("running", "no heartbeat published")}


def test_status_and_check_status_of_a_platform_that_is_all_up(deis, up, etcd_server):
    etcd_server.write("/deis/platform/domain", "example.com")
    out = deis("check", "--status", *up.node_flags(), "-o", "json")
    assert (out.exit_code, out.stderr) == (0, ""), out.stderr
    rows = {row["check"]: row for row in json.loads(out.stdout)}
    first = up.nodes[0].address
    assert rows[f"status controller on {first}"] == {"check": f"status controller on {first}", "ok": True,
                                                     "detail": f"container running, heartbeat {first}:8000"}
    assert {name for name in rows if name.startswith("status router on ")} == {
        f"status router on {node.address}" for node in up.nodes}


def test_nothing_found_is_not_all_up(deis, up, etcd_server):
    """A prefix with no component under it and no nodes to ask: exit 1, not a green smoke check."""
    env = {**{k: v for k, v in deis.env.items() if k != "DEISCTL_CONFIG"}, "DEISCTL_ENDPOINTS": etcd_server.endpoints,
           "DEISCTL_CONFIG": os.devnull}
    out = subprocess.run([*deisctl_command(), "--prefix", "/elsewhere", "status"], capture_output=True, text=True,
                         env=env, stdin=subprocess.DEVNULL, timeout=60)
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr == ("error: no component found: no heartbeat under /elsewhere/ and no deis-* container on the "
                          "context's nodes\n")


def test_a_heartbeat_that_names_no_host_is_never_resolved_nor_connected_to(deis, up, etcd_server, tmp_path):
    """A hostile writer's heartbeats: an option for ssh, terminal escapes. Their rows say where they
    came from and that the node was not asked (before: a name lookup, then "cannot resolve", the
    escape bytes sent to the resolver); the real nodes are asked all the same; logs and ssh refuse
    them (exit 2) naming the key."""
    option = f"-oProxyCommand=touch {tmp_path}/pwned"
    escapes = "10.0.0.9\x1b]0;pwned\x07"
    etcd_server.write("/deis/builder/host", option)
    etcd_server.write("/deis/router/hosts/evil/host", escapes)
    try:
        out = deis("status", "-o", "json")
        logs = deis("logs", "builder")
        ssh = deis("ssh", "builder", "--", "true")
    finally:
        etcd_server.wipe("/deis/builder/")
        etcd_server.wipe("/deis/router/hosts/evil/")
    assert out.exit_code == 1
    rows = rows_of(out)
    assert rows[("builder", option)]["problem"] == f"not asked: invalid host {option!r} from /deis/builder/host"
    assert rows[("router", escapes)]["problem"] == \
        f"not asked: invalid host {escapes!r} from /deis/router/hosts/evil/host"
    assert all(rows[("router", node.address)]["ok"] for node in up.nodes)
    assert "\x1b" not in out.stderr and "router on 10.0.0.9\\x1b]0;pwned\\x07" in out.stderr
    assert_error(logs, 2, f"invalid host {option!r} from /deis/builder/host")
    assert_error(ssh, 2, f"invalid host {option!r} from /deis/builder/host")
    assert not (tmp_path / "pwned").exists()


# -- restart -----------------------------------------------------------------------------------------


def lease_of(etcd, key: str) -> int:
    data = json.loads(etcd.etcdctl("get", key, "-w", "json").stdout)
    return int(data["kvs"][0]["lease"])


def test_restart_comes_back_with_a_new_heartbeat_and_is_recorded(deis, up, etcd_server):
    before = lease_of(etcd_server, "/deis/controller/host")
    out = deis("restart", "controller", "--yes", "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["nodes"] == [{"node": up.nodes[0].address, "outcome": "restarted",
                                                "detail": "running, heartbeat published anew"}]
    assert lease_of(etcd_server, "/deis/controller/host") != before
    records = etcd_server.etcdctl("get", "/deisctl-audit/deis/records/", "--prefix", "--print-value-only").stdout
    last = json.loads(records.strip().splitlines()[-1])
    assert last["changes"] == [{"component": "controller", "key": f"restart/{up.nodes[0].address}",
                                "action": "restarted"}]


def test_restart_without_a_terminal_needs_yes_and_a_dry_run_restarts_nothing(deis, up):
    started = up.nodes[0].docker("inspect", "--format", "{{.State.StartedAt}}", "deis-controller").stdout
    out = deis("restart", "controller")
    assert_error(out, 2, "confirm with --yes (no terminal to ask on)")
    assert hint_of(out) == "pass --yes"
    dry = deis("restart", "controller", "--dry-run")
    assert (dry.exit_code, dry.stdout) == (0, f"{up.nodes[0].address}: would be restarted (dry run)\n")
    assert up.nodes[0].docker("inspect", "--format", "{{.State.StartedAt}}", "deis-controller").stdout == started


def test_a_restart_that_does_not_come_back_and_a_rolling_restart_stopped_at_the_second(deis, up):
    second = up.nodes[1]
    with up.steered(second, "router", "fail-start"):
        out = deis("restart", "router", "--rolling", "--wait", "8", "--yes", "-o", "json")
    assert out.exit_code == 1
    assert out.stderr == (f"error: deis-router did not come back on {second.address}: the rolling restart stopped "
                          "there\n")
    nodes = json.loads(out.stdout)["nodes"]
    assert [(n["node"], n["outcome"]) for n in nodes] == [(up.nodes[0].address, "restarted"),
                                                          (second.address, "failed"),
                                                          (up.nodes[2].address, "not-run")]
    assert "exited" in nodes[1]["detail"]
    assert second.state("router") == "exited"


# -- logs ----------------------------------------------------------------------------------------------


def test_logs_of_every_node_prefixed_and_a_tail(deis, up):
    out = deis("logs", "router", "--tail", "1")
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert sorted(line.split(": ", 1)[0] for line in lines) == sorted(n.address for n in up.nodes)
    one = deis("logs", "controller")
    assert one.exit_code == 0 and one.stdout.startswith("started on ")  # one node: no prefix


def test_logs_escape_hostile_bytes_and_keep_stderr_apart(deis, up):
    node = up.nodes[0]
    (node.data_of("controller") / "say").write_bytes(b"\x1b]0;pwned\x07\x1b[2Jforged\nerror: all done\xff\n")
    (node.data_of("controller") / "say-err").write_bytes(b"on stderr \x1b[31mred\n")
    deadline = time.monotonic() + 15
    while (node.data_of("controller") / "say").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    out = deis("logs", "controller", "--tail", "20")
    assert out.exit_code == 0
    assert "\x1b" not in out.stdout and "\\x1b]0;pwned\\x07\\x1b[2Jforged" in out.stdout
    assert "error: all done\ufffd" in out.stdout.splitlines()  # a line of the log, on stdout, never ours
    assert "on stderr \\x1b[31mred" in out.stderr and "on stderr" not in out.stdout


def test_logs_follow_ends_cleanly_on_ctrl_c(deis, up):
    proc = subprocess.Popen([*deisctl_command(), "logs", *up.node_flags(), "router", "-f", "--tail", "0"],
                            env=deis.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 30
    while len({line.split(":", 1)[0] for line in seen}) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert proc.stderr.read() == ""
    assert {line.split(":", 1)[0] for line in seen} == {n.address for n in up.nodes}  # followed every node


# -- ssh -----------------------------------------------------------------------------------------------


def test_ssh_runs_a_command_on_the_components_node(deis, up):
    out = deis("ssh", "controller", "--", "sh", "-c", "echo $SSH_CONNECTION; exit 3")
    assert out.exit_code == 3  # the command's own
    assert out.stdout.split()[2] == up.nodes[0].address  # the server side of the connection: the node
    by_host = deis("ssh", up.nodes[2].address, "docker", "ps", "--format", "{{.Names}}")
    assert (by_host.exit_code, by_host.stdout) == (0, "deis-router\n")
    assert_error(deis("ssh", "controller", "--ssh-port", "22", "ls"), 2, "--ssh-port after controller would be part")


# -- the other doors: deisctl.api, deis.deisctl.component and info -------------------------------------


def test_the_api_status_logs_and_restart(up, etcd_server):
    from deisctl import api

    node = api.Node(ssh_user=up.nodes[0].sshd.user, ssh_port=up.port, ssh_key=up.client_key,
                    known_hosts=up.known_hosts)
    deis = api.Client(endpoints=etcd_server.endpoints, node=node)
    status = deis.status(["router"])
    assert status.exit_code == 0 and {row.node for row in status.rows} == {n.address for n in up.nodes}
    assert api.status_rows(status)[0]["container"]["state"] == "running"
    from deisctl.ops.platform import LogLine, NodeEnded

    stream = deis.logs("controller", tail=1)
    events = list(stream.events)
    assert stream.nodes == [up.nodes[0].address]
    assert [type(event) for event in events] == [LogLine, NodeEnded] and events[-1].problem is None
    assert events[0].text.startswith(("heartbeat ", "started "))
    with pytest.raises(api.UsageError, match="confirm with yes=True"):
        deis.restart("controller")  # nobody to ask
    assert deis.restart("controller", dry_run=True).rows[0].outcome == "would-restart"
    checked = api.check_rows(deis.check(status=True))
    assert {row["check"] for row in checked if row["check"].startswith("status router on ")} == {
        f"status router on {n.address}" for n in up.nodes}


def test_the_component_module_in_check_mode_and_for_real_and_info_with_the_status(playbook, up, etcd_server):
    node = {"ssh_user": up.nodes[0].sshd.user, "ssh_port": up.port, "ssh_key": up.client_key,
            "known_hosts": up.known_hosts}
    clusters = {"one": {"deis_endpoints": [etcd_server.endpoints]}}
    task = [{"deis.deisctl.component": {"name": "controller", "state": "restarted", "wait": 30, **node},
             "register": "restarted"}]
    started = up.nodes[0].docker("inspect", "--format", "{{.State.StartedAt}}", "deis-controller").stdout
    checked = playbook(task, clusters, "--check", "-v")
    assert checked.recap["one"]["changed"] == 1, checked.out[-3000:]
    assert checked.results("changed")["one"]["nodes"][0]["outcome"] == "would-restart"
    assert up.nodes[0].docker("inspect", "--format", "{{.State.StartedAt}}", "deis-controller").stdout == started
    done = playbook(task, clusters, "-v")
    assert done.results("changed")["one"]["nodes"] == [{"node": up.nodes[0].address, "outcome": "restarted",
                                                        "detail": "running, heartbeat published anew"}]
    assert up.nodes[0].docker("inspect", "--format", "{{.State.StartedAt}}", "deis-controller").stdout != started
    info = playbook([{"deis.deisctl.info": {"check": False, "status": True, **node}}], clusters, "-v")
    shown = info.results("ok")["one"]
    assert shown["platform_up"] is True and {row["component"] for row in shown["status"]} == {"controller", "router"}


def test_logs_follow_goes_on_when_a_node_disappears(deis, up):
    """One node's connection is cut mid-stream: one line says so on stderr, the others go on;
    Ctrl-C then ends it with exit 1 (a node's log was not read to its end)."""
    proc = subprocess.Popen([*deisctl_command(), "logs", *up.node_flags(), "router", "-f", "--tail", "0"],
                            env=deis.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    seen, said = [], []
    threading.Thread(target=lambda: seen.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    threading.Thread(target=lambda: said.extend(iter(proc.stderr.readline, "")), daemon=True).start()
    gone = up.nodes[1]
    deadline = time.monotonic() + 30
    while len({line.split(":", 1)[0] for line in seen}) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gone.cut_connections() >= 1
    while not said and time.monotonic() < deadline:
        time.sleep(0.2)
    after = len(seen)
    while len(seen) < after + 4 and time.monotonic() < deadline:  # the others go on
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 1
    time.sleep(0.2)
    assert said[0].startswith(f"warning: {gone.address}: the log of deis-router stopped: "), said
    assert said[-1] == f"error: the log could not be read to its end on {gone.address}\n", said
    assert {line.split(":", 1)[0] for line in seen[after:]} == {up.nodes[0].address, up.nodes[2].address}
