"""Click's usage errors in deisctl's words, the command table and the completion protocol's
arguments: the real command tree, in-process, no servers."""

from __future__ import annotations

import io

import pytest

from deisctl import commands, keys
from deisctl.cli.app import run
from deisctl.cli.completion import completion_args, split_words


def cli(*argv: str, env: dict | None = None):
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(list(argv), stdin=io.StringIO(), stdout=stdout, stderr=stderr, env=env or {})
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize("argv, line", [
    (["--zzzzzz"], "error: no such option: --zzzzzz (see 'deisctl --help')"),
    (["config", "controller", "get", "--endpoints", "x"],
     "error: no such option: --endpoints (--endpoints is a global option: put it before the command, as in "
     "'deisctl --endpoints ... config controller get ...')"),
    (["config", "controller", "set"], "error: missing argument KEY=VALUE... (see 'deisctl config controller set --help')"),
    (["--endpoints"], "error: option --endpoints needs a value (see 'deisctl --help')"),
    (["config", "controller", "frobnicate"],
     "error: unknown command 'frobnicate' (see 'deisctl config controller --help')"),
])
def test_usage_errors_in_deisctls_words(argv, line):
    assert cli(*argv) == (2, "", line + "\n")


def test_help_and_version_go_to_the_given_stdout():
    code, out, err = cli("config", "--help")
    assert code == 0 and out.startswith("Usage: deisctl config") and err == ""
    assert cli("config")[1] == out  # a bare group prints its help
    code, out, err = cli("--version")
    assert (code, err) == (0, "") and out.startswith("deisctl ")


def test_the_command_tree_is_the_command_table():
    """Every name in deisctl.commands resolves to a Click command of that name; keys reserves the
    config commands as component names."""
    import importlib

    for table in (commands.ROOT, commands.CONFIG, commands.COMPONENT):
        for name, target in table.items():
            module, _, attribute = target.rpartition(".")
            assert getattr(importlib.import_module(module), attribute).name == name
    assert keys.RESERVED_COMPONENTS == tuple(commands.CONFIG)
    code, out, _ = cli("config", "controller", "--help")
    assert code == 0 and all(verb in out for verb in commands.COMPONENT)


def test_help_shows_the_defaults_kept_as_constants():
    from deisctl import controller
    from deisctl.settings import DEFAULT_DIAL_TIMEOUT
    from deisctl.ssh.options import DEFAULT_SSH_USER

    assert f"default: {DEFAULT_DIAL_TIMEOUT:g}]" in cli("--help")[1]
    users_help = cli("users", "--help")[1]
    assert f"[default: {DEFAULT_SSH_USER}]" in users_help
    assert f"[default: {controller.DEFAULT_REMOTE_TIMEOUT:g} for" in " ".join(users_help.split())


def test_completion_words_from_the_given_environment():
    assert split_words("deisctl config 'con") == ["deisctl", "config", "con"]
    assert completion_args("bash", {"COMP_WORDS": "deisctl config con", "COMP_CWORD": "2"}) == (["config"], "con")
    assert completion_args("fish", {"COMP_WORDS": "deisctl config con", "COMP_CWORD": "con"}) == (["config"], "con")
    code, out, _ = cli(env={"_DEISCTL_COMPLETE": "bash_complete", "COMP_WORDS": "deisctl config con",
                            "COMP_CWORD": "2"})
    assert (code, out) == (0, "plain,controller\n")
