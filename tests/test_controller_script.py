"""The controller script (deisctl/controller/script.py) run for real, without SSH, on every
generation of controller: the app deployed on this machine (tests/controller_app on today's
Django; Deis v1's Python 2.7 / Django 1.6 through chroot into its image's tree), each on its own
sqlite database.

Exactly what the node runs: `controller.remote_command("none", ...)` (`python -c BOOTSTRAP` in the
app dir), driven by `controller.Exchange` as over SSH: the framed script on stdin, a prepared change
committed by the commit line. State is read back with the app's own ORM in another Django process.
Every test seeds its own usernames.
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
import time

import pytest

from deisctl import controller
from deisctl.errors import DeisctlError, NotFoundError, UsageError
from tests.helpers import LocalCommand, new_users
from tests.plugins.remote_rig import on_every_controller

pytest.importorskip("django")
pytest.importorskip("rest_framework.authtoken")

docker_engine, sshd_server, controller_container, node_app = on_every_controller()

STATE = """
import json
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
tokens = dict(Token.objects.values_list("user__username", "key"))
print(json.dumps({u.username: [u.is_superuser, u.is_staff, tokens.get(u.username)] for u in User.objects.all()}))
"""

# Makes NAMES the only active superusers; prints the ones there were before.
ONLY_ADMINS = """
import json
from django.contrib.auth.models import User
names = json.loads(NAMES)
admins = User.objects.filter(is_superuser=True, is_active=True)
print(json.dumps(list(admins.exclude(username__in=names).values_list("username", flat=True))))
admins.exclude(username__in=names).update(is_superuser=False, is_staff=False)
User.objects.filter(username__in=names).update(is_superuser=True, is_staff=True)
"""


class App:
    """The controller app on this machine (a tests.rig.docker_engine.NodeApp), driven as a node
    runs it."""

    def __init__(self, node):
        self.node = node
        self.database = node.database
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEIS_"))}

    def script(self, source: str) -> str:
        """A Python script run with the app's Django set up; its output."""
        return self.node.manage("rigscript", input=source)

    def start(self) -> LocalCommand:
        """The command the node runs (--runtime none), started here."""
        argv = controller.remote_command("none", "", str(self.node.app_dir), self.node.python)
        return LocalCommand(argv, self.node.app_dir, self.env)

    def run(self, request: dict, commit_within: float = 10) -> dict:
        """The script, driven as over SSH: its reply (a change committed)."""
        command = self.start()
        try:
            reply = controller.Exchange(command, request, "local", time.monotonic() + 120, commit_within).run()
        finally:
            command.close()
        assert reply is not None, "no reply within 120 s"
        return reply

    def seed(self, *names: str) -> dict[str, str]:
        return json.loads(self.node.manage("seed", *names))

    def set_admins(self, names) -> list[str]:
        """Make names the only active superusers; return the others that were."""
        return json.loads(self.script(f"NAMES = {json.dumps(json.dumps(list(names)))}\n" + ONLY_ADMINS))

    @contextlib.contextmanager
    def only_admins(self, *names: str):
        """Within the block names are the only active administrators; the others are restored after."""
        others = self.set_admins(names)
        try:
            yield
        finally:
            self.set_admins(others + [n for n, (admin, _, _) in self.state().items() if admin])

    def state(self) -> dict[str, tuple[bool, bool, str | None]]:
        """{username: (is_superuser, is_staff, token key or None)}, read with the app's own ORM."""
        return {name: tuple(row) for name, row in json.loads(self.script(STATE)).items()}


@pytest.fixture
def app(node_app) -> App:
    return App(node_app)


def rows(*entries: tuple[str, str, bool]) -> list[dict]:
    return [{"user": user, "result": result, "changed": changed} for user, result, changed in entries]


def test_revoke_token_deletes_only_the_named_users_tokens_and_is_idempotent(app):
    bob, alice, carol = new_users(3)
    tokens = app.seed(bob, alice, carol)

    reply = app.run({"action": "revoke-token", "users": [bob, carol], "dry_run": False})

    assert reply == {"ok": True, "users": rows((bob, "revoked", True), (carol, "revoked", True))}
    state = app.state()
    assert state[bob][2] is None and state[carol][2] is None
    assert state[alice][2] == tokens[alice]
    again = app.run({"action": "revoke-token", "users": [carol, bob], "dry_run": False})
    assert again["users"] == rows((carol, "no-token", False), (bob, "no-token", False))


