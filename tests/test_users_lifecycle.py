"""`deisctl users create|set-password|delete`: the rest of a user's life, end to end.

Real sshd, real dockerd, the real Django + DRF controller of every generation (today's Django, and
Deis v1's Python 2.7 / Django 1.6 on PostgreSQL): a created user logs in as `deis
login` does (DRF's obtain_auth_token answers 200 with a token), a new password replaces the old
one there, and a deleted user's token gets the API's 401. Passwords travel only on standard
input or a terminal; each test checks they show up in no output, argv or audit record.
"""
from __future__ import annotations

import json
import os

import pytest

from tests.helpers import assert_error, hint_of, new_users, node_flags, run_on_terminal, sole_admins, ssh_connections
from tests.plugins.remote_rig import on_every_controller
from tests.rig.cli import deisctl_command

pytestmark = pytest.mark.usefixtures("audited_by_the_test_etcd")
docker_engine, sshd_server, controller_container, node_app = on_every_controller()

GOOD = "correct-horse-battery-9"  # passes Django's four standard validators
UNCHECKED = ("warning: the controller's Django has no password validators (they came with Django 1.9): the "
             "password was not checked\n")


@pytest.fixture
def users(run_deisctl, sshd_server, controller_container):
    """The installed `deisctl users <node flags> ARGS...`, stdin given (closed when None)."""
    def run(*args, input=""):  # the audit records go to the test etcd (audited_by_the_test_etcd)
        return run_deisctl("users", *node_flags(sshd_server), *args, input=input,
                           env={"DEISCTL_ENDPOINTS": os.environ["DEISCTL_ENDPOINTS"]})

    return run


def test_create_then_the_user_logs_in(users, controller_container, etcd):
    (bob,) = new_users(1, "new")
    out = users("create", bob, "--email", f"{bob}@example.com", "--password-stdin", input=GOOD + "\n")
    unchecked = "" if controller_container.password_validators else UNCHECKED
    assert (out.exit_code, out.stdout, out.stderr) == (0, f"{bob}: created\n", unchecked)
    status, body = controller_container.login(bob, GOOD)
    assert status == 200 and body["token"], body
    assert controller_container.check_token(body["token"]) == 200
    rows = {row["username"]: row for row in json.loads(users("list", "-o", "json").stdout)}
    assert rows[bob]["admin"] is False
    email = controller_container.shell("from django.contrib.auth.models import User\n"
                                       f"print(User.objects.get(username={bob!r}).email)").stdout.strip()
    assert email == f"{bob}@example.com"
    # the audit record names the user and what happened; never the password
    trail = etcd.etcdctl("get", "/deisctl-audit/", "--prefix", "--print-value-only").stdout
    assert f"users/{bob}" in trail and GOOD not in trail

    out = users("create", bob, "--password-stdin", input=GOOD)
    assert_error(out, 6, f"user {bob} already exists on the controller; nothing was changed")


def test_create_an_administrator_and_a_dry_run(users, controller_container):
    alice, carol = new_users(2, "adm")
    out = users("create", alice, "--admin", "--password-stdin", "-o", "json", input=GOOD)
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["users"] == [{"user": alice, "result": "created", "changed": True, "admin": True,
                                                "password_checked": controller_container.password_validators}]
    rows = {row["username"]: row for row in json.loads(users("list", "-o", "json").stdout)}
    assert rows[alice]["admin"] and rows[alice]["staff"]
    out = users("create", carol, "--dry-run", "--password-stdin", input=GOOD)
    assert (out.exit_code, out.stdout) == (0, f"{carol}: would be created (dry run)\n")
    assert controller_container.login(carol, GOOD)[0] == 400


