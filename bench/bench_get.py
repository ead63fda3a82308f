"""Whole-process time of one `config get`, side by side with etcdctl and a bare
python-etcd3 one-liner (the client library's floor), against a throwaway etcd.

    python3 bench/bench_get.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.rig.cli import deisctl_command  # noqa: E402
from tests.rig.etcd import ETCDCTL, EtcdCluster  # noqa: E402

KEY = "/deis/controller/registrationEnabled"


def run_once(cmd: list[str], expect: str, env: dict) -> float:
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if out.returncode != 0 or out.stdout.strip() != expect:
        raise SystemExit(f"unexpected result from {cmd[0]}: rc={out.returncode} {out.stdout!r} {out.stderr!r}")
    return elapsed


def medians(commands: dict[str, list[str]], runs: int, expect: str) -> dict[str, float]:
    """Interleave the commands round by round so that load drift hits all alike."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    times: dict[str, list[float]] = {label: [] for label in commands}
    for round_no in range(runs + 1):
        for label, cmd in commands.items():
            elapsed = run_once(cmd, expect, env)
            if round_no:  # round 0 warms the page cache
                times[label].append(elapsed)
    return {label: statistics.median(values) for label, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    # pip byte-compiles an installed package; an editable checkout under
    # PYTHONDONTWRITEBYTECODE=1 would otherwise recompile deisctl on every run.
    import compileall

    import deisctl

    compileall.compile_dir(str(Path(deisctl.__file__).parent), quiet=1)
    with EtcdCluster(1, name="bench") as etcd:
        etcd.write(KEY, "0")
        port = etcd.members[0].client_port
        one_liner = (
            "import etcd3; c = etcd3.client('127.0.0.1', %d, timeout=5); "
            "print(c.get('%s')[0].decode())" % (port, KEY)
        )
        rows = [
            ("deisctl config controller get registrationEnabled",
             deisctl_command() + ["--endpoints", etcd.endpoints, "config", "controller", "get", "registrationEnabled"]),
            ("etcdctl get (Go, reference)",
             [ETCDCTL, "--endpoints", etcd.endpoints, "get", KEY, "--print-value-only"]),
            ("python -c 'import etcd3; ...get...' (floor)", [sys.executable, "-c", one_liner]),
        ]
        results = medians(dict(rows), args.runs, "0")
    floor = results[rows[2][0]]
    print(f"median whole-process time over {args.runs} runs (etcd {etcd.endpoints}):")
    for label, seconds in results.items():
        print(f"  {label:<52} {seconds * 1000:7.1f} ms  {seconds / floor:5.2f}x floor")
    ratio = results[rows[0][0]] / floor
    print(f"deisctl / python-etcd3 floor = {ratio:.2f}x (target <= 1.20x): {'OK' if ratio <= 1.2 else 'MISSED'}")


if __name__ == "__main__":
    main()
