"""`deisctl users ...` end to end: real sshd, real dockerd, the real Django + DRF controller, on
every generation of controller (on_every_controller): today's Django on sqlite, and the one Deis
shipped (Python 2.7, Django 1.6, DRF 3.0, django-guardian) on PostgreSQL.

Token checks go through the controller's real HTTP API (401 for a revoked token).
The controller is shared by the session, so every test seeds its own usernames.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deisctl import controller
from tests.helpers import HOSTILE_USERNAMES, ExecCounter, assert_error, hint_of, keygen, new_users, node_flags, \
    sole_admins, ssh_connections
from tests.plugins.remote_rig import on_every_controller
from tests.rig.ports import free_port

# Their changes on the controller are recorded in the test etcd's audit trail.
pytestmark = pytest.mark.usefixtures("audited_by_the_test_etcd")
docker_engine, sshd_server, controller_container, node_app = on_every_controller()


@pytest.fixture
def node(sshd_server, controller_container):
    return node_flags(sshd_server)


@pytest.fixture
def users(cli, node):
    """`deisctl [ROOT...] users <node flags> ARGS...` in-process."""

    def run(*args, root=(), env=None, input=None):
        return cli(*root, "users", *node, *args, env=env, input=input)

    return run


def is_admin(controller, name: str) -> tuple[bool, bool]:
    script = ("from django.contrib.auth.models import User\n"
              f"u = User.objects.get(username={name!r})\nprint(u.is_superuser, u.is_staff)\n")
    superuser, staff = controller.shell(script).stdout.split()
    return superuser == "True", staff == "True"


# -- revoke-token ------------------------------------------------------------------


def test_revoke_one_user_old_token_gets_401_others_still_work(users, controller_container):
    bob, alice = new_users(2)
    tokens = controller_container.seed(bob, alice)
    assert controller_container.check_token(tokens[bob]) == 200

    out = users("revoke-token", bob)

    assert (out.exit_code, out.stdout, out.stderr) == (0, f"{bob}: token revoked\n", "")
    assert controller_container.api_get(tokens[bob]) == (401, controller_container.invalid_token)
    assert controller_container.api_get(tokens[alice]) == (200, {"user": alice})


def test_revoke_many_uses_one_connection_and_one_django_process(users, sshd_server, docker_engine,
                                                                controller_container):
    names = new_users(5)
    tokens = controller_container.seed(*names)
    keep = new_users(1)[0]
    keep_token = controller_container.seed(keep)[keep]
    before, execs = ssh_connections(sshd_server), ExecCounter(docker_engine)

    out = users("revoke-token", *names)

    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines() == [f"{n}: token revoked" for n in names]
    assert ssh_connections(sshd_server) - before == 1
    assert execs.commands() == [" ".join(["python", "-c", controller.BOOTSTRAP])]
    assert {controller_container.check_token(tokens[n]) for n in names} == {401}
    assert controller_container.check_token(keep_token) == 200


def test_revoke_is_idempotent_and_json_has_changed_flags(users, controller_container):
    bob, carol = new_users(2)
    controller_container.seed(bob, carol)
    assert users("revoke-token", carol).exit_code == 0

    out = users("revoke-token", bob, carol, root=("-o", "json"))

    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout) == {"changed": True, "dry_run": False, "users": [
        {"user": bob, "result": "revoked", "changed": True},
        {"user": carol, "result": "no-token", "changed": False}]}
    again = users("revoke-token", bob, root=("-o", "yaml"))
    assert again.stdout == f"changed: false\ndry_run: false\nusers:\n- user: {bob}\n  result: no-token\n  changed: false\n"
    assert users("revoke-token", bob).stdout == f"{bob}: no token\n"


def test_dry_run_changes_nothing(users, controller_container):
    bob, carol = new_users(2)
    tokens = controller_container.seed(bob, carol)
    users("revoke-token", carol)

    out = users("revoke-token", "--dry-run", bob, carol)

    assert out.exit_code == 0, out.stderr
    assert out.stdout == f"{bob}: token would be revoked (dry run)\n{carol}: no token\n"
    assert controller_container.check_token(tokens[bob]) == 200
    listing = users("revoke-token", "--all", "--dry-run", root=("-o", "json"))
    rows = json.loads(listing.stdout)["users"]
    assert {"user": bob, "result": "would-revoke", "changed": False} in rows
    assert controller_container.check_token(tokens[bob]) == 200


def test_revoke_all_with_yes(users, controller_container):
    names = new_users(3)
    tokens = controller_container.seed(*names)

    out = users("revoke-token", "--all", "--yes")

    assert out.exit_code == 0, out.stderr
    for name in names:
        assert f"{name}: token revoked" in out.stdout.splitlines()
        assert controller_container.check_token(tokens[name]) == 401
    again = users("revoke-token", "--all", "--yes")
    assert (again.exit_code, again.stdout) == (0, "")
    assert "no user has a token" in again.stderr


def test_revoke_all_without_terminal_or_yes_is_refused_before_connecting(users, sshd_server, controller_container):
    (bob,) = new_users(1)
    token = controller_container.seed(bob)[bob]
    before = ssh_connections(sshd_server)

    out = users("revoke-token", "--all")

    assert_error(out, 2, "--yes")
    assert ssh_connections(sshd_server) == before
    assert controller_container.check_token(token) == 200
    assert_error(users("revoke-token", "--all", bob), 2, "not both")
    assert_error(users("revoke-token"), 2, "at least one user")


def test_revoke_all_asks_on_a_terminal(sshd_server, controller_container, tmp_path):
    """Real pseudo-terminal: answering 'n' changes nothing."""
    import pty

    (bob,) = new_users(1)
    token = controller_container.seed(bob)[bob]
    master, slave = pty.openpty()
    from tests.rig.cli import deisctl_command

    proc = subprocess.Popen([*deisctl_command(), "users", *node_flags(sshd_server), "revoke-token", "--all"],
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                            env={k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")})
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    while b"[y/N]" not in seen and time.monotonic() < deadline:
        seen += os.read(master, 1024)
    os.write(master, b"n\n")
    assert proc.wait(timeout=30) == 2
    try:
        while True:
            seen += os.read(master, 1024)
    except OSError:
        pass
    os.close(master)
    assert b"EVERY user" in seen and b"not confirmed" in seen, seen
    assert controller_container.check_token(token) == 200


def test_missing_user_changes_nothing(users, controller_container):
    bob, ghost1, ghost2 = new_users(3)
    token = controller_container.seed(bob)[bob]

    out = users("revoke-token", bob, ghost1, ghost2)

    assert_error(out, 3, ghost1, ghost2, "nothing was changed")
    assert bob not in out.stderr
    # Valid for Django, so it is looked up like any name: data, never an option or code.
    assert_error(users("revoke-token", "--", "-rf"), 3, "-rf")
    assert controller_container.check_token(token) == 200
    assert_error(users("promote", bob, ghost1), 3, ghost1)
    assert is_admin(controller_container, bob) == (False, False)




@pytest.mark.parametrize("name", HOSTILE_USERNAMES, ids=range(len(HOSTILE_USERNAMES)))
def test_hostile_usernames_are_refused_and_nothing_is_sent(users, sshd_server, name):
    canary = Path("/tmp/deisctl-canary")
    canary.unlink(missing_ok=True)
    before = ssh_connections(sshd_server)
    (bob,) = new_users(1)

    for command in ("revoke-token", "promote", "demote"):
        out = users(command, "--", bob, name)  # after --: a name, even one that looks like an option
        assert_error(out, 2, "invalid username", "nothing was sent")

    assert ssh_connections(sshd_server) == before
    assert not canary.exists()


def test_unusual_but_valid_usernames_work(users, controller_container):
    tag = new_users(1)[0]
    names = [f"jörg.{tag}", f"a+b@example.com-{tag}", f"_{tag}"]
    tokens = controller_container.seed(*names)

    out = users("revoke-token", *names)

    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines() == [f"{n}: token revoked" for n in names]
    assert {controller_container.check_token(tokens[n]) for n in names} == {401}


# -- promote / demote / list -------------------------------------------------------------------


def test_promote_demote_and_list(users, controller_container):
    bob, carol, keeper = new_users(3)
    controller_container.seed(bob, carol, keeper)
    assert users("promote", keeper).exit_code == 0  # so that bob and carol are not the last administrators

    out = users("promote", bob)
    assert (out.exit_code, out.stdout) == (0, f"{bob}: promoted to administrator\n"), out.stderr
    assert is_admin(controller_container, bob) == (True, True)
    assert users("promote", bob, carol).stdout == \
        f"{bob}: already an administrator\n{carol}: promoted to administrator\n"

    listing = users("list", root=("-o", "json"))
    assert listing.exit_code == 0, listing.stderr
    rows = {r["username"]: r for r in json.loads(listing.stdout)}
    assert rows[bob]["admin"] is True and rows[bob]["staff"] is True and rows[bob]["has_token"] is True
    assert rows[bob]["date_joined"][:4].isdigit()

    dry = users("demote", "--dry-run", bob, root=("-o", "json"))
    assert json.loads(dry.stdout)["users"] == [{"user": bob, "result": "would-demote", "changed": False}]
    assert is_admin(controller_container, bob) == (True, True)

    out = users("demote", bob, carol)
    assert out.stdout == f"{bob}: demoted to normal user\n{carol}: demoted to normal user\n"
    assert is_admin(controller_container, bob) == (False, False)
    assert users("demote", bob).stdout == f"{bob}: not an administrator\n"

    users("revoke-token", carol)
    text = users("list").stdout.splitlines()
    assert text[0].split() == ["USERNAME", "ADMIN", "TOKEN", "JOINED"]
    row = next(line for line in text if line.startswith(carol + " "))
    assert row.split()[1:3] == ["no", "no"]


def test_demoting_the_last_administrator_is_refused_unless_forced(users, sshd_server, controller_container):
    bob, carol = new_users(2)
    controller_container.seed(bob, carol)
    with sole_admins(controller_container, bob):
        for dry_run in ([], ["--dry-run"]):  # a dry run says the same
            out = users("demote", *dry_run, bob, carol)
            assert_error(out, 2, f"demoting {bob} would leave the controller without an active administrator",
                         "nothing was changed", "pass --force")
            assert out.stdout == ""
        assert is_admin(controller_container, bob) == (True, True)

        dry = users("demote", "--dry-run", "--force", bob)
        assert (dry.exit_code, dry.stdout) == (0, f"{bob}: would be demoted to normal user (dry run)\n"), dry.stderr
        assert "would have no active administrator" in dry.stderr
        assert users("promote", carol).exit_code == 0
        out = users("demote", bob)  # carol remains
        assert (out.exit_code, out.stdout, out.stderr) == (0, f"{bob}: demoted to normal user\n", "")

        forced = users("demote", carol, "--force", root=("-o", "json"))
        assert forced.exit_code == 0, forced.stderr
        assert json.loads(forced.stdout) == {"changed": True, "dry_run": False, "users": [
            {"user": carol, "result": "demoted", "changed": True}]}
        assert forced.stderr == ("warning: the controller has no active administrator "
                                 "(deisctl users promote USER makes one)\n")
        assert is_admin(controller_container, carol) == (False, False)


def test_concurrent_demotes_of_the_last_two_administrators(run_deisctl, sshd_server, controller_container):
    """The two only administrators demoted at the same time: each demote decides inside its own
    transaction, so one passes and the other is refused. Both are held at the controller
    database's write lock (sqlite's, or PostgreSQL's table lock, taken here) until they both wait."""
    bob, carol = new_users(2)
    controller_container.seed(bob, carol)
    with sole_admins(controller_container, bob, carol):
        outcomes: dict = {}
        threads = [threading.Thread(target=lambda n=name: outcomes.__setitem__(
            n, run_deisctl("users", *node_flags(sshd_server), "demote", n,
                           env={"DEISCTL_ENDPOINTS": os.environ["DEISCTL_ENDPOINTS"]}))) for name in (bob, carol)]
        with controller_container.database.locked("writes"):
            for thread in threads:
                thread.start()
            time.sleep(3)  # connected and waiting for the lock (sqlite's busy timeout: 5 s)
            assert not outcomes
        for thread in threads:
            thread.join(60)

        codes = sorted(out.exit_code for out in outcomes.values())
        assert codes == [0, 2], outcomes
        kept = next(name for name, out in outcomes.items() if out.exit_code == 2)
        assert "would leave the controller without an active administrator" in outcomes[kept].stderr
        demoted = carol if kept == bob else bob
        assert (is_admin(controller_container, kept), is_admin(controller_container, demoted)) == \
            ((True, True), (False, False))