def test_djangos_password_validators_apply_and_their_messages_are_shown(users, controller_container):
    (dave,) = new_users(1, "val")
    out = users("create", dave, "--email", "not-an-address", "--password-stdin", input=GOOD)
    assert_error(out, 2, "invalid --email", "Enter a valid email address.")
    if not controller_container.password_validators:
        # Django 1.6 (Deis v1) has none: the password is taken as it is, and deisctl says so.
        out = users("create", dave, "--password-stdin", "-o", "json", input="12345\n")
        assert (out.exit_code, out.stderr) == (0, UNCHECKED)
        assert json.loads(out.stdout)["users"][0]["password_checked"] is False
        assert controller_container.login(dave, "12345")[0] == 200
        out = users("set-password", dave, "--password-stdin", input="password")
        assert (out.exit_code, out.stdout, out.stderr) == (0, f"{dave}: password set\n", UNCHECKED)
        return
    out = users("create", dave, "--password-stdin", input="12345\n")
    assert_error(out, 2, "the controller's password validators refused the password",
                 "This password is too short. It must contain at least 8 characters.",
                 "This password is too common.", "This password is entirely numeric.", "nothing was changed")
    out = users("create", dave, "--password-stdin", input=f"{dave}x\n")  # too like the username
    assert_error(out, 2, "The password is too similar to the username.")
    assert dave not in users("list").stdout  # nothing was created
    # the same validators guard a new password
    controller_container.seed(dave)
    out = users("set-password", dave, "--password-stdin", input="password")
    assert_error(out, 2, "This password is too common.")


def test_set_password_without_the_old_one(users, controller_container):
    (erin,) = new_users(1, "pw")
    token = controller_container.seed(erin)[erin]
    assert users("set-password", erin, "--password-stdin", input=GOOD).exit_code == 0
    assert controller_container.login(erin, GOOD)[0] == 200
    assert controller_container.check_token(token) == 200  # the token stays, unless asked

    newer = GOOD + "-2"
    out = users("set-password", erin, "--revoke-token", "--password-stdin", input=newer + "\r\n")
    assert (out.exit_code, out.stdout) == (0, f"{erin}: password set; API token revoked\n"), out.stderr
    assert controller_container.check_token(token) == 401
    assert controller_container.login(erin, GOOD)[0] == 400
    assert controller_container.login(erin, newer)[0] == 200  # "\r\n" was the line's end, not the password

    out = users("set-password", "nobody-like-this", "--password-stdin", input=GOOD)
    assert_error(out, 3, "no such user(s) on the controller: nobody-like-this")


def test_passwords_never_come_from_argv_nor_an_empty_or_closed_stdin(users, sshd_server, controller_container):
    (fay,) = new_users(1, "arg")
    before = ssh_connections(sshd_server)
    out = users("create", fay, "--password", GOOD)
    assert_error(out, 2, "no such option: --password")
    out = users("create", fay)  # no terminal, no --password-stdin: refused, nothing sent
    assert_error(out, 2, f"a password for {fay} is needed, and there is no terminal to ask on")
    advice = hint_of(out)
    assert advice == "pass --password-stdin and give it on standard input"
    out = users("create", fay, "--password-stdin", input="")
    assert_error(out, 2, f"empty password for {fay}; nothing was sent")
    out = users("create", fay, "--password-stdin", input="one\ntwo\n")
    assert_error(out, 2, "more than one line")
    assert ssh_connections(sshd_server) == before  # every refusal came before connecting
    # the hint, followed
    out = users("create", fay, advice.split()[1], input=GOOD)
    assert out.exit_code == 0, out.stderr
    assert controller_container.login(fay, GOOD)[0] == 200


