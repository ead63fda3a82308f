"""Every hint of the remote side, followed literally.

Each test provokes the error against the real rig (sshd, the controller container, etcd, the
bastion of a private network), reads the hint the one `error:` line gives, does exactly what it
says (adds the flag where it says, sets the variable it names, runs the command it quotes) and
checks that the command then gets past that error. A hint naming an option the command does not
take (`--strict-host-key-checking` on `config`) fails here.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import hint_of, assert_error, keygen, new_users, node_flags, sole_admins, ssh_connections
from tests.rig.netns import PrivateNetwork


def follow(advice: str, args: list, env: dict, values: dict, component: str | None = None):
    """(args, env) after doing what one piece of advice says: `pass|rerun with --FLAG [VALUE] [before
    COMPONENT]`, `set|rerun with DEISCTL_NAME[=VALUE]`, `omit --FLAG`, `unset VAR`. Placeholders
    (HOST, FILE; NAME without a value) become the test's values. Flags go at the end, or before
    COMPONENT when the advice says so."""
    args, env = list(args), dict(env)
    if match := re.fullmatch(r"(?:pass|rerun with) (--[a-z-]+)(?: ([^ ]+))?( before COMPONENT)?", advice):
        flag, value, before = match.groups()
        words = [flag] + ([values.get(value, value)] if value else [])
        at = args.index(component) if before else len(args)
        return args[:at] + words + args[at:], env
    if match := re.fullmatch(r"(?:set|rerun with) (DEISCTL_([A-Z_]+))(?:=([^ ]+))?", advice):
        variable, name, value = match.groups()
        env[variable] = values.get(value, value) if value else values[name]  # `set DEISCTL_HOST`: to a HOST
        return args, env
    if match := re.fullmatch(r"omit (--[a-z-]+)", advice):
        at = args.index(match[1])
        return args[:at] + args[at + 2:], env
    if match := re.fullmatch(r"unset (DEISCTL_[A-Z_]+)", advice):
        env.pop(match[1])
        return args, env
    raise AssertionError(f"advice not understood: {advice!r}")


@pytest.fixture(scope="module")
def net(docker_engine):
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and `ip` (iproute2) to create a network namespace")
    if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        pytest.skip("network namespaces unavailable")
    with PrivateNetwork(node_env={"DOCKER_HOST": docker_engine.host}) as network:
        network.etcd.etcdctl("put", "/deis/controller/host", "node.internal")
        yield network


def tunnel_args(net, *command: str) -> list:
    return ["--tunnel", net.tunnel, "--endpoints", net.etcd.url, "--cacert", net.etcd.ca, *command]


def tunnel_node_flags(net, known_hosts: str) -> list:
    return ["--ssh-user", net.node.user, "--ssh-port", str(net.node.port), "--ssh-key", net.client_key,
            "--known-hosts", known_hosts]


@pytest.fixture
def agent(tmp_path):
    """A running ssh-agent (stopped by PID afterwards): add(key, passphrase=None) loads a key."""
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not sock.exists() and time.monotonic() < deadline:
        time.sleep(0.02)

    def add(key: str, passphrase: str | None = None) -> str:
        env = dict(os.environ, SSH_AUTH_SOCK=str(sock))
        if passphrase is not None:  # ssh-add asks an askpass program when told to, not the terminal
            askpass = tmp_path / "askpass"
            askpass.write_text(f"#!/bin/sh\necho {shlex.quote(passphrase)}\n")
            askpass.chmod(0o700)
            env.update(SSH_ASKPASS=str(askpass), SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
        subprocess.run(["ssh-add", key], env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
        return str(sock)

    yield add
    proc.terminate()
    proc.wait(10)


def locked_copy(key: str, tmp_path) -> str:
    """The rig's client key under a passphrase (same public key, so the servers accept it)."""
    path = tmp_path / "locked"
    shutil.copy(key, path)
    path.chmod(0o600)
    subprocess.run(["ssh-keygen", "-q", "-p", "-N", "s3cret", "-f", str(path)], check=True, capture_output=True,
                   stdin=subprocess.DEVNULL)
    return str(path)