def test_dry_run_changes_nothing(app):
    bob, carol = new_users(2)
    tokens = app.seed(bob, carol)
    app.run({"action": "revoke-token", "users": [carol], "dry_run": False})
    before = app.state()

    revoke = app.run({"action": "revoke-token", "users": [bob, carol], "dry_run": True})
    promote = app.run({"action": "promote", "users": [bob], "dry_run": True})

    assert revoke["users"] == rows((bob, "would-revoke", False), (carol, "no-token", False))
    assert promote["users"] == rows((bob, "would-promote", False))
    assert app.state() == before and before[bob] == (False, False, tokens[bob])


def test_a_missing_user_is_not_found_and_nothing_changes(app):
    bob, alice, ghost1, ghost2 = new_users(4)
    app.seed(bob, alice)
    before = app.state()

    for action in ("revoke-token", "promote"):
        with pytest.raises(NotFoundError) as caught:
            app.run({"action": action, "users": [bob, ghost1, alice, ghost2], "dry_run": False})
        assert caught.value.message == \
            f"no such user(s) on the controller: {ghost1}, {ghost2}; nothing was changed"

    assert app.state() == before


def test_promote_and_demote(app):
    bob, carol, keeper = new_users(3)
    app.seed(bob, carol, keeper)
    app.run({"action": "promote", "users": [keeper], "dry_run": False})  # stays: bob and carol are not the last

    assert app.run({"action": "promote", "users": [bob], "dry_run": False})["users"] == \
        rows((bob, "promoted", True))
    assert app.state()[bob][:2] == (True, True)
    assert app.run({"action": "promote", "users": [bob, carol], "dry_run": False})["users"] == \
        rows((bob, "already-admin", False), (carol, "promoted", True))
    assert app.run({"action": "demote", "users": [bob], "dry_run": True})["users"] == \
        rows((bob, "would-demote", False))
    assert app.state()[bob][:2] == (True, True)
    assert app.run({"action": "demote", "users": [bob, carol], "dry_run": False})["users"] == \
        rows((bob, "demoted", True), (carol, "demoted", True))
    state = app.state()
    assert state[bob][:2] == state[carol][:2] == (False, False)
    assert app.run({"action": "demote", "users": [bob], "dry_run": False})["users"] == \
        rows((bob, "not-admin", False))


def test_demoting_the_last_active_administrator_is_refused_unless_forced(app):
    bob, carol, dora = new_users(3)
    app.seed(bob, carol, dora)
    with app.only_admins(bob, carol):
        before = app.state()
        for dry_run in (False, True):  # a dry run reports the refusal the same way
            with pytest.raises(UsageError) as caught:
                app.run({"action": "demote", "users": [dora, bob, carol], "dry_run": dry_run})
            assert caught.value.message == (f"demoting {bob}, {carol} would leave the controller without an "
                                            "active administrator; nothing was changed")
            assert caught.value.hint == "pass --force to demote anyway"
        assert app.state() == before

        # One of two may go; then the other is the last.
        assert app.run({"action": "demote", "users": [bob], "dry_run": False}) == \
            {"ok": True, "users": rows((bob, "demoted", True))}
        with pytest.raises(UsageError):
            app.run({"action": "demote", "users": [carol], "dry_run": False})
        # An inactive superuser is no administrator: it does not keep carol from being the last.
        app.script("from django.contrib.auth.models import User\n"
                   f"User.objects.filter(username={dora!r}).update(is_superuser=True, is_active=False)")
        with pytest.raises(UsageError):
            app.run({"action": "demote", "users": [carol], "dry_run": True})

        forced = app.run({"action": "demote", "users": [carol], "dry_run": False, "force": True})
        assert forced == {"ok": True, "users": rows((carol, "demoted", True)), "no_admin_left": True}
        assert app.state()[carol][:2] == (False, False)
        # With no administrator left, demoting a non-administrator is nothing to refuse.
        assert app.run({"action": "demote", "users": [bob], "dry_run": False})["users"] == \
            rows((bob, "not-admin", False))


