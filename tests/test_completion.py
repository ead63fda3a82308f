"""Shell completion through Click's protocol, with the installed executable: commands, components,
the known keys of each component, and the completion scripts."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.rig.cli import deisctl_command


def complete(words: str) -> list[str]:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(_DEISCTL_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword))
    proc = subprocess.run(deisctl_command(), capture_output=True, text=True, env=env, timeout=30)
    assert proc.returncode == 0, proc.stderr
    # bash gets one `type,value` line per candidate
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines() if line]


def test_completion_of_components_and_keys():
    assert {"export", "apply", "diff", "controller", "platform", "router"} <= set(complete("deisctl config "))
    assert complete("deisctl config con") == ["controller"]
    assert {"set", "get", "rm", "history", "rollback", "watch"} <= set(complete("deisctl config controller "))
    assert complete("deisctl config controller get registration") == ["registrationEnabled", "registrationMode"]
    assert complete("deisctl config controller set work") == ["workers="]
    assert complete("deisctl config router history ssl") == ["sslCert", "sslKey", "sslDhparam"]
    assert complete("deisctl config export pla") == ["platform"]
    assert "--install-completion" in subprocess.run(deisctl_command() + ["--help"], capture_output=True,
                                                    text=True).stdout
    script = subprocess.run(deisctl_command() + ["--show-completion", "bash"], capture_output=True, text=True)
    assert script.returncode == 0 and "_DEISCTL_COMPLETE=bash_complete" in script.stdout


def complete_line(line: str) -> list[str]:
    """deisctl's bash script's request: the line up to the cursor (COMP_LINE), cut as bash cuts it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(_DEISCTL_COMPLETE="bash_complete", COMP_LINE=line, COMP_WORDBREAKS=" \t\n\"'><=;|&(:")
    proc = subprocess.run(deisctl_command(), capture_output=True, text=True, env=env, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines() if line]


def test_completion_after_urls_and_of_the_values_the_schema_knows():
    url = "http://127.0.0.1:2379"
    assert complete_line(f"deisctl --endpoints {url} config contr") == ["controller"]
    assert complete_line(f"deisctl --endpoints={url} --tunnel core@h:22 config controller get registrationM") \
        == ["registrationMode"]
    # bash replaces the text after the last ':' or '=', so that is what comes back
    assert complete_line("deisctl config controller set registrationMode=ad") == ["admin_only"]
    assert complete_line("deisctl config controller set registrationMode=") == ["enabled", "disabled", "admin_only"]
    assert complete_line("deisctl config controller set registrationEnabled=") == ["0", "1", "True", "False"]
    assert complete_line("deisctl config router set enforceHTTPS=t") == ["true"]
    assert complete_line("deisctl config controller set webEnabled=x") == []  # no fixed list: nothing made up
    assert complete_line("deisctl -o ") == ["text", "json", "yaml"]
    assert complete_line("deisctl config controller get -o y") == ["yaml"]
    assert complete_line("deisctl users --runtime p") == ["podman"]
    assert complete_line("deisctl check --strict-host-key-checking a") == ["accept-new"]
    # Click's own request (COMP_WORDS, as zsh sends it) still works
    assert complete("deisctl config controller set registrationMode=dis") == ["registrationMode=disabled"]


def test_completion_in_a_real_interactive_bash(tmp_path):
    from tests.rig.shell import InteractiveBash

    command = deisctl_command()
    if len(command) != 1 or not shutil.which("bash"):
        pytest.skip("needs the deisctl console script and bash")
    config = tmp_path / "config.yaml"
    config.write_text("contexts:\n  staging:\n    endpoints: http://127.0.0.1:1\n  prod:\n"
                      "    endpoints: http://127.0.0.1:2\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(HOME=str(tmp_path), DEISCTL_CONFIG=str(config))
    with InteractiveBash(os.path.dirname(command[0]), env) as bash:
        url = "http://127.0.0.1:2379"
        assert bash.line_after(f"deisctl --endpoints {url} config contr\t") \
            == f"deisctl --endpoints {url} config controller"
        assert bash.line_after(f"deisctl --endpoints={url} config controller set registrationMode=ad\t") \
            == f"deisctl --endpoints={url} config controller set registrationMode=admin_only"
        # a completed KEY= takes no space after it: the value is typed right on
        assert bash.line_after("deisctl config controller set work\t4") == "deisctl config controller set workers=4"
        assert bash.line_after("deisctl -o j\t") == "deisctl -o json"
        assert bash.line_after("deisctl --context st\t") == "deisctl --context staging"
        line, shown = bash.type("deisctl config controller set registrationMode=\t\t")
        assert line == "deisctl config controller set registrationMode="
        assert {"enabled", "disabled", "admin_only"} <= set(shown.split()), shown


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_completion_in_a_real_interactive_zsh_and_fish(tmp_path, shell):
    """Click's own completion scripts for zsh and fish (`deisctl --show-completion SHELL`), loaded
    in the real shell on a terminal and driven TAB by TAB: components, keys, the values the schema
    knows (these shells do not split words at `=` or `:`), -o, contexts, after an option's value."""
    from tests.rig.shell import InteractiveShell

    command = deisctl_command()
    if len(command) != 1 or not shutil.which(shell):
        pytest.skip(f"needs the deisctl console script and {shell} (Debian package {shell})")
    config = tmp_path / "config.yaml"
    config.write_text("contexts:\n  staging:\n    endpoints: http://127.0.0.1:1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env.update(DEISCTL_CONFIG=str(config))
    url = "http://127.0.0.1:2379"
    with InteractiveShell(shell, os.path.dirname(command[0]), env, str(tmp_path)) as terminal:
        for typed, shown in (("deisctl us\t", "deisctl users"),
                             ("deisctl config contr\t", "deisctl config controller"),
                             (f"deisctl --endpoints {url} config contr\t", f"deisctl --endpoints {url} config controller"),
                             ("deisctl config controller get registrationM\t",
                              "deisctl config controller get registrationMode"),
                             ("deisctl config controller set registrationMode=ad\t",
                              "deisctl config controller set registrationMode=admin_only"),
                             ("deisctl -o j\t", "deisctl -o json"),
                             ("deisctl --context st\t", "deisctl --context staging")):
            assert terminal.line_after(typed) == shown, typed