# -- reaching the node --------------------------------------------------------------------------


def test_host_from_the_controller_heartbeat_key(cli, etcd, sshd_server, controller_container):
    (bob,) = new_users(1)
    token = controller_container.seed(bob)[bob]
    flags = node_flags(sshd_server)[2:]  # no --host
    missing = cli("--endpoints", etcd.endpoints, "users", *flags, "revoke-token", bob)
    assert_error(missing, 3, "/deis/controller/host", "--host")

    etcd.write("/deis/controller/host", sshd_server.host)
    out = cli("--endpoints", etcd.endpoints, "users", *flags, "revoke-token", bob)

    assert (out.exit_code, out.stdout) == (0, f"{bob}: token revoked\n"), out.stderr
    assert controller_container.check_token(token) == 401


def test_options_from_environment_and_flag_beats_env(cli, sshd_server, controller_container):
    (bob,) = new_users(1)
    controller_container.seed(bob)
    env = {"DEISCTL_HOST": sshd_server.host, "DEISCTL_SSH_PORT": str(sshd_server.port),
           "DEISCTL_SSH_USER": sshd_server.user, "DEISCTL_SSH_KEY": sshd_server.client_key,
           "DEISCTL_KNOWN_HOSTS": sshd_server.known_hosts, "DEISCTL_CONTAINER": "deis-controller",
           "DEISCTL_RUNTIME": "docker"}
    assert cli("users", "revoke-token", bob, env=env).stdout == f"{bob}: token revoked\n"

    wrong = dict(env, DEISCTL_SSH_PORT="1", DEISCTL_CONTAINER="no-such-container")
    out = cli("users", "--ssh-port", str(sshd_server.port), "revoke-token", bob,
              "--container", "deis-controller", env=wrong)
    assert (out.exit_code, out.stdout) == (0, f"{bob}: no token\n"), out.stderr


