"""`deisctl dock COMPONENT [CMD ...]`: commands inside deis-COMPONENT on its node, over real SSH and docker."""
from __future__ import annotations

import hashlib
import os
import pty
import subprocess
import time

import pytest

from tests.rig.cli import deisctl_command
from tests.helpers import node_flags
from tests.helpers import assert_error


@pytest.fixture
def dock(cli, sshd_server, controller_container):
    def run(*args, input=None, env=None, root=()):
        return cli(*root, "dock", *node_flags(sshd_server), *args, input=input, env=env)

    return run


def test_exit_code_of_the_command_is_returned(dock):
    for code in (0, 1, 3, 7, 42):
        out = dock("controller", "sh", "-c", f"exit {code}")
        assert (out.exit_code, out.stdout, out.stderr) == (code, "", "")


def test_stdin_is_streamed_and_stdout_stderr_kept_apart(dock):
    out = dock("controller", "sh", "-c", "cat; echo done >&2; exit 3", input="hello\nworld\n")
    assert (out.exit_code, out.stdout, out.stderr) == (3, "hello\nworld\n", "done\n")


def test_default_command_is_sh_reading_stdin(dock):
    out = dock("controller", input="pwd\necho $((6 * 7))\nexit 5\n")
    assert (out.exit_code, out.stdout) == (5, "/app\n42\n"), out.stderr


def test_options_after_the_component_belong_to_the_command(dock):
    out = dock("controller", "ls", "-l", "--", "/app/manage.py")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.startswith("-") and out.stdout.rstrip().endswith("/app/manage.py")


def test_a_leading_double_dash_ends_deisctls_options(dock, controller_container):
    """`dock controller -- hostname`, as `kubectl exec POD -- CMD` and `docker exec`: that first `--` is
    dropped (it used to be run as a program: `bash: --: invalid option`); any later one is CMD's."""
    expected = controller_container.exec("hostname").stdout
    out = dock("controller", "--", "hostname")
    assert (out.exit_code, out.stdout, out.stderr) == (0, expected, "")
    assert dock("controller", "echo", "--", "x").stdout == "-- x\n"
    assert dock("controller", "--", "echo", "--", "x").stdout == "-- x\n"
    assert dock("controller", "--", "--", "x").exit_code != 0  # the second `--` is the program
    out = dock("controller", "--", input="echo $((6 * 7))\n")  # nothing after it: the default sh
    assert (out.exit_code, out.stdout) == (0, "42\n"), out.stderr


def test_large_input_and_output_stream_through(dock):
    blob = os.urandom(3 * 1024 * 1024).hex()  # 6 MiB of text, several SSH windows
    out = dock("controller", "sh", "-c", "sha256sum; head -c 4000000 /dev/zero | tr '\\0' x", input=blob)
    assert out.exit_code == 0, out.stderr
    digest = hashlib.sha256(blob.encode()).hexdigest()
    assert out.stdout.startswith(digest) and out.stdout.endswith("x" * 4000000)


def test_runtime_none_runs_on_the_node(dock, docker_engine):
    out = dock("--runtime", "none", "controller", "sh", "-c", 'echo "$DOCKER_HOST"; exit 4')
    assert (out.exit_code, out.stdout) == (4, docker_engine.host + "\n")


def test_no_such_container_is_docker_own_error(dock):
    out = dock("router", "true")
    assert out.exit_code != 0
    assert "deis-router" in out.stderr


def test_host_from_the_component_heartbeat_key(cli, etcd, sshd_server, controller_container):
    flags = node_flags(sshd_server)[2:]  # no --host
    missing = cli("--endpoints", etcd.endpoints, "dock", *flags, "controller", "true")
    assert_error(missing, 3, "/deis/controller/host", "--host")
    etcd.write("/deis/controller/host", sshd_server.host)
    out = cli("--endpoints", etcd.endpoints, "dock", *flags, "controller", "hostname")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.strip()


def test_invalid_component_is_refused(dock):
    assert_error(dock("Bad_Name", "true"), 2, "invalid component")


def _run_in_pty(args: list[str], timeout: float = 60) -> tuple[int, str]:
    """Run the real executable with a pseudo-terminal as stdin/stdout/stderr; return (code, screen)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([*deisctl_command(), *args], stdin=slave, stdout=slave, stderr=slave,
                            close_fds=True, env={k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")})
    os.close(slave)
    screen = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every holder of the slave side is gone
                break
            if not data:
                break
            screen += data
        code = proc.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, screen.decode(errors="replace")


def test_a_terminal_gets_a_pty(sshd_server, controller_container):
    code, screen = _run_in_pty(["dock", *node_flags(sshd_server), "controller", "sh", "-c", "tty; exit 6"])
    assert code == 6, screen
    assert "/dev/pts/" in screen
    piped = subprocess.run([*deisctl_command(), "dock", *node_flags(sshd_server), "controller", "tty"],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert piped.stdout.strip() == "not a tty"


def test_remote_timeout_stops_waiting(dock):
    started = time.monotonic()
    out = dock("--remote-timeout", "1", "controller", "sleep", "5")
    assert_error(out, 4, "did not finish within --remote-timeout 1s")
    assert time.monotonic() - started < 3.5


def test_debug_after_the_component_is_the_commands_not_deisctls(run_deisctl, dock, sshd_server):
    """`dock controller echo --debug`: the real executable (whose argv holds --debug) leaves its own
    debugging off (no paramiko log, no traceback); the global --debug turns it on."""
    out = run_deisctl("dock", *node_flags(sshd_server), "controller", "echo", "--debug")
    assert (out.exit_code, out.stdout, out.stderr) == (0, "--debug\n", "")
    out = run_deisctl("dock", *node_flags(sshd_server), "--host", "-bad", "controller", "echo", "--debug")
    assert_error(out, 2, "invalid host")
    debugged = dock("controller", "true", root=("--debug",))
    assert debugged.exit_code == 0 and "debug: paramiko" in debugged.stderr
    quiet = dock("controller", "true")
    assert (quiet.exit_code, quiet.stderr) == (0, "")


def test_a_node_option_after_component_is_refused_never_sent(cli, sshd_server, controller_container):
    """`dock controller --ssh-port N ls`: refused before connecting, with the two lines that
    work; each followed: before COMPONENT it is deisctl's, after `--` it is the command's."""
    from tests.helpers import hint_of, ssh_connections

    flags = node_flags(sshd_server)
    before = ssh_connections(sshd_server)
    out = cli("dock", *flags[:-6], "controller", *flags[-6:], "sh", "-c", "echo hi")  # --ssh-user ... after
    assert_error(out, 2, "after COMPONENT would be part of the remote command")
    assert ssh_connections(sshd_server) == before  # nothing was sent
    hint = hint_of(out)
    assert hint.startswith("put it before COMPONENT") and "write 'deisctl dock controller -- " in hint
    out = cli("dock", *flags, "controller", "sh", "-c", "echo hi")  # before COMPONENT, as the hint says
    assert (out.exit_code, out.stdout) == (0, "hi\n"), out.stderr
    passed = cli("dock", *flags, "controller", "--", "echo", "--ssh-port", "22")  # after --: the command's
    assert (passed.exit_code, passed.stdout) == (0, "--ssh-port 22\n"), passed.stderr
