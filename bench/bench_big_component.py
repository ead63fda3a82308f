"""A component of 100,000 keys (~68 MiB, more than one gRPC message) read by deisctl in pages,
side by side with `etcdctl get --prefix` of the same keys: whole-process wall time and peak
memory (the process's own max RSS), against a throwaway etcd.

    python3 bench/bench_big_component.py [--keys 100000] [--value-bytes 700] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.rig.cli import deisctl_command  # noqa: E402
from tests.rig.etcd import ETCDCTL, EtcdCluster  # noqa: E402


def run(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one whole process; its output thrown away."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # diff exits 1 when different
        raise SystemExit(f"{cmd[0]} failed: {proc.stderr.read().decode()[-500:]}")
    return elapsed, usage.ru_maxrss / 1024


def fill(etcd, keys: int, size: int) -> None:
    import etcd3

    client = etcd3.client(host="127.0.0.1", port=etcd.members[0].client_port, timeout=60)
    try:
        for start in range(0, keys, 100):
            client.transaction(compare=[], success=[
                client.transactions.put(f"/deis/big/k{i:06d}", f"{i:06d}" + "v" * (size - 6))
                for i in range(start, min(start + 100, keys))], failure=[])
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--value-bytes", type=int, default=700)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    with EtcdCluster(1, name="bench-big") as etcd, tempfile.TemporaryDirectory() as tmp:
        fill(etcd, args.keys, args.value_bytes)
        doc = str(Path(tmp) / "big.yaml")
        base = deisctl_command() + ["--endpoints", etcd.endpoints, "--command-timeout", "60"]
        subprocess.run(base + ["config", "export", "big", "-f", doc], check=True, capture_output=True, env=env)
        commands = {
            "deisctl config big get -o json": base + ["-o", "json", "config", "big", "get"],
            "deisctl config export big": base + ["config", "export", "big"],
            "deisctl config diff -f (the export)": base + ["config", "diff", "-f", doc],
            "etcdctl get --prefix -w json (reference)": [ETCDCTL, "--endpoints", etcd.endpoints,
                                                          "--command-timeout", "60s", "get", "--prefix",
                                                          "/deis/big/", "-w", "json"],
        }
        figures = {label: [run(cmd, env) for _ in range(args.runs)] for label, cmd in commands.items()}
    size = args.keys * args.value_bytes / 1024 / 1024
    print(f"{args.keys} keys of {args.value_bytes} bytes (~{size:.0f} MiB of values), median of {args.runs} runs:")
    for label, runs in figures.items():
        wall = statistics.median(r[0] for r in runs)
        peak = statistics.median(r[1] for r in runs)
        print(f"  {label:<42} {wall:7.2f} s   peak {peak:7.0f} MiB")


if __name__ == "__main__":
    main()
