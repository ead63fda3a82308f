"""Time a large reply from a node: `deisctl users list` whose controller answers with one reply
line of 1, 16 and 64 MB (the size of a `users list` or a `backup --controller` dump of a large
controller), beside a bare OpenSSH `ssh NODE CMD > /dev/null` moving the same bytes.

The node is an sshd on 127.0.0.1 (tests/rig/sshd.py); its "controller" is a script standing in for
the Python deisctl starts (`--runtime none --python SCRIPT`) that prints the reply line, so the
figures are the transport's and the reply reader's, not Django's.

    python3 bench/bench_node_reply.py [--runs N]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deisctl.controller import MARKER  # noqa: E402
from tests.rig.sshd import SSHServer  # noqa: E402

SIZES_MB = (1, 16, 64)


def deisctl() -> list[str]:
    exe = shutil.which("deisctl")
    return [exe] if exe else [sys.executable, "-m", "deisctl"]


def timed(cmd: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env["DEISCTL_AUDIT"] = "off"  # no etcd here: the figures are the node path's
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                          timeout=900)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]}... exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed


def reply_of(megabytes: int) -> bytes:
    """One `users list` reply line of about that many megabytes."""
    user = {"username": "", "admin": False, "staff": False, "has_token": True, "date_joined": "2026-12-06T10:00:00"}
    per_user = len(json.dumps(user)) + 14
    users = [dict(user, username=f"user-{i:08d}") for i in range(megabytes * 1_000_000 // per_user)]
    return (MARKER + json.dumps({"ok": True, "users": users}) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-node-reply-"))
    medians = {}
    try:
        with SSHServer() as sshd:
            login = ["-p", str(sshd.port), "-i", sshd.client_key, "-o", f"UserKnownHostsFile={sshd.known_hosts}",
                     "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", f"{sshd.user}@{sshd.host}"]
            node = ["--host", sshd.host, "--ssh-port", str(sshd.port), "--ssh-user", sshd.user, "--ssh-key",
                    sshd.client_key, "--known-hosts", sshd.known_hosts, "--runtime", "none", "--app-dir", str(work)]
            for size in SIZES_MB:
                (work / f"reply-{size}").write_bytes(reply_of(size))
                script = work / f"controller-{size}"  # reads the request, answers with the reply line
                script.write_text(f"#!/bin/sh\nexec cat {work}/reply-{size}\n")
                script.chmod(0o755)
                commands = {"deisctl": [*deisctl(), "users", *node, "--python", str(script), "list", "-o", "json"],
                            "openssh": ["ssh", *login, str(script)]}
                for tool, cmd in commands.items():
                    timed(cmd)  # warm-up
                    medians[(tool, size)] = statistics.median(timed(cmd) for _ in range(args.runs))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"median of {args.runs} runs: one reply line from the node")
    print(f"{'size':>8}{'deisctl users list':>22}{'ssh NODE CMD > /dev/null':>28}{'ratio':>8}")
    for size in SIZES_MB:
        ours, bare = medians[("deisctl", size)], medians[("openssh", size)]
        print(f"{size:>5} MB{ours:>21.3f}s{bare:>27.3f}s{ours / bare:>7.2f}x")


if __name__ == "__main__":
    main()
