"""deisctl.controller without a controller: username rules, the program sent, the remote argv, the reply.

The script itself runs against the real Django app in tests/test_controller_script.py.
"""
from __future__ import annotations

import ast
import base64
import json
import subprocess
import sys

import pytest

from deisctl import controller
from deisctl.errors import DeisctlError, ExitCode, NotFoundError, UsageError
from deisctl.ssh.session import Completed
from tests.helpers import HOSTILE_USERNAMES



# -- usernames and container names ------------------------------------------------------------


@pytest.mark.parametrize("name", ["bob", "jörg.x", "a+b@example.com-1", "_x", "-rf", "Ünïcödé", "a" * 150])
def test_valid_usernames_pass_as_they_are(name):
    assert controller.validate_usernames([name]) == [name]


def test_duplicates_are_dropped_in_order():
    assert controller.validate_usernames(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


@pytest.mark.parametrize("name", HOSTILE_USERNAMES, ids=range(len(HOSTILE_USERNAMES)))
def test_hostile_usernames_are_refused_before_anything_is_sent(name):
    with pytest.raises(UsageError) as caught:
        controller.validate_usernames(["bob", name])
    line = caught.value.render()
    assert caught.value.exit_code == ExitCode.USAGE
    assert "invalid username" in line and "nothing was sent" in line and "\n" not in line


def test_a_long_name_is_shown_cut():
    with pytest.raises(UsageError) as caught:
        controller.validate_usernames(["x" * 40 + "!" * 200])
    assert "x" * 40 + "..." in caught.value.message and "!" not in caught.value.message


@pytest.mark.parametrize("name, ok", [("deis-controller", True), ("c1", True), ("a_b.c-d", True),
                                      ("a b", False), ("-x", False), ("", False), ("a;b", False),
                                      ("_x", False), ("a/b", False), ("x\n", False)])
def test_container_names(name, ok):
    if ok:
        assert controller.validate_container(name) == name
    else:
        with pytest.raises(UsageError, match="invalid --container"):
            controller.validate_container(name)


# -- the program ---------------------------------------------------------------------------------


def _call_argument(program: bytes) -> str:
    """The one statement after the fixed script: `_deisctl_main("<literal>")`; returns the literal."""
    script = controller.script_source()
    assert program.startswith(script)
    tail = ast.parse(program[len(script):].decode("ascii")).body
    assert len(tail) == 1
    call = tail[0].value
    assert isinstance(call, ast.Call) and call.func.id == "_deisctl_main" and not call.keywords
    (arg,) = call.args
    assert isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    return arg.value


@pytest.mark.parametrize("request_", [
    {"action": "revoke-token", "users": ["bob", "alice"], "dry_run": False},
    {"action": "revoke-token", "all": True, "dry_run": True},
    {"action": "list"},
    # Never sent in practice (validate_usernames refuses them); the encoding holds even so.
    {"action": "promote", "users": HOSTILE_USERNAMES + ['")\nimport os\nos._exit(1)\n_deisctl_main("'], "dry_run": False},
])
def test_program_is_the_fixed_script_and_one_call_with_base64_of_the_json_request(request_):
    program = controller.program(request_)

    literal = _call_argument(program)
    assert set(literal) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
    assert json.loads(base64.b64decode(literal)) == request_
    assert program.endswith(f'_deisctl_main("{literal}")\n'.encode())
    tree = ast.parse(program)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "_deisctl_main"]
    assert calls == [tree.body[-1].value]  # the one call, last


def test_nothing_user_controlled_reaches_the_program_outside_the_base64_literal():
    marker = "zq9canaryzq9"
    program = controller.program({"action": "revoke-token", "users": [marker], "dry_run": False})
    assert marker.encode() not in program
    assert controller.program({"action": "list"})[:len(controller.script_source())] == controller.script_source()


def test_the_script_is_self_contained_ascii_python():
    source = controller.script_source()
    source.decode("ascii")  # Python 2 compiles it without an encoding line
    tree = ast.parse(source)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            imported.add(node.module.split(".")[0])
    assert imported == {"base64", "json", "os", "platform", "runpy", "signal", "sys", "django", "rest_framework",
                        "guardian"}
    # Nothing runs when it is read (deisctl imports it for its words): constants, classes, functions.
    for node in tree.body:
        if isinstance(node, ast.Assign):  # literals, and tuples of the names above
            assert all(isinstance(part, (ast.Constant, ast.Tuple, ast.Name, ast.Load)) for part in ast.walk(node.value))
        else:
            assert isinstance(node, (ast.FunctionDef, ast.ClassDef)), ast.dump(node)
    # The words the exchange on this side reads are the script's own.
    assert (controller.MARKER, controller.COMMIT_ORDER) == (controller.words.MARKER, b"commit\n")


