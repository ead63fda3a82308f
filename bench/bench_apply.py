"""`deisctl config apply` of 10,000 keys, side by side with an `etcdctl put` loop over the same
keys and with the batched-transaction floor of the client library, in one run, against a
throwaway etcd that this script starts and stops.

    python3 bench/bench_apply.py [--keys 10000] [--runs 5] [--sample 500]

- apply: whole process (`deisctl config apply -f doc.yaml` on an empty prefix), median of
  --runs; it parses and validates the document, reads the prefix, and writes guarded
  transactions of 128 puts (128 compares each).
- etcdctl loop: one `etcdctl put` process per key. Timed on --sample keys and extrapolated
  linearly to all of them (the output says so).
- floor: python-etcd3 transactions of 128 unguarded puts, no parsing or validation; timed
  both as a whole process (interpreter, imports, connect: comparable to apply) and
  in-process (the transactions alone).

Targets: apply >= 50x faster than the loop, and <= 2x the floor.
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

PREFIX = "/deis/bench/"

FLOOR = r"""
import sys, time
started = time.perf_counter()
import etcd3
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
client = etcd3.client(host=host, port=port)
items = [(f"{sys.argv[4]}k{i:05d}", f"value-{i}") for i in range(n)]
t0 = time.perf_counter()
for i in range(0, n, 128):
    client.transaction(compare=[], success=[client.transactions.put(k, v) for k, v in items[i:i + 128]], failure=[])
t1 = time.perf_counter()
print(f"{t1 - t0:.6f}")
"""


def count(etcd: EtcdCluster) -> int:
    out = etcd.etcdctl("get", PREFIX, "--prefix", "--keys-only").stdout
    return sum(1 for line in out.splitlines() if line.strip())


def timed(cmd: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]}... failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample", type=int, default=500, help="etcdctl puts actually timed")
    args = parser.parse_args()
    n = args.keys
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    env["DEISCTL_CONFIG"] = os.devnull + ".absent"  # no context file
    # As users run it: with Python's bytecode cache (some shells set PYTHONDONTWRITEBYTECODE,
    # which makes every run recompile deisctl's modules; the library's are compiled at install).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(deisctl_command() + ["--help"], capture_output=True, env=env)  # warm the cache

    with tempfile.TemporaryDirectory(prefix="deisctl-bench-") as tmp, EtcdCluster(1, name="bench") as etcd:
        doc = Path(tmp) / "doc.yaml"
        doc.write_text("bench:\n" + "".join(f"  k{i:05d}: value-{i}\n" for i in range(n)))
        member = etcd.members[0]

        apply_cmd = deisctl_command() + ["--endpoints", etcd.endpoints, "config", "apply", "-f", str(doc),
                                         "--new-component"]  # the document's component is new to this etcd
        floor_cmd = [sys.executable, "-c", FLOOR, "127.0.0.1", str(member.client_port), str(n), PREFIX]
        apply_times, floor_whole, floor_txn = [], [], []
        for _ in range(args.runs):  # interleaved, so that a busy moment of the machine hits both
            etcd.wipe()
            elapsed, out = timed(apply_cmd, env)
            assert out.splitlines()[-1] == f"{n} added", out[-200:]
            assert count(etcd) == n
            apply_times.append(elapsed)
            etcd.wipe()
            elapsed, out = timed(floor_cmd, env)
            assert count(etcd) == n
            floor_whole.append(elapsed)
            floor_txn.append(float(out))
        noop_time, out = timed(apply_cmd, env)
        assert out.strip() == "no changes", out[-200:]

        etcd.wipe()
        sample = min(args.sample, n)
        started = time.perf_counter()
        for i in range(sample):
            subprocess.run([ETCDCTL, "--endpoints", etcd.endpoints, "put", f"{PREFIX}k{i:05d}", f"value-{i}"],
                           check=True, capture_output=True, env=dict(env, ETCDCTL_API="3"))
        loop_sample = time.perf_counter() - started
        assert count(etcd) == sample
        loop_total = loop_sample / sample * n

    apply_med = statistics.median(apply_times)
    whole_med, txn_med = statistics.median(floor_whole), statistics.median(floor_txn)
    rows = [
        (f"deisctl config apply ({n} new keys, whole process)", apply_med),
        ("deisctl config apply (same file again: no changes)", noop_time),
        (f"etcdctl put loop ({n} processes; {sample} timed, x{n / sample:g})", loop_total),
        ("floor: python-etcd3 txns of 128 puts, whole process", whole_med),
        ("floor: python-etcd3 txns of 128 puts, transactions only", txn_med),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'':<{width}}  seconds")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:8.3f}")
    print()
    speedup = loop_total / apply_med
    print(f"apply vs etcdctl loop: {speedup:.0f}x faster (target >= 50x): {'ok' if speedup >= 50 else 'MISSED'}")
    ratio = apply_med / whole_med
    print(f"apply vs floor (whole process vs whole process): {ratio:.2f}x (target <= 2x): "
          f"{'ok' if ratio <= 2 else 'MISSED'}")
    print(f"apply vs floor (whole process vs transactions only): {apply_med / txn_med:.2f}x "
          "(apply also pays interpreter start-up, imports, parsing and validation)")
    print(f"runs: apply {', '.join(f'{t:.3f}' for t in apply_times)}; "
          f"floor {', '.join(f'{t:.3f}' for t in floor_whole)}")


if __name__ == "__main__":
    main()
