"""Time `deisctl users revoke-token` for 1 user and for 100 users in one run, against a
bare OpenSSH `ssh ... docker exec -i deis-controller python manage.py shell -v 0 -c ... < script`
running the very same command and script (its commit line sent along at once).

Self-contained: starts the test rig (private dockerd, the `deis-controller` container,
an sshd on 127.0.0.1; see tests/rig/README.md), prints medians side by side, stops it all.

    python3 bench/bench_revoke.py [--runs N]
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deisctl import controller  # noqa: E402
from tests.rig.docker_engine import ControllerContainer, DockerEngine  # noqa: E402
from tests.rig.sshd import SSHServer  # noqa: E402


def deisctl() -> list[str]:
    exe = shutil.which("deisctl")
    return [exe] if exe else [sys.executable, "-m", "deisctl"]


def timed(cmd: list[str], stdin: bytes | None = None) -> tuple[float, subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    started = time.perf_counter()
    proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env, timeout=300,
                          **({} if stdin is not None else {"stdin": subprocess.DEVNULL}))
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]}... exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median reported)")
    args = parser.parse_args()

    users = {1: ["bench-one"], 100: [f"bench-{i:03d}" for i in range(100)]}
    with DockerEngine() as engine, ControllerContainer(engine) as ctl, \
            SSHServer(env={"DOCKER_HOST": engine.host}) as sshd:
        node = ["--host", sshd.host, "--ssh-port", str(sshd.port), "--ssh-user", sshd.user,
                "--ssh-key", sshd.client_key, "--known-hosts", sshd.known_hosts]
        # OpenSSH joins its arguments with spaces: the remote command is quoted once, as deisctl does.
        bare_cmd = [*sshd.ssh_args(), shlex.join(controller.shell_command("docker", controller.DEFAULT_CONTAINER,
                                                                          None, controller.DEFAULT_PYTHON))]
        results: dict[tuple[str, int], list[float]] = {}
        timed([*deisctl(), "--version"])  # warm the page cache before measuring
        for _ in range(args.runs):
            for n, names in users.items():
                ctl.seed(*names)  # fresh tokens, so every run really deletes n of them
                elapsed, proc = timed([*deisctl(), "users", *node, "revoke-token", *names])
                assert proc.stdout.decode().count("token revoked") == n, proc.stdout
                results.setdefault(("deisctl", n), []).append(elapsed)

                ctl.seed(*names)
                # The same command and script, its commit line sent along (no waiting for "prepared").
                script = controller.framed({"action": "revoke-token", "users": names, "dry_run": False,
                                            "commit_within": 10}) + controller.COMMIT_ORDER
                elapsed, proc = timed(bare_cmd, stdin=script)
                assert proc.stdout.decode().count('"revoked"') == n, proc.stdout
                results.setdefault(("bare ssh", n), []).append(elapsed)

    med = {key: statistics.median(values) for key, values in results.items()}
    print(f"revoke-token, median of {args.runs} runs (seconds, wall clock, process start to exit)")
    print(f"{'':28}{'1 user':>10}{'100 users':>12}{'100/1':>8}")
    for tool in ("deisctl", "bare ssh"):
        one, hundred = med[(tool, 1)], med[(tool, 100)]
        label = "deisctl users revoke-token" if tool == "deisctl" else "ssh + docker exec (OpenSSH)"
        print(f"{label:28}{one:>10.3f}{hundred:>12.3f}{hundred / one:>8.2f}x")
    for n in (1, 100):
        extra = med[("deisctl", n)] - med[("bare ssh", n)]
        print(f"deisctl overhead vs bare ssh, {n:>3} user(s): {extra * 1000:+.0f} ms "
              f"({med[('deisctl', n)] / med[('bare ssh', n)]:.2f}x)")
    ratio = med[("deisctl", 100)] / med[("deisctl", 1)]
    print(f"target 100 users <= 1.5x one user: {'met' if ratio <= 1.5 else 'NOT met'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
