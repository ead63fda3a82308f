"""`--tunnel`: etcd and the node reached only through an SSH bastion.

etcd (TLS, certificate for `etcd.internal` only) and the node's sshd live in a
network namespace made for these tests: from this process they cannot be
reached, and their names do not even resolve; the bastion is the one way in
(see tests/rig/netns.py).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.helpers import new_users
from tests.rig.netns import ETCD_NAME, NODE_NAME, PrivateNetwork
from tests.rig.ports import free_port
from tests.helpers import assert_error

# Their changes on the controller are recorded in the test etcd's audit trail.
pytestmark = pytest.mark.usefixtures("audited_by_the_test_etcd")


@pytest.fixture(scope="module")
def net(docker_engine):
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and `ip` (iproute2) to create a network namespace")
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"network namespaces unavailable: {probe.stderr.decode().strip()}")
    with PrivateNetwork(node_env={"DOCKER_HOST": docker_engine.host}) as network:
        network.etcd.etcdctl("put", "/deis/controller/host", NODE_NAME)
        network.etcd.etcdctl("put", "/deis/controller/registrationEnabled", "0")
        yield network


def ssh_env(net) -> dict:
    """For commands without SSH flags (config): the bastion login comes from DEISCTL_SSH_*."""
    return {"DEISCTL_SSH_KEY": net.client_key, "DEISCTL_KNOWN_HOSTS": net.known_hosts}


def node_flags(net) -> list[str]:
    return ["--ssh-user", net.node.user, "--ssh-port", str(net.node.port), "--ssh-key", net.client_key,
            "--known-hosts", net.known_hosts]


def etcd_flags(net, url=None) -> list[str]:
    return ["--endpoints", url or net.etcd.url, "--cacert", net.etcd.ca]


def test_etcd_and_node_are_unreachable_without_the_tunnel(cli, net):
    for port in (net.etcd.port, net.node.port):
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo(ETCD_NAME, net.etcd.port)
    out = cli(*etcd_flags(net), "config", "controller", "get", "registrationEnabled")
    assert_error(out, 4, "cannot reach etcd")


def test_config_get_through_the_tunnel(cli, net):
    out = cli("--tunnel", net.tunnel, *etcd_flags(net), "config", "controller", "get", "registrationEnabled", "host",
              env=ssh_env(net))
    assert (out.exit_code, out.stdout, out.stderr) == (0, f"0\n{NODE_NAME}\n", "")
    out = cli(*etcd_flags(net), "config", "controller", "get", "host",
              env=dict(ssh_env(net), DEISCTL_TUNNEL=net.tunnel))
    assert (out.exit_code, out.stdout) == (0, f"{NODE_NAME}\n"), out.stderr


def test_users_through_the_tunnel_one_bastion_connection(cli, net, controller_container):
    bob, alice = new_users(2)
    tokens = controller_container.seed(bob, alice)
    bastion_before = net.bastion.connections

    # No --host: the heartbeat key is read from etcd through the tunnel; its value (node.internal)
    # and the endpoint's name are resolved by the bastion.
    out = cli("--tunnel", net.tunnel, *etcd_flags(net), "users", *node_flags(net), "revoke-token", bob)

    assert (out.exit_code, out.stdout, out.stderr) == (0, f"{bob}: token revoked\n", "")
    assert controller_container.check_token(tokens[bob]) == 401
    assert controller_container.check_token(tokens[alice]) == 200
    assert net.bastion.connections - bastion_before == 1  # etcd and node over the same SSH connection


def test_dock_through_the_tunnel(cli, net, controller_container):
    out = cli("--tunnel", net.tunnel, *etcd_flags(net), "dock", *node_flags(net), "controller",
              "sh", "-c", "cat; exit 9", input="through the bastion\n")
    assert (out.exit_code, out.stdout) == (9, "through the bastion\n"), out.stderr


def test_tls_is_verified_against_the_endpoint_name_not_the_forwarder(cli, net):
    # Same server through the same tunnel, but named by address: its certificate only says etcd.internal.
    url = f"https://127.0.0.1:{net.etcd.port}"
    out = cli("--tunnel", net.tunnel, *etcd_flags(net, url), "config", "controller", "get", "host",
              env=ssh_env(net))
    assert_error(out, 4, "the server certificate does not name this host")


def test_endpoint_the_bastion_cannot_reach(cli, net):
    url = f"https://{ETCD_NAME}:{net.node.port + 1 if net.node.port < 65535 else 1}"
    out = cli("--tunnel", net.tunnel, *etcd_flags(net, url), "config", "controller", "get", "host",
              env=ssh_env(net))
    assert_error(out, 4, "cannot reach etcd", "connect failed")
    out = cli("--tunnel", net.tunnel, *etcd_flags(net), "users", *node_flags(net), "--host", "nowhere.internal",
              "list")
    assert_error(out, 4, "cannot reach nowhere.internal")


def test_bastion_host_key_is_verified(cli, net, tmp_path):
    only_node = tmp_path / "known_hosts"
    only_node.write_text(Path(net.known_hosts).read_text().splitlines()[0] + "\n")
    env = dict(ssh_env(net), DEISCTL_KNOWN_HOSTS=str(only_node))
    out = cli("--tunnel", net.tunnel, *etcd_flags(net), "config", "controller", "get", "host", env=env)
    assert_error(out, 5, "not known", net.bastion.host_key_fingerprint)
    wrong = net.bastion.make_wrong_known_hosts(tmp_path / "wrong")
    out = cli("--tunnel", net.tunnel, *etcd_flags(net), "users", *node_flags(net), "--known-hosts", wrong, "list")
    assert_error(out, 5, "CHANGED")


def test_bastion_down_or_bad_spec(cli, net):
    dead = free_port()
    out = cli("--tunnel", f"127.0.0.1:{dead}", *etcd_flags(net), "config", "controller", "get", "host",
              env=ssh_env(net))
    assert_error(out, 4, "cannot reach bastion", "connection refused")
    out = cli("--tunnel", "root@", *etcd_flags(net), "config", "controller", "get", "host", env=ssh_env(net))
    assert_error(out, 2, "invalid --tunnel")


def test_check_logs_in_to_the_bastion_with_its_own_ssh_flags(cli, net, controller_container):
    """check takes the SSH flags, so they log in to the bastion too (no DEISCTL_SSH_* here), and one
    bastion connection carries etcd and the controller's node."""
    bastion_before = net.bastion.connections
    out = cli("--tunnel", net.tunnel, *etcd_flags(net), "-o", "json", "check", "--controller", *node_flags(net))
    # Once seen under load in CI: the bastion reset the connection. Its own log says why.
    assert out.stdout.startswith("["), f"{out.stderr}bastion log:\n{net.bastion.log_path.read_text()[-3000:]}"
    rows = {row["check"]: row for row in json.loads(out.stdout)}
    assert rows["controller ssh"]["ok"] and rows["controller container deis-controller"]["ok"], out.stdout
    assert out.exit_code == 1  # the private etcd has no platform/domain nor controller/port
    assert net.bastion.connections - bastion_before == 1