def test_on_a_terminal_the_password_is_asked_twice_and_never_echoed(sshd_server, controller_container):
    gil, hal = new_users(2, "tty")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(DEISCTL_ENDPOINTS=os.environ["DEISCTL_ENDPOINTS"])
    argv = deisctl_command() + ["users", *node_flags(sshd_server), "create", gil]
    code, printed = run_on_terminal(argv, env=env, timeout=60, answers=[
        (f"Password for {gil}: ".encode(), GOOD.encode() + b"\n"),
        (f"Password for {gil} (again): ".encode(), GOOD.encode() + b"\n")])
    assert code == 0, printed
    assert GOOD not in printed and f"{gil}: created" in printed
    assert controller_container.login(gil, GOOD)[0] == 200

    argv = deisctl_command() + ["users", *node_flags(sshd_server), "create", hal]
    code, printed = run_on_terminal(argv, env=env, timeout=60, answers=[
        (f"Password for {hal}: ".encode(), GOOD.encode() + b"\n"), (b"(again): ", b"something-else-entirely\n")])
    assert code == 2 and "the two passwords differ; nothing was sent" in printed, printed
    assert controller_container.login(hal, GOOD)[0] == 400


def test_delete_needs_yes_without_a_terminal_and_the_token_then_gets_401(users, sshd_server, controller_container):
    ivy, jon = new_users(2, "del")
    tokens = controller_container.seed(ivy, jon)
    before = ssh_connections(sshd_server)
    out = users("delete", ivy, jon)
    assert_error(out, 2, "cannot be undone: confirm with --yes (no terminal to ask on)")
    assert ssh_connections(sshd_server) == before
    out = users("delete", ivy, jon, "--dry-run")
    assert (out.exit_code, out.stdout) == (0, f"{ivy}: would be deleted (dry run)\n{jon}: would be deleted (dry run)\n")
    assert controller_container.check_token(tokens[ivy]) == 200

    out = users("delete", ivy, "nobody-at-all", "--yes")  # all or none
    assert_error(out, 3, "no such user(s) on the controller: nobody-at-all")
    assert controller_container.check_token(tokens[ivy]) == 200

    out = users("delete", ivy, jon, *hint_of(users("delete", ivy, jon)).removeprefix("pass ").split())
    assert (out.exit_code, out.stdout) == (0, f"{ivy}: deleted\n{jon}: deleted\n"), out.stderr
    assert controller_container.api_get(tokens[ivy]) == (401, controller_container.invalid_token)
    assert controller_container.check_token(tokens[jon]) == 401
    assert ivy not in users("list").stdout


def test_delete_asks_on_a_terminal(sshd_server, controller_container):
    (kim,) = new_users(1, "ask")
    token = controller_container.seed(kim)[kim]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(DEISCTL_ENDPOINTS=os.environ["DEISCTL_ENDPOINTS"])
    argv = deisctl_command() + ["users", *node_flags(sshd_server), "delete", kim]
    code, printed = run_on_terminal(argv, env=env, timeout=60, answers=[(b"[y/N]", b"n\n")])
    assert code == 2 and "not confirmed; nothing was changed" in printed, printed
    assert controller_container.check_token(token) == 200
    code, printed = run_on_terminal(argv, env=env, timeout=60, answers=[(b"[y/N]", b"y\n")])
    assert code == 0 and f"{kim}: deleted" in printed, printed
    assert controller_container.check_token(token) == 401


def test_delete_never_takes_the_last_administrator_nor_what_a_user_owns(users, controller_container):
    lee, mo = new_users(2, "own")
    tokens = controller_container.seed(lee, mo)
    with sole_admins(controller_container, lee):
        out = users("delete", lee, "--yes")
        assert_error(out, 2, f"deleting {lee} would leave the controller without an active administrator")
        assert hint_of(out) == "make another user an administrator first: users promote USER"
        assert controller_container.check_token(tokens[lee]) == 200
    controller_container.shell("from django.contrib.auth.models import User\nfrom controller.models import App\n"
                               f"App.objects.create(id='{mo}-app', owner=User.objects.get(username={mo!r}))")
    out = users("delete", mo, "--yes")
    assert_error(out, 2, f"deleting {mo} would also delete what they own on the controller (1 controller.App)")
    assert controller_container.check_token(tokens[mo]) == 200
