"""Time `deisctl users revoke-token` for 1 user and for 100 users in one run, against a
bare OpenSSH `ssh ... docker exec -i deis-controller python -c BOOTSTRAP < script` running the
very same command and script (its commit line sent along at once), on each generation of
controller: today's Django (sqlite) and the one Deis v1 shipped (Python 2.7, Django 1.6,
PostgreSQL).

Self-contained: starts the test rig (private dockerd, the `deis-controller` container,
an sshd on 127.0.0.1; see tests/rig/README.md), prints medians side by side, stops it all.

    python3 bench/bench_revoke.py [--runs N] [--controller django5|deis-v1|both]
"""
from __future__ import annotations

import argparse
import contextlib
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
from tests.rig.docker_engine import ControllerContainer, DeisV1Controller, DockerEngine  # noqa: E402
from tests.rig.sshd import SSHServer  # noqa: E402


def deisctl() -> list[str]:
    exe = shutil.which("deisctl")
    return [exe] if exe else [sys.executable, "-m", "deisctl"]


def timed(cmd: list[str], stdin: bytes | None = None) -> tuple[float, subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env["DEISCTL_AUDIT"] = "off"  # no etcd here: the figures are the node path's (tests cover the record)
    started = time.perf_counter()
    proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env, timeout=300,
                          **({} if stdin is not None else {"stdin": subprocess.DEVNULL}))
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]}... exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed, proc


@contextlib.contextmanager
def rig(generation: str):
    """(controller, sshd) of one generation, started and stopped around the block."""
    with contextlib.ExitStack() as stack:
        engine = stack.enter_context(DockerEngine())
        if generation == DeisV1Controller.generation:
            from tests.rig.postgres import PostgresServer

            ctl = stack.enter_context(DeisV1Controller(engine, stack.enter_context(PostgresServer())))
        else:
            ctl = stack.enter_context(ControllerContainer(engine))
        yield ctl, stack.enter_context(SSHServer(env={"DOCKER_HOST": engine.host}))


def measure(generation: str, runs: int) -> dict:
    """{(tool, users): [seconds]} on one generation's controller."""
    users = {1: ["bench-one"], 100: [f"bench-{i:03d}" for i in range(100)]}
    results: dict[tuple[str, int], list[float]] = {}
    with rig(generation) as (ctl, sshd):
        node = ["--host", sshd.host, "--ssh-port", str(sshd.port), "--ssh-user", sshd.user,
                "--ssh-key", sshd.client_key, "--known-hosts", sshd.known_hosts]
        # OpenSSH joins its arguments with spaces: the remote command is quoted once, as deisctl does.
        bare_cmd = [*sshd.ssh_args(), shlex.join(controller.remote_command("docker", controller.DEFAULT_CONTAINER,
                                                                          None, controller.DEFAULT_PYTHON))]
        timed([*deisctl(), "--version"])  # warm the page cache before measuring
        for _ in range(runs):
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
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median reported)")
    parser.add_argument("--controller", choices=["django5", "deis-v1", "both"], default="both")
    args = parser.parse_args()
    generations = ["django5", "deis-v1"] if args.controller == "both" else [args.controller]
    for generation in generations:
        report(generation, measure(generation, args.runs), args.runs)


def report(generation: str, results: dict, runs: int) -> None:
    med = {key: statistics.median(values) for key, values in results.items()}
    label_of = {"django5": "today's Django", "deis-v1": "Deis v1: Python 2.7, Django 1.6, PostgreSQL"}
    print(f"\n[{generation}] {label_of[generation]}")
    print(f"revoke-token, median of {runs} runs (seconds, wall clock, process start to exit)")
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