def test_a_bastion_that_refuses_forwarding(cli, sshd_server, controller_container):
    """The rig's plain sshd has `AllowTcpForwarding no`: as a bastion it logs in and then refuses
    every channel. That is the bastion's policy, not a network failure: said so, and exit 5."""
    env = {"DEISCTL_SSH_KEY": sshd_server.client_key, "DEISCTL_KNOWN_HOSTS": sshd_server.known_hosts}
    tunnel = f"{sshd_server.user}@{sshd_server.host}:{sshd_server.port}"
    out = cli("--tunnel", tunnel, "--endpoints", "http://etcd.internal:2379", "config", "controller", "get", "host",
              env=env)
    assert_error(out, 5, f"bastion {tunnel} refuses to forward connections to etcd.internal:2379",
                 "AllowTcpForwarding")
    assert "administratively prohibited" not in out.stderr
    out = cli("--tunnel", tunnel, "users", "--host", "node.internal", "--ssh-key", sshd_server.client_key,
              "--known-hosts", sshd_server.known_hosts, "list", env=env)
    assert_error(out, 5, f"bastion {tunnel} refuses to forward connections to node.internal:22")


def _listening_tcp_inodes() -> set:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            inodes.update(row.split()[9] for row in rows if row.split()[3] == "0A")  # 0A: LISTEN
    return inodes


def test_only_the_invoking_user_can_use_what_the_tunnel_forwards(net):
    """While a command holds its bastion session, what it forwards (etcd here) is a unix socket in
    a 0700 directory: another local user (uid 65534) cannot write etcd through it, and deisctl
    listens on no TCP port at all (a loopback port would let any local user in)."""
    import signal
    import time

    from tests.rig.cli import deisctl_command

    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(ssh_env(net))
    before = set(Path("/tmp").glob("deisctl-tunnel-*"))
    proc = subprocess.Popen([*deisctl_command(), "--tunnel", net.tunnel, *etcd_flags(net), "config", "controller",
                             "watch"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        sockets = []
        while not sockets:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            sockets = [s for d in set(Path("/tmp").glob("deisctl-tunnel-*")) - before for s in d.glob("*.sock")]
            time.sleep(0.1)
        folder = sockets[0].parent  # another user's own interpreter (a venv's may not be theirs to run)
        assert folder.stat().st_mode & 0o777 == 0o700
        other = subprocess.run(["/usr/bin/python3", "-c", "import socket, sys\ns = socket.socket(socket.AF_UNIX)\n"
                                "try:\n    s.connect(sys.argv[1])\nexcept PermissionError:\n    sys.exit(13)\n",
                                str(sockets[0])], user=65534, group=65534, capture_output=True, timeout=30)
        assert other.returncode == 13, other.stderr
        mine = socket.socket(socket.AF_UNIX)
        mine.connect(str(sockets[0]))  # the invoking user (root here) can
        mine.close()
        fds = {os.readlink(f"/proc/{proc.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{proc.pid}/fd")}
        inodes = {link[len("socket:["):-1] for link in fds if link.startswith("socket:[")}
        assert not inodes & _listening_tcp_inodes(), "deisctl listens on a TCP port"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert not folder.exists()  # removed when the tunnel closed