def test_two_concurrent_demotes_cannot_both_pass(app):
    """bob and carol are the only administrators; `demote bob` and `demote carol` start together,
    both held at the database's write lock (taken here) until it is released: one demotes, the
    other, deciding inside its own transaction after the first committed, is refused."""
    bob, carol = new_users(2)
    app.seed(bob, carol)
    with app.only_admins(bob, carol):
        outcomes = []

        def demote(name):
            try:
                outcomes.append(app.run({"action": "demote", "users": [name], "dry_run": False})["users"][0])
            except UsageError as exc:
                outcomes.append(exc.message)

        threads = [threading.Thread(target=demote, args=(name,)) for name in (bob, carol)]
        with app.database.locked("writes"):
            for thread in threads:
                thread.start()
            time.sleep(2.5)  # both started and waiting for the lock (sqlite's busy timeout is 5 s)
            assert outcomes == []
        for thread in threads:
            thread.join(120)

        assert sorted(map(type, outcomes), key=str) == [dict, str], outcomes
        demoted = next(o["user"] for o in outcomes if isinstance(o, dict))
        kept = carol if demoted == bob else bob
        assert f"demoting {kept} would leave the controller without an active administrator" in \
            next(o for o in outcomes if isinstance(o, str))
        state = app.state()
        assert (state[demoted][:2], state[kept][:2]) == ((False, False), (True, True))


def test_list_reports_every_user_sorted_with_flags(app):
    bob, carol = new_users(2)
    app.seed(bob, carol)
    app.run({"action": "promote", "users": [bob], "dry_run": False})
    app.run({"action": "revoke-token", "users": [carol], "dry_run": False})

    listed = app.run({"action": "list"})["users"]

    names = [row["username"] for row in listed]
    # django-guardian's anonymous user (Deis v1) is a row of the table, not an account: never listed.
    assert names == sorted(names) and set(names) == set(app.state()) - {"AnonymousUser"}
    by_name = {row["username"]: row for row in listed}
    assert {k: v for k, v in by_name[bob].items() if k != "date_joined"} == \
        {"username": bob, "admin": True, "staff": True, "has_token": True}
    assert (by_name[carol]["admin"], by_name[carol]["has_token"]) == (False, False)
    assert by_name[bob]["date_joined"][:4].isdigit() and "T" in by_name[bob]["date_joined"]


def test_all_revokes_every_token_and_only_tokens(app):
    names = sorted(new_users(3, tag="all"))
    tokens = app.seed(*names)
    holders = sorted(name for name, (_, _, token) in app.state().items() if token)
    assert set(names) <= set(holders)

    dry = app.run({"action": "revoke-token", "all": True, "dry_run": True})
    assert dry["users"] == rows(*((name, "would-revoke", False) for name in holders))
    assert app.state()[names[0]][2] == tokens[names[0]]

    done = app.run({"action": "revoke-token", "all": True, "dry_run": False})
    assert done["users"] == rows(*((name, "revoked", True) for name in holders))
    state = app.state()
    assert all(token is None for _, _, token in state.values()) and set(names) <= set(state)
    assert app.run({"action": "revoke-token", "all": True, "dry_run": False})["users"] == []


def test_more_users_than_one_query_chunk(app):
    """The script looks users up and deletes tokens 500 at a time (sqlite's bound-parameter limit)."""
    names = new_users(1001, tag="bulk")
    app.seed(*names)

    with pytest.raises(NotFoundError):
        app.run({"action": "revoke-token", "users": [*names, "bulk-ghost"], "dry_run": False})
    reply = app.run({"action": "revoke-token", "users": names, "dry_run": False})

    assert reply["users"] == rows(*((name, "revoked", True) for name in names))
    state = app.state()
    assert all(state[name][2] is None for name in names)


def test_a_failing_script_is_one_remote_error_and_rolls_back(app):
    (bob,) = new_users(1)
    app.seed(bob)
    before = app.state()

    with pytest.raises(DeisctlError) as caught:
        app.run({"action": "no-such-action", "users": [bob], "dry_run": False})

    assert caught.value.message == \
        "local: remote command failed (exit 1): ValueError: unknown action: no-such-action"
    assert app.state() == before


# -- the commit order ------------------------------------------------------------------------------