def test_the_script_uses_only_what_python_2_7_has():
    """Deis v1's controller runs Python 2.7: no f-strings, annotations, keyword-only arguments,
    nonlocal, async, dict or call unpacking beyond what 2.7 parses."""
    tree = ast.parse(controller.script_source())
    for node in ast.walk(tree):
        assert not isinstance(node, (ast.JoinedStr, ast.AnnAssign, ast.Nonlocal, ast.AsyncFunctionDef, ast.Await,
                                     ast.YieldFrom, ast.NamedExpr)), ast.dump(node)
        if isinstance(node, ast.arguments):
            assert not node.kwonlyargs and not node.posonlyargs
            assert all(arg.annotation is None for arg in node.args)
        if isinstance(node, ast.FunctionDef):
            assert node.returns is None
        if isinstance(node, ast.Dict):
            assert None not in node.keys  # {**a}
        if isinstance(node, ast.Call):
            assert not any(isinstance(arg, ast.Starred) for arg in node.args)
            assert sum(keyword.arg is None for keyword in node.keywords) <= 1  # one **mapping, last
            if any(keyword.arg is None for keyword in node.keywords):
                assert node.keywords[-1].arg is None


def test_framed_is_the_length_a_newline_and_the_program():
    request = {"action": "list"}
    framed = controller.framed(request)
    length, body = framed.split(b"\n", 1)
    assert int(length) == len(body) and body == controller.program(request)


def test_the_bootstrap_runs_exactly_the_framed_script_and_leaves_stdin_open():
    """The script's text arrives with its length, runs in a namespace of its own, and what follows
    on stdin is still there to read (on Python 2.7 too: tests/test_controller_script.py[deis-v1])."""
    probe = b"import sys\nprint('ran', __name__, sys.stdin.buffer.readline())\n"
    framed = b"%d\n" % len(probe) + probe + b"commit\n"
    ran = subprocess.run([sys.executable, "-c", controller.BOOTSTRAP], input=framed, capture_output=True, timeout=60)
    assert (ran.returncode, ran.stdout) == (0, b"ran deisctl_controller_script b'commit\\n'\n"), ran.stderr
    short = subprocess.run([sys.executable, "-c", controller.BOOTSTRAP], input=framed[:-20], capture_output=True,
                           timeout=60)
    assert short.returncode == 1 and short.stdout == b""
    assert short.stderr == b"deisctl: the script arrived incomplete; nothing was run\n"


def test_nothing_of_the_request_is_in_the_command_line():
    """The usernames travel on stdin only, as base64 of JSON inside the framed script."""
    argv = controller.remote_command("docker", controller.DEFAULT_CONTAINER, None, controller.DEFAULT_PYTHON)
    request = {"action": "revoke-token", "users": ["bob"], "dry_run": False}
    payload = base64.b64encode(json.dumps(request).encode()).decode()
    assert payload.encode() in controller.framed(request)
    assert not any("bob" in arg or payload in arg for arg in argv)


# -- the remote command --------------------------------------------------------------------------


def test_remote_command_docker_uses_the_images_workdir_unless_told():
    shell = ["-c", controller.BOOTSTRAP]
    assert controller.remote_command("docker", controller.DEFAULT_CONTAINER, None, controller.DEFAULT_PYTHON) == \
        ["docker", "exec", "-i", "deis-controller", "python", *shell]
    assert controller.remote_command("podman", "ctl", "/srv/app", "python3") == \
        ["podman", "exec", "-i", "-w", "/srv/app", "ctl", "python3", *shell]


def test_remote_command_none_passes_paths_as_positional_parameters():
    assert controller.remote_command("none", "ignored", None, "python") == \
        ["sh", "-c", 'cd "$1" && shift && exec "$@"', "deisctl", controller.DEFAULT_APP_DIR,
         "python", "-c", controller.BOOTSTRAP]
    odd = "/srv/my app; rm -rf /"
    argv = controller.remote_command("none", "x", odd, "/opt/py $(x)/python")
    assert argv[2] == 'cd "$1" && shift && exec "$@"' and argv[4] == odd and argv[5] == "/opt/py $(x)/python"


def test_runtimes_and_defaults():
    assert controller.RUNTIMES == ("docker", "podman", "none")
    assert (controller.DEFAULT_CONTAINER, controller.DEFAULT_PYTHON, controller.DEFAULT_APP_DIR) == \
        ("deis-controller", "python", "/app")


# -- the exchange ---------------------------------------------------------------------------------


