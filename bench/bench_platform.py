"""`deisctl status` over 1, 3 and 10 nodes (the nodes are asked at once: 10 nodes should take at
most 1.5x one) beside OpenSSH asking the same nodes the same at once (one `ssh` per node, in
parallel: what the nodes themselves cost, since on one machine the rig's nodes share its cores), and `deisctl logs --tail 10000` beside `ssh NODE docker logs --tail 10000`
(OpenSSH, the node found through etcd by hand), each piped to a file.

Self-contained: starts an etcd and the rig's platform (tests/rig/platform.py: one address, sshd
and Docker engine per node, a router on each publishing its heartbeat), prints medians, stops it all.

    python3 bench/bench_platform.py [--runs N]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.rig.etcd import EtcdCluster  # noqa: E402
from tests.rig.platform import Platform  # noqa: E402


def deisctl() -> list[str]:
    exe = shutil.which("deisctl") or str(Path(sys.executable).with_name("deisctl"))
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "deisctl"]


def timed(cmd: list[str], env: dict, out=subprocess.DEVNULL) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE, timeout=300)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]}... exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed


def openssh_at_once(ssh_of, nodes) -> float:
    """One OpenSSH session per node, all started together, each listing and inspecting the
    deis-* containers as deisctl status does (ops.platform._INSPECT)."""
    from deisctl.ops.platform import _INSPECT

    started = time.perf_counter()
    procs = [subprocess.Popen([*ssh_of(node), f"sh -c '{_INSPECT}' sh docker"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for node in nodes]
    for proc in procs:
        if proc.wait(timeout=300) != 0:
            raise RuntimeError(f"ssh exited {proc.returncode}: {proc.stderr.read().decode()[-300:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-platform-"))
    figures: dict = {}
    try:
        with EtcdCluster(1, name="bench-platform") as etcd, Platform(etcd.endpoints, nodes=10) as platform:
            env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
            env.update(DEISCTL_ENDPOINTS=etcd.endpoints, DEISCTL_AUDIT="off")
            platform.run_everywhere("router", per_host=True)
            for node in platform.nodes:
                platform.wait_published(etcd, f"/deis/router/hosts/{node.address}/host")
            timed([*deisctl(), "status", *platform.node_flags()], env)  # warm the page cache

            def ssh_of(node):
                return ["ssh", "-i", platform.client_key, "-p", str(platform.port), "-o", "BatchMode=yes", "-o",
                        f"UserKnownHostsFile={platform.known_hosts}", f"{node.sshd.user}@{node.address}"]
            for count in (1, 3, 10):
                for node in platform.nodes[count:]:  # only `count` nodes publish
                    etcd.etcdctl("del", f"/deis/router/hosts/{node.address}/", "--prefix")
                    node.docker("stop", "-t", "1", "deis-router")
                for node in platform.nodes[:count]:
                    if node.state("router") != "running":
                        platform.run(node, "router", per_host=True)
                    platform.wait_published(etcd, f"/deis/router/hosts/{node.address}/host")
                figures[("status", count)] = [timed([*deisctl(), "status", "router", *platform.node_flags()], env)
                                              for _ in range(args.runs)]
                figures[("openssh", count)] = [openssh_at_once(ssh_of, platform.nodes[:count])
                                               for _ in range(args.runs)]
            node = platform.nodes[0]
            lines = "".join(f"line {i:05d} of the router's log, as long as a real one might be\n" for i in range(10000))
            (node.data_of("router") / "say").write_text(lines)
            while (node.data_of("router") / "say").exists():
                time.sleep(0.2)
            time.sleep(1)
            ssh = ssh_of(node)
            for tool, cmd in (("deisctl logs", [*deisctl(), "logs", *platform.node_flags(), "--node", node.address,
                                                "router", "--tail", "10000"]),
                              ("ssh docker logs", [*ssh, "docker logs --tail 10000 deis-router"])):
                samples = []
                for _ in range(args.runs):
                    with open(work / "out.txt", "wb") as out:
                        samples.append(timed(cmd, env, out))
                    assert (work / "out.txt").read_text().count("\n") >= 10000
                figures[(tool, 10000)] = samples
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {key: statistics.median(values) for key, values in figures.items()}
    print(f"deisctl status router beside OpenSSH asking the same nodes at once, median of {args.runs} runs "
          f"(seconds, process start to exit; {os.cpu_count()} cores shared by every node)")
    for count in (1, 3, 10):
        status, bare = med[("status", count)], med[("openssh", count)]
        print(f"  {count:>2} node(s): deisctl {status:.3f}  openssh {bare:.3f}  ({status / bare:.2f}x)")
    ratio, bare_ratio = med[("status", 10)] / med[("status", 1)], med[("openssh", 10)] / med[("openssh", 1)]
    print(f"target 10 nodes <= 1.5x one node: {'met' if ratio <= 1.5 else 'NOT met'} ({ratio:.2f}x; "
          f"OpenSSH on the same nodes: {bare_ratio:.2f}x)")
    logs, bare = med[("deisctl logs", 10000)], med[("ssh docker logs", 10000)]
    print(f"logs --tail 10000 to a file: deisctl {logs:.3f}  ssh + docker logs {bare:.3f}  ({logs / bare:.2f}x; "
          f"target <= 1.5x: {'met' if logs / bare <= 1.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