def test_default_key_and_known_hosts_from_home(cli, sshd_server, controller_container, tmp_path):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(sshd_server.client_key, home / ".ssh" / "id_ed25519")
    shutil.copy(sshd_server.known_hosts, home / ".ssh" / "known_hosts")
    (bob,) = new_users(1)
    controller_container.seed(bob)

    out = cli("users", "--host", sshd_server.host, "--ssh-port", str(sshd_server.port),
              "--ssh-user", sshd_server.user, "revoke-token", bob, env={"HOME": str(home), "SSH_AUTH_SOCK": ""})

    assert (out.exit_code, out.stdout) == (0, f"{bob}: token revoked\n"), out.stderr


def test_unknown_host_key_is_refused_with_its_fingerprint(cli, sshd_server, controller_container):
    (bob,) = new_users(1)
    token = controller_container.seed(bob)[bob]
    empty = sshd_server.make_empty_known_hosts()

    out = cli("users", *node_flags(sshd_server, known_hosts=empty), "revoke-token", bob)

    assert_error(out, 5, "not known", sshd_server.host_key_fingerprint, "accept-new")
    assert controller_container.check_token(token) == 200
    assert Path(empty).read_text() == ""


def test_changed_host_key_is_always_refused(cli, sshd_server, controller_container):
    (bob,) = new_users(1)
    token = controller_container.seed(bob)[bob]
    wrong = sshd_server.make_wrong_known_hosts()
    recorded = Path(wrong).read_text()

    for policy in ("yes", "accept-new"):
        out = cli("users", *node_flags(sshd_server, known_hosts=wrong), "--strict-host-key-checking", policy,
                  "revoke-token", bob)
        assert_error(out, 5, "CHANGED", sshd_server.host_key_fingerprint, "ssh-keygen -R")

    assert Path(wrong).read_text() == recorded
    assert controller_container.check_token(token) == 200


