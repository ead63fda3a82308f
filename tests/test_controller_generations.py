"""What differs between the controllers deisctl meets, tested on each (on_every_controller): today's
Django, and the one every Deis v1 release shipped (Python 2.7, Django 1.6, DRF 3.0, django-guardian,
settings that print lines of their own, PostgreSQL). The users suites (test_users*.py,
test_controller_script.py) run on both too; this module holds what only some of them have.
"""
from __future__ import annotations

import json
import time

import pytest

from deisctl import controller
from tests.helpers import assert_error, new_users, node_flags
from tests.plugins.remote_rig import on_every_controller

pytestmark = pytest.mark.usefixtures("audited_by_the_test_etcd")
docker_engine, sshd_server, controller_container, node_app = on_every_controller()
GOOD = "correct-horse-battery-9"


@pytest.fixture
def users(cli, sshd_server, controller_container):
    def run(*args, input=None):
        return cli("users", *node_flags(sshd_server), *args, input=input)

    return run


def test_check_names_the_controllers_python_django_and_drf(cli, etcd, sshd_server, controller_container):
    etcd.write("/deis/platform/domain", "example.com")
    etcd.write("/deis/controller/host", sshd_server.host)
    etcd.write("/deis/controller/port", "8000")
    out = cli("--endpoints", etcd.endpoints, "-o", "json", "check", "--controller", *node_flags(sshd_server))
    assert out.exit_code == 0, (out.stdout, out.stderr)
    row = {row["check"]: row for row in json.loads(out.stdout)}["controller software"]
    assert row == {"check": "controller software", "ok": True, "detail": controller_container.software}


def test_a_username_longer_than_the_controller_allows_is_refused_with_its_limit(users, controller_container,
                                                                             sshd_server):
    """Django 1.6's usernames hold 30 characters, today's 150: deisctl refuses more than 150 before
    sending anything, the controller anything longer than its own field, each with a clear line."""
    too_long = "x" * (controller_container.username_max + 1)
    if controller_container.username_max >= controller.USERNAME_MAX:
        assert_error(users("revoke-token", too_long), 2, "invalid username", "at most 150 characters",
                     "nothing was sent")
        return
    assert_error(users("revoke-token", too_long), 2, f"username {too_long} is longer than the controller allows "
                 f"(at most {controller_container.username_max} characters there); nothing was changed")
    out = users("create", too_long, "--password-stdin", input=GOOD)
    assert_error(out, 2, f"the controller refuses the username {too_long}: Ensure this value has at most "
                 f"{controller_container.username_max} characters (it has {len(too_long)}).", "nothing was changed")
    assert too_long not in users("list").stdout


def test_guardians_anonymous_user_is_no_account_but_holds_a_token_like_any(cli, deis_v1_rig):
    """Deis's controller keeps django-guardian's AnonymousUser as a row of the user table, and gave it
    a token like every user. It is not an account: `list` leaves it out; `promote`, `set-password`
    and `delete` refuse it (guardian needs it as it is). Its token authenticates like any other, so
    `revoke-token --all` revokes it too."""
    controller_container = deis_v1_rig.controller  # the controller with django-guardian

    def users(*args, input=None):
        return cli("users", *node_flags(deis_v1_rig.sshd), *args, input=input)

    anonymous = "AnonymousUser"
    controller_container.shell("from rest_framework.authtoken.models import Token\n"
                               "from guardian.utils import get_anonymous_user\n"
                               "Token.objects.get_or_create(user=get_anonymous_user())\n")
    listed = json.loads(users("list", "-o", "json").stdout)
    assert anonymous not in [row["username"] for row in listed]
    dry = json.loads(users("revoke-token", "--all", "--dry-run", "-o", "json").stdout)
    assert {"user": anonymous, "result": "would-revoke", "changed": False} in dry["users"]
    for args in (["promote", anonymous], ["delete", anonymous, "--yes"],
                 ["set-password", anonymous, "--password-stdin"]):
        out = users(*args, input=GOOD)
        assert_error(out, 2, f"{anonymous} is django-guardian's anonymous user, which the controller needs as it "
                     f"is: {args[0]} refused; nothing was changed")
    assert users("demote", anonymous).stdout == f"{anonymous}: not an administrator\n"
    out = users("revoke-token", anonymous)
    assert (out.exit_code, out.stdout) == (0, f"{anonymous}: token revoked\n"), out.stderr


def test_lines_the_controllers_settings_print_never_break_or_forge_a_reply(users, controller_container):
    """Deis v1's settings print lines of their own on every manage.py run; the rig's stand-in also
    prints one shaped like a committed reply. Held at the database's lock, the script never gets to
    answer: deisctl times out, saying nothing was changed, rather than taking that line for a reply."""
    (bob,) = new_users(1)
    token = controller_container.seed(bob)[bob]
    listing = users("list", "-o", "json")
    assert listing.exit_code == 0 and listing.stderr == "", listing.stderr
    assert bob in [row["username"] for row in json.loads(listing.stdout)]  # stdout: the reply's rows only

    waits = controller_container.database.waits_at_most
    limit = 6 if waits is None else int(waits) - 2  # within sqlite's busy timeout
    started = time.monotonic()
    with controller_container.database.locked("everything"):
        out = users("revoke-token", bob, "--remote-timeout", str(limit))
    assert_error(out, 4, f"the controller did not answer within --remote-timeout {limit}s; nothing was changed")
    assert time.monotonic() - started < limit + 10
    deadline = time.monotonic() + 60
    while controller_container.check_token(token) != 200:  # rolled back once the script got the lock
        assert time.monotonic() < deadline
        time.sleep(0.5)
    again = users("revoke-token", bob)
    assert (again.exit_code, again.stdout) == (0, f"{bob}: token revoked\n"), again.stderr
