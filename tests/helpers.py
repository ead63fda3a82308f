"""Helpers shared by the test modules (fixtures are in tests/conftest.py and tests/plugins/remote_rig.py)."""
from __future__ import annotations

import subprocess
import time
import uuid


def assert_error(outcome, code: int, *fragments: str):
    """One `error: ...` line on stderr, no traceback, the exit code, and each fragment in that line."""
    assert outcome.exit_code == code, (outcome.exit_code, outcome.stdout, outcome.stderr)
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), outcome.stderr
    assert "Traceback" not in outcome.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def new_users(n: int, tag: str = "u") -> list[str]:
    """Unique usernames: the controller container is shared by the whole session."""
    return [f"{tag}{uuid.uuid4().hex[:10]}" for _ in range(n)]


def node_flags(sshd, *, known_hosts: str | None = None, key: str | None = None, port: int | None = None) -> list:
    """Options that reach the rig's node (this machine's sshd, whose sessions see the private dockerd)."""
    return ["--host", sshd.host, "--ssh-port", str(port or sshd.port), "--ssh-user", sshd.user,
            "--ssh-key", key or sshd.client_key, "--known-hosts", known_hosts or sshd.known_hosts]


def ssh_connections(sshd) -> int:
    """Connections sshd has accepted so far (it logs each at LogLevel VERBOSE)."""
    return sshd.log_path.read_text(errors="replace").count("Connection from")


class ExecCounter:
    """`docker exec` processes started in the controller since construction, from the engine's own events."""

    def __init__(self, engine, container: str = "deis-controller"):
        self.engine, self.container = engine, container
        self.since = f"{time.time() - 0.05:.3f}"

    def commands(self) -> list[str]:
        until = f"{time.time() + 0.5:.3f}"
        out = self.engine.docker("events", "--since", self.since, "--until", until, "--filter", "type=container",
                                 "--filter", f"container={self.container}", "--filter", "event=exec_create",
                                 "--format", "{{.Action}}").stdout
        return [line.split(": ", 1)[-1] for line in out.splitlines() if line.strip()]


def keygen(path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)
    return str(path)