def test_accept_new_records_the_key_and_says_so(cli, sshd_server, controller_container, tmp_path):
    (bob,) = new_users(1)
    controller_container.seed(bob)
    known = tmp_path / "new" / "known_hosts"  # not there yet: created 0600 in a new dir

    out = cli("users", *node_flags(sshd_server, known_hosts=str(known)), "--strict-host-key-checking",
              "accept-new", "revoke-token", bob)

    assert (out.exit_code, out.stdout) == (0, f"{bob}: token revoked\n"), out.stderr
    assert "permanently added" in out.stderr and sshd_server.host_key_fingerprint in out.stderr
    assert known.read_text().split() == [sshd_server.known_hosts_host, *sshd_server.host_public_key.split()[:2]]
    assert known.stat().st_mode & 0o777 == 0o600
    # The recorded key is trusted from now on, with the default policy, silently.
    again = cli("users", *node_flags(sshd_server, known_hosts=str(known)), "revoke-token", bob)
    assert (again.exit_code, again.stdout, again.stderr) == (0, f"{bob}: no token\n", "")
    # OpenSSH reads the entry deisctl wrote.
    ssh = subprocess.run([*sshd_server.ssh_args(known_hosts=str(known)), "true"], capture_output=True,
                         stdin=subprocess.DEVNULL, timeout=30)
    assert ssh.returncode == 0, ssh.stderr


