"""`deisctl backup` of 100,000 keys beside `etcdctl get --prefix -w json > file` and `etcdctl
snapshot save` (whole-process wall time and peak memory), and `deisctl restore` of the archive
into an empty cluster beside the floor of writing the same keys in batched transactions with the
bare library. Against throwaway etcds.

Goals: backup <= 1.5x the JSON dump, its memory bounded by a page (not by the keyspace); restore
<= 2x the floor.

    python3 bench/bench_backup.py [--keys 100000] [--value-bytes 700] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.bench_big_component import fill, run  # noqa: E402
from tests.rig.cli import deisctl_command  # noqa: E402
from tests.rig.etcd import ETCDCTL, EtcdCluster  # noqa: E402


def floor(etcd, keys: int, size: int) -> float:
    """The bare library writing the same keys in transactions of 100 (what a restore must do)."""
    etcd.wipe()
    started = time.perf_counter()
    fill(etcd, keys, size)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--value-bytes", type=int, default=700)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env["DEISCTL_AUDIT"] = "off"
    figures: dict = {}
    with EtcdCluster(1, name="bench-backup") as etcd, EtcdCluster(1, name="bench-restore") as empty, \
            tempfile.TemporaryDirectory() as tmp:
        fill(etcd, args.keys, args.value_bytes)
        archive, dump, snap = (str(Path(tmp) / name) for name in ("deis.zip", "dump.json", "snap.db"))
        base = deisctl_command() + ["--endpoints", etcd.endpoints, "--command-timeout", "60"]

        def to_file(cmd: list, path: str):
            return ["sh", "-c", 'out=$1; shift; exec "$@" > "$out"', "sh", path, *cmd]

        commands = {
            "deisctl backup -f FILE": base + ["backup", "-f", archive],
            "etcdctl get --prefix -w json > FILE": to_file([ETCDCTL, "--endpoints", etcd.endpoints,
                                                            "--command-timeout", "60s", "get", "--prefix", "/deis/",
                                                            "-w", "json"], dump),
            "etcdctl snapshot save FILE": [ETCDCTL, "--endpoints", etcd.endpoints, "snapshot", "save", snap],
        }
        for label, cmd in commands.items():
            figures[label] = [run(cmd, env) for _ in range(args.runs)]
        sizes = {label: os.path.getsize(path) for label, path in
                 (("deisctl backup -f FILE", archive), ("etcdctl get --prefix -w json > FILE", dump),
                  ("etcdctl snapshot save FILE", snap))}
        restores = []
        for _ in range(args.runs):
            empty.wipe()
            restores.append(run(deisctl_command() + ["--endpoints", empty.endpoints, "--command-timeout", "60",
                                                     "restore", archive, "--yes"], env))
        floors = [floor(empty, args.keys, args.value_bytes) for _ in range(args.runs)]
    print(f"{args.keys} keys of {args.value_bytes} bytes, median of {args.runs} runs (wall s, peak MiB, file MiB):")
    for label, runs in figures.items():
        print(f"  {label:<38} {statistics.median(r[0] for r in runs):7.2f} s  peak "
              f"{statistics.median(r[1] for r in runs):6.0f} MiB  file {sizes[label] / 2**20:6.1f} MiB")
    backup, dump_time = (statistics.median(r[0] for r in figures[label]) for label in
                         ("deisctl backup -f FILE", "etcdctl get --prefix -w json > FILE"))
    print(f"backup / JSON dump: {backup / dump_time:.2f}x (goal <= 1.5x)")
    restore, bare = statistics.median(r[0] for r in restores), statistics.median(floors)
    print(f"  deisctl restore FILE --yes (empty cluster)  {restore:7.2f} s  peak "
          f"{statistics.median(r[1] for r in restores):6.0f} MiB")
    print(f"  bare library, transactions of 100         {bare:7.2f} s")
    print(f"restore / floor: {restore / bare:.2f}x (goal <= 2x)")


if __name__ == "__main__":
    main()
