"""Shell completion through Click's protocol, with the installed executable: commands, components,
the known keys of each component, and the completion scripts."""

from __future__ import annotations

import os
import subprocess

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
