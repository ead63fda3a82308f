"""What the audit record costs a write: `deisctl config controller set workers=N` as a whole
process with the record (the default) and with DEISCTL_AUDIT=off, interleaved, medians, against
a throwaway etcd. Both write one key in one transaction; the audited one also reads the chain's
head and writes the record and the head in that same transaction.

    python3 bench/bench_audit.py [--runs 31]

Target: audited <= 1.05x unaudited. (`bench/bench_apply.py` gives the figure for a 10,000-key
apply, audited, against the library's floor.)
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
from tests.rig.etcd import EtcdCluster  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    args = parser.parse_args()
    import compileall

    import deisctl

    compileall.compile_dir(str(Path(deisctl.__file__).parent), quiet=1)
    base = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
    modes = {"audited (default)": dict(base), "DEISCTL_AUDIT=off": dict(base, DEISCTL_AUDIT="off")}
    times: dict[str, list[float]] = {label: [] for label in modes}
    with EtcdCluster(1, name="bench-audit") as etcd:
        for round_no in range(args.runs + 1):
            for label, env in modes.items():
                command = deisctl_command() + ["--endpoints", etcd.endpoints, "config", "controller", "set",
                                               f"workers={round_no + 1}"]
                started = time.perf_counter()
                done = subprocess.run(command, env=env, capture_output=True)
                elapsed = time.perf_counter() - started
                if done.returncode != 0:
                    sys.exit(done.stderr.decode())
                if round_no:  # round 0 warms the page cache
                    times[label].append(elapsed)
        records = etcd.etcdctl("get", "/deisctl-audit/deis/records/", "--prefix", "--keys-only").stdout.split()
    median = {label: statistics.median(values) for label, values in times.items()}
    print(f"config controller set, whole process, median of {args.runs} interleaved runs:")
    for label, seconds in median.items():
        print(f"  {label:<22} {seconds * 1000:7.1f} ms")
    ratio = median["audited (default)"] / median["DEISCTL_AUDIT=off"]
    print(f"audited / unaudited = {ratio:.3f}x (target <= 1.05x): {'OK' if ratio <= 1.05 else 'MISSED'}; "
          f"{len(records)} records written")


if __name__ == "__main__":
    main()
