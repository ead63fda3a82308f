"""A Deis platform of several nodes, for `status`, `logs`, `restart` and `ssh`.

Each node is a loopback address of its own (127.0.0.2, .3, .4: the whole of 127/8 is the
loopback here), with its own sshd (all on one port, as Deis's nodes all listen on 22, and one
login key) whose sessions reach the node's own private Docker engine, so that every node has its
own `deis-router`. Components are real containers of those engines, running tests/rig/heartbeat.py
(the host's Python tree and the test venv bind-mounted read-only, as for today's controller): each
publishes its heartbeat in the rig's etcd with a lease, as Deis's boot scripts did, and stops
publishing when the container stops. Containers share the host's network namespace only to reach
etcd on 127.0.0.1; they listen on nothing.

    with Platform(etcd.endpoints, nodes=3) as platform:
        platform.run(platform.nodes[0], "controller")
        platform.run_everywhere("router", per_host=True)
        platform.node_flags()        # --ssh-user, --ssh-port, --ssh-key, --known-hosts
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.rig.docker_engine import DockerEngine, python_mounts
from tests.rig.ports import free_port
from tests.rig.sshd import SSHServer

RIG_DIR = Path(__file__).resolve().parent
ADDRESSES = tuple(f"127.0.0.{n}" for n in range(2, 22))  # as many nodes as a test or a bench asks for
TTL = 6  # seconds of a heartbeat's lease (Deis's ETCD_TTL was 20)


class Node:
    """One node: its address, its Docker engine, its sshd, and the /data dir of each component."""

    def __init__(self, address: str):
        self.address = address
        self.engine: DockerEngine | None = None
        self.sshd: SSHServer | None = None
        self.data = Path(tempfile.mkdtemp(prefix=f"deis-node-{address.rsplit('.', 1)[1]}-"))

    def data_of(self, component: str) -> Path:
        path = self.data / component
        path.mkdir(exist_ok=True)
        return path

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.engine.docker(*args, check=check)

    def cut_connections(self) -> int:
        """Kill every SSH connection to this node (sshd's per-connection processes), as if the
        node had gone from the network; its sshd keeps listening. The number killed."""
        import signal

        master = self.sshd.proc.pid
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == master:  # its parent is the listening sshd
                    children.append(int(entry.name))
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(children)

    def state(self, component: str) -> str:
        done = self.docker("inspect", "--format", "{{.State.Status}}", f"deis-{component}", check=False)
        return done.stdout.strip() if done.returncode == 0 else "missing"


class Platform:
    def __init__(self, etcd_endpoints: str, nodes: int = 3):
        self.etcd_endpoint = etcd_endpoints.split(",")[0].split("://", 1)[1]
        self.nodes = [Node(address) for address in ADDRESSES[:nodes]]
        self.root: Path | None = None
        self.port = 0

    @property
    def client_key(self) -> str:
        return str(self.root / "client_ed25519")

    @property
    def known_hosts(self) -> str:
        return str(self.root / "known_hosts")

    def node_flags(self) -> list[str]:
        """The node options that reach every node (no --host: a command finds them)."""
        user = self.nodes[0].sshd.user
        return ["--ssh-user", user, "--ssh-port", str(self.port), "--ssh-key", self.client_key,
                "--known-hosts", self.known_hosts]

    def start(self) -> "Platform":
        self.root = Path(tempfile.mkdtemp(prefix="deis-platform-"))
        try:
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "deis-platform", "-f",
                            self.client_key], check=True, capture_output=True, stdin=subprocess.DEVNULL)
            self.port = self._shared_port()
            lines = []
            for node in self.nodes:
                node.engine = DockerEngine().start()
                node.engine.import_base_image()
                node.sshd = SSHServer(env={"DOCKER_HOST": node.engine.host}, host=node.address,
                                      client_key=self.client_key, port=self.port).start()
                lines.append(Path(node.sshd.known_hosts).read_text())
            Path(self.known_hosts).write_text("".join(lines))
        except BaseException:
            self.stop()
            raise
        return self

    def _shared_port(self) -> int:
        """A port free on every node's address (they all listen on it)."""
        import socket

        for _ in range(20):
            port = free_port(self.nodes[0].address)
            try:
                for node in self.nodes:
                    with socket.socket() as probe:
                        probe.bind((node.address, port))
                return port
            except OSError:
                continue
        raise RuntimeError("no port free on every node's address")

    def stop(self) -> None:
        for node in self.nodes:
            if node.sshd is not None:
                node.sshd.stop()
            if node.engine is not None:
                node.engine.stop()
            shutil.rmtree(node.data, ignore_errors=True)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Platform":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- components --------------------------------------------------------------------------
    def run(self, node: Node, component: str, *, per_host: bool = False, port: int = 8000) -> None:
        """Start deis-COMPONENT on node: its heartbeat under /deis/COMPONENT (per_host: under
        /deis/COMPONENT/hosts/ADDRESS, as routers, registries and store gateways publish)."""
        path = f"/deis/{component}" + (f"/hosts/{node.address}" if per_host else "")
        bindir = os.path.dirname(sys.executable)
        mounts = ["-v", "/usr:/usr:ro", "-v", "/etc:/etc:ro", "-v", f"{RIG_DIR / 'heartbeat.py'}:/rig/heartbeat.py:ro",
                  "-v", f"{node.data_of(component)}:/data"]
        for folder in python_mounts():
            mounts += ["-v", f"{folder}:{folder}:ro"]
        node.docker("rm", "-f", f"deis-{component}", check=False)
        node.docker("run", "-d", "--name", f"deis-{component}", "--network", "host", *mounts,
                    "-e", f"PATH={bindir}:/usr/bin:/bin", "-e", "PYTHONDONTWRITEBYTECODE=1", "-e", "PYTHONUNBUFFERED=1",
                    "-w", "/", "deis-rig/base:1", os.path.join(bindir, "python3"), "/rig/heartbeat.py",
                    "--endpoint", self.etcd_endpoint, "--path", path, "--host", node.address, "--port", str(port),
                    "--ttl", str(TTL))

    def run_everywhere(self, component: str, **kwargs) -> None:
        for node in self.nodes:
            self.run(node, component, **kwargs)

    def wait_published(self, etcd, key: str, present: bool = True, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while (etcd.read(key) is not None) != present:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{key} {'not published' if present else 'still published'} after {timeout}s")
            time.sleep(0.1)

    @contextlib.contextmanager
    def steered(self, node: Node, component: str, name: str, content: bytes = b""):
        """A file in the component's /data for the block (fail-start, pause-heartbeat)."""
        path = node.data_of(component) / name
        path.write_bytes(content)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)