def test_wrong_client_key_is_refused(cli, sshd_server, controller_container, tmp_path):
    other = keygen(tmp_path / "other_key")
    out = cli("users", *node_flags(sshd_server, key=other), "list")
    assert_error(out, 5, "refused the key", other)


def test_missing_or_bad_key_file_is_a_usage_error_before_connecting(cli, sshd_server, tmp_path):
    before = ssh_connections(sshd_server)
    out = cli("users", *node_flags(sshd_server, key=str(tmp_path / "nope")), "list")
    assert_error(out, 2, "--ssh-key", "does not exist")
    garbage = tmp_path / "garbage"
    garbage.write_text("not a key\n")
    out = cli("users", *node_flags(sshd_server, key=str(garbage)), "list")
    assert_error(out, 2, "--ssh-key", "not a private key that deisctl can read")
    assert "cryptography" not in out.stderr and "MalformedFraming" not in out.stderr
    assert ssh_connections(sshd_server) == before


def test_encrypted_key_without_terminal_is_refused(cli, sshd_server, tmp_path):
    locked = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret", "-f", str(locked)], check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)
    out = cli("users", *node_flags(sshd_server, key=str(locked)), "list")
    assert_error(out, 5, "encrypted", "ssh-agent")


def test_sshd_down_fails_fast_with_exit_4(cli, sshd_server):
    dead_port = free_port()
    started = time.monotonic()
    out = cli("users", *node_flags(sshd_server, port=dead_port), "list")
    assert_error(out, 4, "connection refused", f"127.0.0.1:{dead_port}")
    assert time.monotonic() - started < 2