# -- host keys ----------------------------------------------------------------------------------


def test_unknown_node_key_users_and_dock(cli, sshd_server, controller_container):
    for command, component in ((["users", "list"], None), (["dock", "controller", "true"], "controller")):
        args = [command[0], *node_flags(sshd_server, known_hosts=sshd_server.make_empty_known_hosts()), *command[1:]]
        out = cli(*args)
        assert_error(out, 5, "not known")
        advice = re.search(r"then (rerun with .*) to record it", hint_of(out))[1]
        args, env = follow(advice, args, {}, {}, component)
        assert cli(*args, env=env).exit_code == 0
    assert advice == "rerun with --strict-host-key-checking accept-new before COMPONENT"  # dock's CMD comes last


def test_unknown_bastion_key(cli, net, tmp_path):
    """config takes no SSH flags: its hint names the variable; users and check name their flag."""
    only_node = tmp_path / "known_hosts"  # knows the node, not the bastion
    cases = [(tunnel_args(net, "config", "controller", "get", "host"), 0),
             (tunnel_args(net, "users", *tunnel_node_flags(net, str(only_node)), "list"), 0),
             (tunnel_args(net, "check", *tunnel_node_flags(net, str(only_node))), 1)]  # 1: no platform/domain
    advices = []
    for args, code in cases:
        only_node.write_text(Path(net.known_hosts).read_text().splitlines()[0] + "\n")
        env = {"DEISCTL_SSH_KEY": net.client_key, "DEISCTL_KNOWN_HOSTS": str(only_node)}
        out = cli(*args, env=env)
        assert_error(out, 5, "not known", net.bastion.host_key_fingerprint)
        advices.append(re.search(r"then (rerun with .*) to record it", hint_of(out))[1])
        args, env = follow(advices[-1], args, env, {})
        again = cli(*args, env=env)
        assert again.exit_code == code and "not known" not in again.stderr, again.stderr
    assert advices == ["rerun with DEISCTL_STRICT_HOST_KEY_CHECKING=accept-new",
                       "rerun with --strict-host-key-checking accept-new",
                       "rerun with --strict-host-key-checking accept-new"]


def test_changed_host_key_run_the_quoted_command(cli, sshd_server, controller_container):
    args = ["users", *node_flags(sshd_server, known_hosts=sshd_server.make_wrong_known_hosts()), "list"]
    out = cli(*args)
    assert_error(out, 5, "HAS CHANGED")
    command = hint_of(out).split("remove the old entry with: ", 1)[1]
    subprocess.run(command, shell=True, check=True, capture_output=True)
    out = cli(*args)
    assert_error(out, 5, "is not known")  # past the changed key: now unknown, with its own hint
    advice = re.search(r"then (rerun with .*) to record it", hint_of(out))[1]
    assert cli(*follow(advice, args, {}, {})[0]).exit_code == 0


# -- logging in -----------------------------------------------------------------------------------


def test_no_key_start_an_agent_or_pass_one(cli, sshd_server, controller_container, agent, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "SSH_AUTH_SOCK": ""}
    args = ["users", "--host", sshd_server.host, "--ssh-port", str(sshd_server.port), "--ssh-user", sshd_server.user,
            "--known-hosts", sshd_server.known_hosts, "list"]
    out = cli(*args, env=env)
    assert_error(out, 5, "no SSH key")
    first, second = hint_of(out).split(" or ")
    assert first == "start ssh-agent"
    sock = agent(sshd_server.client_key)
    assert cli(*args, env=dict(env, SSH_AUTH_SOCK=sock)).exit_code == 0
    args, env = follow(second, args, env, {"FILE": sshd_server.client_key})
    assert cli(*args, env=env).exit_code == 0