class Scripted:
    """A remote command that answers with fixed output: RemoteCommand's interface, for the
    exchange's pure logic (the real script is driven in tests/test_controller_script.py)."""

    def __init__(self, *chunks: bytes, status: int = 0, stderr: bytes = b"", stall_after: int | None = None):
        self.lines = b"".join(chunks).splitlines(keepends=True)
        self.status, self.stderr, self.stall_after = status, stderr, stall_after
        self.sent: list[bytes] = []

    def send(self, data, deadline):
        self.sent.append(data)
        return True

    def readline(self, deadline):
        if self.stall_after is not None and self.stall_after <= 0:
            return None
        if self.stall_after is not None:
            self.stall_after -= 1
        return self.lines.pop(0) if self.lines else b""

    def finish(self, deadline):
        rest, self.lines = b"".join(self.lines), []
        return Completed(self.status, rest, self.stderr)


def _line(**reply) -> bytes:
    return f"\n{controller.MARKER}{json.dumps(reply)}\n".encode()


def _exchange(command, request=None):
    request = request or {"action": "revoke-token", "users": ["bob"], "dry_run": False}
    return controller.Exchange(command, request, "ssh node", None, commit_within=10)


ROWS = [{"user": "bob", "result": "revoked", "changed": True}]


def test_a_change_is_committed_by_the_commit_line_after_it_was_prepared():
    command = Scripted(b"Warning: something Django printed\n", _line(ok=True, prepared=True, users=ROWS),
                       _line(ok=True, committed=True))
    exchange = _exchange(command)
    assert exchange.run() == {"ok": True, "users": ROWS}
    assert command.sent[1:] == [controller.COMMIT_ORDER] and exchange.ordered
    assert json.loads(base64.b64decode(_call_argument(command.sent[0].split(b"\n", 1)[1])))["commit_within"] == 10


def test_a_reply_without_prepared_needs_no_commit_line():
    command = Scripted(_line(ok=True, users=[]))
    exchange = _exchange(command, {"action": "list"})
    assert exchange.run() == {"ok": True, "users": []}
    assert len(command.sent) == 1 and not exchange.ordered


def test_not_committed_says_nothing_was_changed():
    command = Scripted(_line(ok=True, prepared=True, users=ROWS),
                       _line(ok=False, committed=False, reason="no commit order came; rolled back"))
    with pytest.raises(DeisctlError) as caught:
        _exchange(command).run()
    assert caught.value.message == ("ssh node: the controller did not commit: no commit order came; rolled back; "
                                    "nothing was changed")


def test_a_deadline_is_none_and_tells_whether_the_commit_was_ordered():
    before = _exchange(Scripted(stall_after=0))
    assert before.run() is None and not before.ordered
    after = _exchange(Scripted(_line(ok=True, prepared=True, users=ROWS), stall_after=2))  # a blank line first
    assert after.run() is None and after.ordered and after.prepared["users"] == ROWS
    assert after.confirm(0.1) is None


def test_missing_users_are_not_found_and_nothing_changed():
    with pytest.raises(NotFoundError) as caught:
        _exchange(Scripted(_line(ok=False, missing=["ghost1", "ghost2"]))).run()
    assert caught.value.exit_code == ExitCode.NOT_FOUND
    assert caught.value.message == "no such user(s) on the controller: ghost1, ghost2; nothing was changed"


def test_a_remote_failure_names_the_exit_status_and_last_error_line():
    failed = Scripted(status=1, stderr=b"Error response from daemon:\ncontainer deis-controller is not running\n")
    with pytest.raises(DeisctlError) as caught:
        _exchange(failed).run()
    assert type(caught.value) is DeisctlError and caught.value.exit_code == ExitCode.FAILED
    assert caught.value.message == ("ssh node: remote command failed (exit 1): "
                                    "container deis-controller is not running")


def test_no_result_line_or_an_unreadable_one():
    with pytest.raises(DeisctlError, match="the controller script gave no result: Traceback tail"):
        _exchange(Scripted(b"something\n", stderr=b"Traceback tail\n")).run()
    with pytest.raises(DeisctlError, match=r"gave no result: \(no output\)"):
        _exchange(Scripted()).run()
    with pytest.raises(DeisctlError, match="unreadable result"):
        _exchange(Scripted(f"{controller.MARKER}{{not json\n".encode())).run()
    with pytest.raises(DeisctlError, match="unexpected result"):
        _exchange(Scripted(_line(ok=False))).run()


def test_the_last_administrator_is_a_usage_error_with_the_way_past_it():
    with pytest.raises(UsageError) as caught:
        _exchange(Scripted(_line(ok=False, refused=controller.words.LAST_ADMIN, users=["bob", "carol"]))).run()
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.render() == ("error: demoting bob, carol would leave the controller without an active "
                                     "administrator; nothing was changed (pass --force to demote anyway)")
