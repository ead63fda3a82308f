"""The remote rig itself, end to end: sshd -> docker CLI -> private engine -> deis-controller."""
import subprocess
import uuid

import paramiko
import pytest

SHELL = "docker exec -i deis-controller python manage.py shell -v 0"
REVOKE = """\
from rest_framework.authtoken.models import Token
deleted, _ = Token.objects.filter(user__username={user!r}).delete()
print("deleted", deleted)
"""


def run_remote(client, command, stdin_text=""):
    """Run command over SSH with stdin_text on its stdin; return (exit status, stdout, stderr)."""
    stdin, stdout, stderr = client.exec_command(command, timeout=60)
    # Send at once: Django's shell only reads stdin if data is already there.
    stdin.write(stdin_text)
    stdin.channel.shutdown_write()
    out, err = stdout.read().decode(), stderr.read().decode()
    return stdout.channel.recv_exit_status(), out, err


def new_users(n):
    return [f"u{uuid.uuid4().hex[:8]}" for _ in range(n)]


def test_engine_and_container_have_no_network(docker_engine, controller_container):
    networks = docker_engine.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert sorted(networks) == ["host", "none"]  # --bridge=none: no bridge, nothing to route
    mode = docker_engine.docker("inspect", "-f", "{{.HostConfig.NetworkMode}}", "deis-controller").stdout
    assert mode.strip() == "none"


def test_shell_prints_only_the_scripts_output(controller_container):
    result = controller_container.shell("print('hello')\nprint(6 * 7)\n")
    assert result.stdout == "hello\n42\n"


def test_token_check_uses_the_real_api(controller_container):
    (user,) = new_users(1)
    token = controller_container.seed(user)[user]
    assert controller_container.api_get(token) == (200, {"user": user})
    assert controller_container.api_get("0" * 40) == (401, {"detail": "Invalid token."})


def test_ssh_sessions_reach_the_private_engine(sshd_server, docker_engine, controller_container):
    client = sshd_server.connect()
    try:
        assert run_remote(client, "echo $DOCKER_HOST")[1].strip() == docker_engine.host
        status, out, err = run_remote(client, "docker ps --format '{{.Names}}'")
        assert (status, out.split()) == (0, ["deis-controller"]), err
    finally:
        client.close()
    # The OpenSSH client accepts the same key and known_hosts.
    ssh = subprocess.run([*sshd_server.ssh_args(), "true"], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=30)
    assert ssh.returncode == 0, ssh.stderr


def test_host_key_is_verified(sshd_server):
    with pytest.raises(paramiko.BadHostKeyException):
        sshd_server.connect(known_hosts=sshd_server.make_wrong_known_hosts())
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        sshd_server.connect(known_hosts=sshd_server.make_empty_known_hosts())
    listed = subprocess.run(["ssh-keygen", "-lf", sshd_server.known_hosts], capture_output=True, text=True)
    assert sshd_server.host_key_fingerprint in listed.stdout


def test_revoke_token_over_ssh(sshd_server, controller_container):
    alice, bob = new_users(2)
    tokens = controller_container.seed(alice, bob)
    assert controller_container.check_token(tokens[alice]) == 200

    client = sshd_server.connect()
    try:
        status, out, err = run_remote(client, SHELL, REVOKE.format(user=alice))
    finally:
        client.close()

    assert (status, out) == (0, "deleted 1\n"), err
    assert controller_container.api_get(tokens[alice]) == (401, {"detail": "Invalid token."})
    assert controller_container.check_token(tokens[bob]) == 200


def test_exec_fails_while_the_controller_is_stopped(sshd_server, controller_container):
    (user,) = new_users(1)
    token = controller_container.seed(user)[user]
    client = sshd_server.connect()
    try:
        with controller_container.stopped():
            status, out, err = run_remote(client, SHELL, REVOKE.format(user=user))
            assert status != 0 and out == ""
            assert "is not running" in err
    finally:
        client.close()
    assert controller_container.check_token(token) == 200  # started again, token untouched


def test_the_deis_v1_controller_is_built_here_and_runs_what_deis_shipped(deis_v1_rig):
    """Python 2.7 / Django 1.6.11 / DRF 3.0.5 / guardian 1.2.5 from an image built without a pull,
    no network but its loopback, on PostgreSQL reached only through a unix socket."""
    engine, controller = deis_v1_rig.engine, deis_v1_rig.controller
    out = controller.exec("python", "-c", "import sys, django, rest_framework, guardian; print(' '.join(["
                          "sys.version.split()[0], django.get_version(), rest_framework.VERSION, "
                          "guardian.get_version()]))")
    assert out.stdout.split() == ["2.7.18", "1.6.11", "3.0.5", "1.2.5"]
    mode = engine.docker("inspect", "-f", "{{.HostConfig.NetworkMode}}", "deis-controller").stdout
    assert mode.strip() == "none"
    assert engine.docker("image", "ls", "--format", "{{.Repository}}").stdout.split() == ["deis-rig/controller-v1"]
    assert controller.postgres.psql("deis", "show listen_addresses").stdout.strip() == ""
    rows = controller.postgres.psql("deis", "select u.username, t.key is not null from auth_user u left join "
                                            "authtoken_token t on t.user_id = u.id where u.id = -1").stdout
    assert rows.split("|")[0] == "AnonymousUser"  # guardian's, made with the tables