def test_silent_server_times_out_with_exit_4(cli, sshd_server):
    """Accepts TCP, never sends an SSH banner: --ssh-timeout bounds the wait."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    try:
        started = time.monotonic()
        out = cli("users", *node_flags(sshd_server, port=listener.getsockname()[1]), "--ssh-timeout", "1", "list")
        assert_error(out, 4, "no SSH banner within --ssh-timeout 1s")
        assert time.monotonic() - started < 4
    finally:
        for conn, _ in accepted:
            conn.close()
        listener.close()


def test_container_stopped_is_a_remote_failure(users, controller_container):
    (bob,) = new_users(1)
    token = controller_container.seed(bob)[bob]
    with controller_container.stopped():
        out = users("revoke-token", bob)
        assert_error(out, 1, "remote command failed", "is not running")
    assert controller_container.check_token(token) == 200


def test_unknown_container_is_not_found_with_the_name_meant(users):
    out = users("list", "--container", "deis-nothing")
    assert_error(out, 3, "no container named 'deis-nothing'", "running there: deis-controller")
    (bob,) = new_users(1)
    out = users("promote", bob, "--container", "deis-controler")
    assert_error(out, 3, "no container named 'deis-controler'; did you mean 'deis-controller'?")
    hint = hint_of(out)
    assert hint == "pass --container deis-controller"
    out = users("promote", bob, "--container", "deis-controler", *hint.removeprefix("pass ").split())
    assert_error(out, 3, f"no such user(s) on the controller: {bob}")  # past the container: it answered


# -- runtime none: manage.py directly on the node ----------------------------------------------


def runtime_none(sshd_server, node_app) -> list:
    """The node options that run the controller app deployed on the node itself."""
    return [*node_flags(sshd_server), "--runtime", "none", "--app-dir", str(node_app.app_dir),
            "--python", node_app.python]


def test_runtime_none_runs_manage_py_in_the_app_dir_on_the_node(cli, sshd_server, node_app, controller_container):
    bob, alice = new_users(2)
    tokens = json.loads(node_app.manage("seed", bob, alice))
    in_container = controller_container.seed(bob)[bob]
    flags = runtime_none(sshd_server, node_app)

    out = cli("users", *flags, "revoke-token", bob)

    assert (out.exit_code, out.stdout) == (0, f"{bob}: token revoked\n"), out.stderr
    left = subprocess.run([node_app.python, "manage.py", "rigscript"], cwd=node_app.app_dir, text=True,
                          capture_output=True, check=True, input=(
                              "from rest_framework.authtoken.models import Token\n"
                              "print(sorted(Token.objects.values_list('key', flat=True)))\n")).stdout
    assert tokens[alice] in left and tokens[bob] not in left
    assert controller_container.check_token(in_container) == 200  # the container's db was not touched
    listing = cli("-o", "json", "users", *flags, "list")
    assert {r["username"] for r in json.loads(listing.stdout)} >= {bob, alice}

    missing_dir = cli("users", *node_flags(sshd_server), "--runtime", "none", "--app-dir", "/nonexistent/app",
                      "list")
    assert_error(missing_dir, 1, "/nonexistent/app")


def test_bad_option_values_are_usage_errors(cli, sshd_server):
    for args, fragment in ((["--runtime", "lxc"], "--runtime"), (["--strict-host-key-checking", "no"], "yes or"),
                           (["--app-dir", "relative"], "absolute"), (["--container", "a b"], "--container"),
                           (["--ssh-timeout", "0"], "--ssh-timeout"), (["--host", "-oProxyCommand=x"], "invalid host")):
        before = ssh_connections(sshd_server)
        out = cli("users", *node_flags(sshd_server), *args, "list")
        assert_error(out, 2, fragment)
        assert ssh_connections(sshd_server) == before


def test_config_commands_do_not_import_paramiko(etcd):
    code = ("import sys\nfrom deisctl.cli.app import main\n"
            "try:\n    main(['--endpoints', sys.argv[1], 'config', 'controller', 'get'])\n"
            "except SystemExit as e:\n    assert e.code == 0, e.code\n"
            "print('paramiko' in sys.modules, file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code, etcd.endpoints], capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")})
    assert proc.stderr.splitlines()[-1] == "False", proc.stderr
    help_ = subprocess.run([sys.executable, "-c", "import sys\nfrom deisctl.cli.app import main\ntry:\n"
                            "    main(['users', '--help'])\nexcept SystemExit:\n    pass\n"
                            "print('paramiko' in sys.modules, file=sys.stderr)\n"], capture_output=True, text=True)
    assert help_.stderr.splitlines()[-1] == "False", help_.stderr


def test_node_options_from_a_context_flag_and_env_win(cli, sshd_server, controller_container, tmp_path):
    (bob,) = new_users(1)
    token = controller_container.seed(bob)[bob]
    config = tmp_path / "config.yaml"
    config.write_text(
        "current-context: rig\n"
        "contexts:\n"
        "  rig:\n"
        f"    ssh_user: {sshd_server.user}\n"
        f"    ssh_key: {sshd_server.client_key}\n"
        f"    ssh_port: {sshd_server.port}\n"
        f"    known_hosts: {sshd_server.known_hosts}\n"
        f"    controller_host: {sshd_server.host}\n"
        "  wrong:\n"
        "    ssh_user: nobody-here\n"
        "    ssh_port: 1\n"
        "    controller_host: 127.0.0.1\n"
        f"    ssh_key: {sshd_server.client_key}\n"
        f"    known_hosts: {sshd_server.known_hosts}\n")
    env = {"DEISCTL_CONFIG": str(config)}

    out = cli("users", "revoke-token", bob, env=env)
    assert (out.exit_code, out.stdout) == (0, f"{bob}: token revoked\n"), out.stderr
    assert controller_container.check_token(token) == 401

    # The context's values lose to flags and to DEISCTL_* variables.
    out = cli("--context", "wrong", "users", "--ssh-port", str(sshd_server.port), "revoke-token", bob,
              env=dict(env, DEISCTL_SSH_USER=sshd_server.user))
    assert (out.exit_code, out.stdout) == (0, f"{bob}: no token\n"), out.stderr
    assert_error(cli("--context", "wrong", "users", "list", env=env), 4, "127.0.0.1:1")


def test_remote_timeout_bounds_the_remote_command(cli, sshd_server, tmp_path):
    slow = tmp_path / "slow-python"  # stands in for a Django that never answers
    slow.write_text("#!/bin/sh\nexec sleep 5\n")
    slow.chmod(0o755)
    started = time.monotonic()
    out = cli("users", *node_flags(sshd_server), "--runtime", "none", "--app-dir", str(tmp_path),
              "--python", str(slow), "--remote-timeout", "1", "revoke-token", "bob")
    # Never told to commit: whatever it did was rolled back (the script commits only on the order).
    assert_error(out, 4, "the controller did not answer within --remote-timeout 1s; nothing was changed")
    assert time.monotonic() - started < 3.5


def test_output_format_after_the_command_is_checked_before_connecting(users, sshd_server, controller_container):
    (bob,) = new_users(1)
    token = controller_container.seed(bob)[bob]
    before = ssh_connections(sshd_server)
    for args in (["revoke-token", bob], ["revoke-token", "--all", "--yes"], ["promote", bob], ["list"]):
        assert_error(users(*args, "-o", "xml"), 2, "unknown output format")
    assert ssh_connections(sshd_server) == before
    assert controller_container.check_token(token) == 200
    import json

    out = users("revoke-token", bob, "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["users"] == [{"user": bob, "result": "revoked", "changed": True}]


def test_a_node_that_never_answers_the_exec_request_is_bounded_by_the_ssh_timeout(cli, tmp_path, sshd_server):
    """The node opens the channel and never answers the request to run the command (paramiko
    itself would wait forever): exit 4 within --ssh-timeout, saying it may or may not have run."""
    from tests.rig.fakes import SilentExecSSHServer

    silent = SilentExecSSHServer()
    known = tmp_path / "known_hosts"
    known.write_text(silent.known_hosts_line)
    try:
        started = time.monotonic()
        out = cli("users", "--host", "127.0.0.1", "--ssh-port", str(silent.port), "--ssh-key", sshd_server.client_key,
                  "--known-hosts", str(known), "--ssh-timeout", "2", "revoke-token", "bob")
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert_error(out, 4, "no answer to the request to run the command within --ssh-timeout 2s",
                 "it may or may not have run")
    assert silent.exec_requests == 1
    assert elapsed < 2 + 3, elapsed


def _controller_scripts() -> list[int]:
    """PIDs of the controller script's processes on this machine (the container's too: one kernel)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and controller.BOOTSTRAP.encode() in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def _wait_until_no_controller_script(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _controller_scripts():
        assert time.monotonic() < deadline, "the controller script is still running"
        time.sleep(0.2)


@pytest.mark.parametrize("runtime", ["docker", "none"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_revoke_ends_the_same_way_on_every_runtime(sshd_server, controller_container, node_app,
                                                                 runtime, signum):
    """Ctrl-C or SIGTERM while the controller works on a revoke (held at its database's lock here:
    an exclusive one, so that even its first read waits): exit 130, one line saying nothing was
    changed; and nothing is, once the controller got its lock and its script ended."""
    from tests.rig.cli import deisctl_command

    (bob,) = new_users(1)
    if runtime == "docker":
        flags = node_flags(sshd_server)
        token = controller_container.seed(bob)[bob]
        database = controller_container.database
    else:
        flags = runtime_none(sshd_server, node_app)
        token = json.loads(node_app.manage("seed", bob))[bob]
        database = node_app.database
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    with database.locked("everything"):
        proc = subprocess.Popen([*deisctl_command(), "users", *flags, "revoke-token", bob],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                                text=True)
        time.sleep(3)  # sent, and waiting for the lock
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out) == (130, ""), err
    assert err == "error: interrupted before the controller on 127.0.0.1 was told to commit revoke-token: " \
                  "nothing was changed\n"
    _wait_until_no_controller_script()
    listed = subprocess.run([*deisctl_command(), "users", *flags, "list", "-o", "json"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert [row["has_token"] for row in json.loads(listed.stdout) if row["username"] == bob] == [True]
    if runtime == "docker":
        assert controller_container.check_token(token) == 200


DELAYED_COMMIT = """#!{host_python}
# Stands in for --python on the node: runs the real interpreter ({python}) with the real script,
# relaying its stdin; the commit line, once it comes, is held {pause} s before it is passed on
# (its PID and that line are written to {seen!r} first). So the controller commits late.
import os, subprocess, sys, time
child = subprocess.Popen([{python!r}] + sys.argv[1:], stdin=subprocess.PIPE)
while True:
    data = os.read(0, 65536)
    if data == {commit!r}:
        with open({seen!r}, "w") as seen:
            seen.write("%d %d %r" % (os.getpid(), child.pid, data))
        time.sleep({pause})
    if not data:
        break
    child.stdin.write(data)
    child.stdin.flush()
child.stdin.close()
sys.exit(child.wait())
"""


@pytest.mark.parametrize("pause, told", [(1, "had committed"), (60, "may or may not")])
def test_an_interrupt_after_the_commit_order_waits_for_the_outcome_within_the_ssh_timeout(sshd_server, node_app,
                                                                                        tmp_path, pause, told):
    """Interrupted once the commit was ordered: deisctl waits up to --ssh-timeout for the outcome;
    confirmed, it says what was committed; not, that the change may or may not have been made. The
    real script on the node, whose commit line arrives late."""
    from tests.rig.cli import deisctl_command

    (bob,) = new_users(1)
    node_app.manage("seed", bob)
    seen = tmp_path / "seen"
    delayed = tmp_path / "delayed-python"
    delayed.write_text(DELAYED_COMMIT.format(host_python=sys.executable, python=node_app.python, seen=str(seen),
                                             pause=pause, commit=controller.COMMIT_ORDER))
    delayed.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    proc = subprocess.Popen([*deisctl_command(), "users", *node_flags(sshd_server), "--runtime", "none",
                             "--app-dir", str(node_app.app_dir), "--python", str(delayed), "--ssh-timeout", "4",
                             "revoke-token", bob],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, text=True)
    pids = []
    try:
        deadline = time.monotonic() + 60
        while not (seen.exists() and seen.read_text()):
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        relay, script, line = seen.read_text().split(" ", 2)
        pids = [int(relay), int(script)]
        assert line == repr(controller.COMMIT_ORDER)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        out, err = proc.communicate(timeout=30)
        waited = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert (proc.returncode, out) == (130, ""), err
    if told == "had committed":
        assert err == f"error: interrupted, but the controller on 127.0.0.1 had committed revoke-token: changed {bob}\n"
        assert waited < 4
        assert _has_token(node_app, bob) is False
    else:
        assert err == ("error: interrupted after the controller on 127.0.0.1 was told to commit revoke-token: the "
                       "change may or may not have been made (see what it did with 'users list' and the same node "
                       "options before retrying)\n")
        assert 3.5 < waited < 4 + 5


def _has_token(node_app, name: str) -> bool:
    return json.loads(node_app.manage("rigscript", input=(
        "import json\nfrom rest_framework.authtoken.models import Token\n"
        f"print(json.dumps(Token.objects.filter(user__username={name!r}).exists()))\n")))


def test_a_confirmed_change_on_the_controller_leaves_an_audit_record(users, etcd, controller_container):
    """After the controller confirmed it, in the cluster's audit trail (read with etcdctl)."""
    bob, carol = new_users(2)
    controller_container.seed(bob, carol)
    out = users("revoke-token", bob, carol, root=("--reason", "leaked tokens"))
    assert out.exit_code == 0, out.stderr
    raw = etcd.etcdctl("get", "/deisctl-audit/deis/records/", "--prefix", "--print-value-only").stdout
    record = json.loads(raw.strip().splitlines()[-1])
    assert record["changes"] == [{"component": "controller", "key": f"users/{name}", "action": "revoked"}
                                 for name in (bob, carol)]
    assert record["reason"] == "leaked tokens" and "revoke-token" in record["command"]
    again = users("revoke-token", bob)  # nothing changed: nothing recorded
    assert again.exit_code == 0 and etcd.etcdctl("get", "/deisctl-audit/deis/records/", "--prefix",
                                                 "--print-value-only").stdout == raw


def test_a_change_etcd_cannot_record_stands_and_says_so(users, controller_container):
    (bob,) = new_users(1)
    token = controller_container.seed(bob)[bob]
    out = users("revoke-token", bob, env={"DEISCTL_ENDPOINTS": f"http://127.0.0.1:{free_port()}",
                                         "DEISCTL_DIAL_TIMEOUT": "0.5"})
    assert_error(out, 9, f"revoke-token was made on the controller ({bob}), but its audit record could not be "
                         "written: cannot reach etcd")
    assert controller_container.check_token(token) == 401  # the change stands