def _prepared(app, request: dict, commit_within: float = 10):
    """The script started and its change prepared: (command, the prepared reply)."""
    command = app.start()
    exchange = controller.Exchange(command, request, "local", time.monotonic() + 120, commit_within)
    command.send(controller.framed(exchange.request), None)
    line = command.readline(time.monotonic() + 120)
    while line and not line.startswith(controller.MARKER.encode()):
        line = command.readline(time.monotonic() + 120)
    return command, json.loads(line[len(controller.MARKER):])


def _final(command) -> dict:
    completed = command.finish(time.monotonic() + 60)
    lines = [line for line in completed.stdout.decode().splitlines() if line.startswith(controller.MARKER)]
    assert completed.status == 0 and len(lines) == 1, completed
    return json.loads(lines[0][len(controller.MARKER):])


@pytest.mark.parametrize("ending", ["end of input", "another line", "no line in time"])
def test_a_prepared_change_commits_only_on_the_commit_line(app, ending):
    """The script holds the change ready and commits only on "commit"; end of input (deisctl
    interrupted, the channel closed), any other line, or no line within commit_within: rolled back."""
    bob, carol = new_users(2)
    tokens = app.seed(bob, carol)
    before = app.state()
    command, prepared = _prepared(app, {"action": "revoke-token", "users": [bob, carol], "dry_run": False},
                                  commit_within=1.5)
    try:
        assert prepared == {"ok": True, "prepared": True,
                            "users": rows((bob, "revoked", True), (carol, "revoked", True))}
        if ending == "end of input":
            command.close_input()
        elif ending == "another line":
            command.send(b"commit please\n", None)
        final = _final(command)
    finally:
        command.close()
    assert final == {"ok": False, "committed": False, "reason": "no commit order came; rolled back"}
    assert app.state() == before and before[bob][2] == tokens[bob]


def test_the_commit_line_commits_what_was_prepared(app):
    (bob,) = new_users(1)
    app.seed(bob)
    command, prepared = _prepared(app, {"action": "promote", "users": [bob], "dry_run": False})
    try:
        assert prepared["users"] == rows((bob, "promoted", True))
        assert app.state()[bob][:2] == (False, False)  # not yet: held in the script's transaction
        command.send(controller.COMMIT_ORDER, None)
        assert _final(command) == {"ok": True, "committed": True}
    finally:
        command.close()
    assert app.state()[bob][:2] == (True, True)


def test_a_commit_line_sent_with_the_script_is_not_lost(app):
    """What the bare reference of bench/bench_revoke.py does: all of stdin at once."""
    (bob,) = new_users(1)
    app.seed(bob)
    request = {"action": "revoke-token", "users": [bob], "dry_run": False, "commit_within": 10}
    command = app.start()
    try:
        command.send(controller.framed(request) + controller.COMMIT_ORDER, None)
        command.close_input()
        completed = command.finish(time.monotonic() + 60)
    finally:
        command.close()
    replies = [json.loads(line[len(controller.MARKER):]) for line in completed.stdout.decode().splitlines()
               if line.startswith(controller.MARKER)]
    assert completed.status == 0 and replies[-1] == {"ok": True, "committed": True}, completed
    assert app.state()[bob][2] is None


def test_a_dry_run_a_refusal_and_a_list_need_no_commit_line(app):
    """Nothing to commit: the reply comes at once and the script ends without reading stdin again."""
    (bob,) = new_users(1)
    app.seed(bob)
    for request in ({"action": "promote", "users": [bob], "dry_run": True}, {"action": "list"},
                    {"action": "promote", "users": ["ghost-" + bob], "dry_run": False}):
        command, reply = _prepared(app, request)
        try:
            assert "prepared" not in reply
            completed = command.finish(time.monotonic() + 60)  # ends with stdin still open
        finally:
            command.close()
        assert completed.status == 0, completed


def test_an_incomplete_script_runs_nothing(app):
    """The sender gone mid-script: the bootstrap runs none of it."""
    (bob,) = new_users(1)
    app.seed(bob)
    before = app.state()
    whole = controller.framed({"action": "revoke-token", "users": [bob], "dry_run": False, "commit_within": 5})
    command = app.start()
    try:
        command.send(whole[:-40], None)
        command.close_input()
        completed = command.finish(time.monotonic() + 60)
    finally:
        command.close()
    assert completed.status == 1 and "the script arrived incomplete; nothing was run" in completed.last_error_line()
    assert app.state() == before

