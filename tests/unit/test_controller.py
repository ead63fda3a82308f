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
    source.decode("ascii")
    tree = ast.parse(source)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            imported.add(node.module.split(".")[0])
    assert imported == {"builtins", "os", "sys", "base64", "json", "django", "rest_framework"}
    # What the reply parser and the interactive check on this side rely on.
    assert f'"{controller.MARKER}"'.encode() in source
    assert f"os._exit({controller.INTERACTIVE_EXIT})".encode() in source


def test_the_interactive_guard_comes_before_any_compound_statement():
    """A console that went interactive runs the lines one by one: the guard must be a simple statement."""
    body = ast.parse(controller.script_source()).body
    guard = next(i for i, node in enumerate(body) if "os._exit" in ast.unparse(node))
    assert all(isinstance(node, (ast.Import, ast.Expr)) for node in body[:guard + 1])
    assert body[guard].lineno == body[guard].end_lineno
    assert all(isinstance(node, ast.FunctionDef) for node in body[guard + 1:])


def _run_source(prelude: str, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=60)


def test_guard_exits_97_in_an_interactive_console_and_only_there():
    run_it = "exec(deisctl.controller.script_source(), {'__name__': 'shell'})\nprint('ran')\n"
    prelude = "import sys, deisctl.controller\n"
    assert _run_source(prelude, run_it).stdout == "ran\n"
    interactive = _run_source(prelude + "sys.ps1 = '>>> '\n", run_it)
    assert (interactive.returncode, interactive.stdout) == (controller.INTERACTIVE_EXIT, "")
    ipython = _run_source(prelude + "import builtins\nbuiltins.__IPYTHON__ = True\n", run_it)
    assert ipython.returncode == controller.INTERACTIVE_EXIT
    # Imported as a module (a REPL, a linter, a test), it never exits.
    imported = _run_source(prelude + "sys.ps1 = '>>> '\n", "import deisctl.controller.script\nprint('alive')\n")
    assert (imported.returncode, imported.stdout) == (0, "alive\n"), imported.stderr


# -- the remote command --------------------------------------------------------------------------


def test_shell_command_docker_uses_the_images_workdir_unless_told():
    assert controller.shell_command("docker", controller.DEFAULT_CONTAINER, None, controller.DEFAULT_PYTHON) == \
        ["docker", "exec", "-i", "deis-controller", "python", "manage.py", "shell", "-v", "0"]
    assert controller.shell_command("podman", "ctl", "/srv/app", "python3") == \
        ["podman", "exec", "-i", "-w", "/srv/app", "ctl", "python3", "manage.py", "shell", "-v", "0"]


def test_shell_command_none_passes_paths_as_positional_parameters():
    assert controller.shell_command("none", "ignored", None, "python") == \
        ["sh", "-c", 'cd "$1" && shift && exec "$@"', "deisctl", controller.DEFAULT_APP_DIR,
         "python", "manage.py", "shell", "-v", "0"]
    odd = "/srv/my app; rm -rf /"
    argv = controller.shell_command("none", "x", odd, "/opt/py $(x)/python")
    assert argv[2] == 'cd "$1" && shift && exec "$@"' and argv[4] == odd and argv[5] == "/opt/py $(x)/python"


def test_runtimes_and_defaults():
    assert controller.RUNTIMES == ("docker", "podman", "none")
    assert (controller.DEFAULT_CONTAINER, controller.DEFAULT_PYTHON, controller.DEFAULT_APP_DIR) == \
        ("deis-controller", "python", "/app")


# -- the reply -----------------------------------------------------------------------------------


def Reply(status: int, stdout: bytes = b"", stderr: bytes = b"") -> Completed:
    """What the SSH layer hands back to parse_reply."""
    return Completed(status, stdout, stderr)


def _result(**reply) -> bytes:
    return f"\n{controller.MARKER}{json.dumps(reply)}\n".encode()


def test_parse_reply_takes_the_result_line_among_other_output():
    rows = [{"user": "bob", "result": "revoked", "changed": True}]
    noise = b"Warning: something Django printed\n>>> \n"
    reply = controller.parse_reply(Reply(0, noise + _result(ok=True, users=rows) + b"bye\n"), "ssh node")
    assert reply == {"ok": True, "users": rows}
    two = _result(ok=True, users=[]) + _result(ok=True, users=rows)
    assert controller.parse_reply(Reply(0, two), "ssh node")["users"] == rows  # the last one counts


def test_parse_reply_missing_users_is_not_found_and_nothing_changed():
    with pytest.raises(NotFoundError) as caught:
        controller.parse_reply(Reply(0, _result(ok=False, missing=["ghost1", "ghost2"])), "ssh node")
    assert caught.value.exit_code == ExitCode.NOT_FOUND
    assert caught.value.message == "no such user(s) on the controller: ghost1, ghost2; nothing was changed"


def test_parse_reply_remote_failure_names_the_exit_status_and_last_error_line():
    failed = Reply(1, b"", b"Error response from daemon:\ncontainer deis-controller is not running\n")
    with pytest.raises(DeisctlError) as caught:
        controller.parse_reply(failed, "ssh root@node:22")
    assert type(caught.value) is DeisctlError and caught.value.exit_code == ExitCode.FAILED
    assert caught.value.message == ("ssh root@node:22: remote command failed (exit 1): "
                                    "container deis-controller is not running")


def test_parse_reply_without_a_result_line():
    with pytest.raises(DeisctlError, match="the controller script gave no result: Traceback tail"):
        controller.parse_reply(Reply(0, b"something\n", b"Traceback tail\n"), "n")
    with pytest.raises(DeisctlError, match=r"gave no result: \(no output\)"):
        controller.parse_reply(Reply(0), "n")
    with pytest.raises(DeisctlError, match="unreadable result"):
        controller.parse_reply(Reply(0, f"{controller.MARKER}{{not json\n".encode()), "n")


def test_parse_reply_interactive_shell():
    with pytest.raises(DeisctlError) as caught:
        controller.parse_reply(Reply(controller.INTERACTIVE_EXIT, b"Python 3 ... >>> "), "ssh node")
    assert caught.value.exit_code == ExitCode.FAILED
    assert caught.value.render() == ("error: ssh node: Django's shell started before the script arrived and went "
                                     "interactive; nothing was run (rerun the command)")


def test_parse_reply_last_administrator_is_a_usage_error_with_the_way_past_it():
    with pytest.raises(UsageError) as caught:
        controller.parse_reply(Reply(0, _result(ok=False, refused=controller.LAST_ADMIN, users=["bob", "carol"])), "n")
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.render() == ("error: demoting bob, carol would leave the controller without an active "
                                     "administrator; nothing was changed (pass --force to demote anyway)")


def test_the_demote_request_carries_force_only_as_data():
    program = controller.program({"action": "demote", "users": ["bob"], "dry_run": False, "force": True})
    literal = _call_argument(program)
    assert json.loads(base64.b64decode(literal)) == {"action": "demote", "users": ["bob"], "dry_run": False,
                                                     "force": True}