def test_no_key_for_the_bastion_of_config(cli, net, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    args = tunnel_args(net, "config", "controller", "get", "host")
    env = {"HOME": str(home), "SSH_AUTH_SOCK": "", "DEISCTL_KNOWN_HOSTS": net.known_hosts}
    out = cli(*args, env=env)
    assert_error(out, 5, "no SSH key")
    advice = hint_of(out).split(" or ")[1]
    assert advice == "set DEISCTL_SSH_KEY=FILE"
    args, env = follow(advice, args, env, {"FILE": net.client_key})
    assert cli(*args, env=env).stdout == "node.internal\n"


def test_a_public_key_as_ssh_key_pass_the_private_one(cli, sshd_server, net, controller_container):
    key = sshd_server.client_key  # its .pub lies beside it, as ssh-keygen leaves it
    args = ["users", *node_flags(sshd_server, key=key + ".pub"), "list"]
    before = ssh_connections(sshd_server)
    out = cli(*args)
    assert_error(out, 2, f"--ssh-key file '{key}.pub' is a public key")
    assert "MalformedFraming" not in out.stderr and ssh_connections(sshd_server) == before
    args, env = follow(hint_of(out), args, {}, {})
    assert cli(*args, env=env).exit_code == 0

    args = tunnel_args(net, "config", "controller", "get", "host")
    env = {"DEISCTL_SSH_KEY": net.client_key + ".pub", "DEISCTL_KNOWN_HOSTS": net.known_hosts}
    out = cli(*args, env=env)
    assert_error(out, 2, "DEISCTL_SSH_KEY file", "is a public key")
    args, env = follow(hint_of(out), args, env, {})
    assert cli(*args, env=env).stdout == "node.internal\n"


def test_refused_key_check_the_named_options(cli, sshd_server, net, controller_container, tmp_path):
    other = keygen(tmp_path / "other")
    out = cli("users", *node_flags(sshd_server, key=other), "list")
    assert_error(out, 5, "refused the key")
    assert hint_of(out) == "check --ssh-user and --ssh-key"
    assert cli("users", *node_flags(sshd_server), "list").exit_code == 0  # --ssh-key corrected

    args = tunnel_args(net, "config", "controller", "get", "host")
    env = {"DEISCTL_SSH_KEY": other, "DEISCTL_KNOWN_HOSTS": net.known_hosts}
    out = cli(*args, env=env)
    assert_error(out, 5, "refused the key")
    assert hint_of(out) == "check the USER@ of the tunnel address and DEISCTL_SSH_KEY"
    assert cli(*args, env=dict(env, DEISCTL_SSH_KEY=net.client_key)).exit_code == 0


def test_encrypted_key_without_terminal_load_it_into_the_agent(cli, sshd_server, controller_container, agent,
                                                               tmp_path):
    locked = locked_copy(sshd_server.client_key, tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    sock = agent(locked, passphrase="s3cret")
    flagged = ["users", *node_flags(sshd_server, key=locked), "list"]
    bare = ["users", *node_flags(sshd_server)[:-4], "--known-hosts", sshd_server.known_hosts, "list"]
    for args, env in ((flagged, {}), (bare, {"DEISCTL_SSH_KEY": locked})):
        env = dict(env, HOME=str(home), SSH_AUTH_SOCK="")
        out = cli(*args, env=env)
        assert_error(out, 5, "encrypted", "no terminal")
        loading, advice = hint_of(out).split(" and ")
        assert loading == "load it into ssh-agent"
        args, env = follow(advice, args, env, {})
        again = cli(*args, env=dict(env, SSH_AUTH_SOCK=sock))
        assert again.exit_code == 0, again.stderr
    assert advice == "unset DEISCTL_SSH_KEY"


# -- where the node is, and what to confirm ------------------------------------------------------


def test_no_heartbeat_host_pass_host_or_set_the_variable(cli, etcd, sshd_server, controller_container):
    flags = node_flags(sshd_server)[2:]  # no --host
    for args, component in (
            (["--endpoints", etcd.endpoints, "users", *flags, "list"], None),
            (["--endpoints", etcd.endpoints, "dock", *flags, "controller", "true"], "controller")):
        out = cli(*args)
        assert_error(out, 3, "/deis/controller/host")
        for advice in hint_of(out).split(" or "):
            done, env = follow(advice, args, {}, {"HOST": sshd_server.host}, component)
            again = cli(*done, env=env)
            assert again.exit_code == 0, (advice, again.stderr)
    assert hint_of(out) == "pass --host HOST before COMPONENT or set DEISCTL_HOST"


@pytest.mark.usefixtures("audited_by_the_test_etcd")  # the change is recorded there
def test_revoke_all_without_a_terminal_confirm_with_yes(cli, sshd_server, controller_container):
    (bob,) = new_users(1)
    token = controller_container.seed(bob)[bob]
    args = ["users", *node_flags(sshd_server), "revoke-token", "--all"]
    out = cli(*args)
    assert_error(out, 2, "confirm with --yes")
    advice = re.search(r"confirm with (--[a-z-]+)", out.stderr)[1]
    again = cli(*args, advice)
    assert again.exit_code == 0 and f"{bob}: token revoked" in again.stdout
    assert controller_container.check_token(token) == 401


@pytest.mark.usefixtures("audited_by_the_test_etcd")  # the change is recorded there
def test_last_administrator_pass_force(cli, sshd_server, controller_container):
    (bob,) = new_users(1)
    controller_container.seed(bob)
    with sole_admins(controller_container, bob):
        args = ["users", *node_flags(sshd_server), "demote", bob]
        out = cli(*args)
        assert_error(out, 2, "without an active administrator")
        advice = hint_of(out).removesuffix(" to demote anyway")
        again = cli(*follow(advice, args, {}, {})[0])
        assert (again.exit_code, again.stdout) == (0, f"{bob}: demoted to normal user\n")


def test_a_global_option_after_users_is_put_before_it(cli, net, controller_container):
    """usage's hint for a global option given after the command: put it before the command."""
    args = ["--endpoints", net.etcd.url, "--cacert", net.etcd.ca, "users",
            *tunnel_node_flags(net, net.known_hosts), "list"]
    out = cli(*args, "--tunnel", net.tunnel)
    assert_error(out, 2, "--tunnel is a global option: put it before the command")
    assert cli("--tunnel", net.tunnel, *args).exit_code == 0


# -- values: the message names what sets them in that command ------------------------------------


def test_bad_ssh_values_of_config_name_the_variables(cli, net):
    args = tunnel_args(net, "config", "controller", "get", "host")
    base = {"DEISCTL_SSH_KEY": net.client_key, "DEISCTL_KNOWN_HOSTS": net.known_hosts}
    for name, bad, good, hint in (("DEISCTL_STRICT_HOST_KEY_CHECKING", "no", "yes", "yes or accept-new"),
                                  ("DEISCTL_SSH_PORT", "0", "22", "1-65535")):
        out = cli(*args, env=dict(base, **{name: bad}))
        assert_error(out, 2, f"invalid {name} ")
        assert hint_of(out) == hint
        assert cli(*args, env=dict(base, **{name: good})).exit_code == 0


def test_ssh_timeout_of_config_is_named_by_its_variable(cli):
    """A bastion that never sends its banner: config names the limit it can set, DEISCTL_SSH_TIMEOUT."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted: list = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    try:
        out = cli("--tunnel", f"127.0.0.1:{listener.getsockname()[1]}", "config", "controller", "get", "host",
                  env={"DEISCTL_SSH_TIMEOUT": "1"})
        assert_error(out, 4, "no SSH banner within DEISCTL_SSH_TIMEOUT 1s")
    finally:
        for conn, _ in accepted:
            conn.close()
        listener.close()


def test_a_node_option_before_the_command_then_after_it(cli, sshd_server, controller_container):
    """`deisctl --host H users list`: the hint says the option goes after the command; moved
    there, as it says, the command works."""
    flags = node_flags(sshd_server)
    out = cli(*flags[:2], "users", *flags[2:], "list")
    assert_error(out, 2, "no such option: --host")
    assert hint_of(out).startswith("--host is an option of users, dock and check: put it after the command")
    assert cli("users", *flags, "list").exit_code == 0  # after `users`, as in the hint
