"""One settings document applied to a fleet with Ansible: the deis.deisctl collection
(examples/ansible-playbook.yml) side by side with the command-based playbook it replaces
(bench/fleet_command_playbook.yml, `deisctl config apply` through ansible.builtin.command).

Both playbooks do the same job: apply the document, then the smoke check. The script starts
--clusters throwaway etcd servers on loopback (one inventory host each), builds and installs the
collection into a temporary directory, and times whole `ansible-playbook` runs with --forks
equal to the number of clusters: a run that writes (every cluster emptied first) and a run that
finds nothing to change, medians of --runs.

    python3 bench/bench_fleet.py [--clusters 10] [--keys 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import deisctl  # noqa: E402
from tests.rig.cli import deisctl_command  # noqa: E402
from tests.rig.etcd import EtcdCluster  # noqa: E402

COLLECTION = ROOT / "ansible_collections" / "deis" / "deisctl"
PLAYBOOKS = {"collection (deis.deisctl)": ROOT / "examples" / "ansible-playbook.yml",
             "command-based playbook": ROOT / "bench" / "fleet_command_playbook.yml"}


def tool(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: install ansible-core (the test extra)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--keys", type=int, default=50, help="keys in the document")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median reported)")
    args = parser.parse_args()
    if len(deisctl_command()) > 1:
        sys.exit("needs the installed deisctl executable (the command-based playbook runs it)")

    work = Path(tempfile.mkdtemp(prefix="deisctl-bench-fleet-"))
    home = work / "ansible"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEISCTL_", "ANSIBLE_"))}
    env.update(ANSIBLE_HOME=str(home), ANSIBLE_COLLECTIONS_PATH=str(work / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(home / "tmp"), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_RETRY_FILES_ENABLED="false")
    subprocess.run([tool("ansible-galaxy"), "collection", "build", str(COLLECTION), "--output-path", str(work)],
                   check=True, capture_output=True, env=env)
    subprocess.run([tool("ansible-galaxy"), "collection", "install", "-p", str(work / "collections"),
                    str(work / f"deis-deisctl-{deisctl.__version__}.tar.gz")], check=True, capture_output=True, env=env)
    keys = {f"benchSetting{i:02d}": f"value-{i}" for i in range(args.keys - 2)}
    document = {"controller": {"registrationMode": "admin_only", **keys}, "platform": {"domain": "deis.example.com"}}
    (work / "settings.yaml").write_text(yaml.safe_dump(document))

    clusters = [EtcdCluster(1, name=f"fleet{i}") for i in range(args.clusters)]
    try:
        for cluster in clusters:
            cluster.start()
        inventory = {"deis_clusters": {"vars": {"ansible_python_interpreter": sys.executable},
                                       "hosts": {f"cluster{i}": {"deis_endpoints": [c.endpoints]}
                                                 for i, c in enumerate(clusters)}}}
        (work / "inventory.yml").write_text(yaml.safe_dump(inventory))

        def reset() -> None:
            for cluster in clusters:
                cluster.wipe()
                cluster.write("/deis/controller/host", "10.0.0.5")  # what a running controller publishes
                cluster.write("/deis/controller/port", "8000")

        def run(playbook: Path) -> float:
            started = time.perf_counter()
            done = subprocess.run([tool("ansible-playbook"), "-i", str(work / "inventory.yml"), str(playbook),
                                   "--forks", str(args.clusters), "-e", f"settings_file={work / 'settings.yaml'}",
                                   "-e", f"deisctl={deisctl_command()[0]}"], capture_output=True, text=True,
                                  env=env, cwd=work, timeout=900)
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                sys.exit(f"{playbook.name} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
            return elapsed

        figures: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            for label, playbook in PLAYBOOKS.items():
                reset()
                figures.setdefault((label, "writes"), []).append(run(playbook))
                figures.setdefault((label, "no change"), []).append(run(playbook))
        for cluster in clusters:
            assert cluster.read("/deis/controller/benchSetting00") == "value-0"
    finally:
        for cluster in clusters:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)

    median = {key: statistics.median(values) for key, values in figures.items()}
    print(f"{args.clusters} clusters x {args.keys} keys, forks {args.clusters}: ansible-playbook wall clock, "
          f"median of {args.runs} runs (seconds; apply + smoke check per cluster)")
    print(f"{'':30}{'writes':>10}{'no change':>12}")
    for label in PLAYBOOKS:
        print(f"{label:30}{median[(label, 'writes')]:>10.2f}{median[(label, 'no change')]:>12.2f}")
    collection, command = (median[(label, 'writes')] for label in PLAYBOOKS)
    print(f"collection / command-based (writes): {collection / command:.2f}x; goal <= 1.00x: "
          f"{'met' if collection <= command else 'NOT met'}")


if __name__ == "__main__":
    main()
