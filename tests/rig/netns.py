"""A private network behind an SSH bastion, on one machine: for `--tunnel` tests.

    test process (root netns)             network namespace `deis-tun-XXXX` (own loopback)
    ------------------------              -------------------------------------------------
    127.0.0.1:<port>  ──── inetd ────►    sshd -i   (the bastion; TCP forwarding allowed)
                                             │ direct-tcpip, names resolved here:
                                             ├──► etcd.internal:<port>  = etcd (TLS, 127.0.0.1)
                                             └──► node.internal:<port>  = sshd -D (the node)

The namespace is created with `ip netns add` and has nothing but its own
loopback: nothing in it is reachable from the test process except through
the bastion, and the names `etcd.internal` / `node.internal` exist only in
its /etc/hosts (`ip netns exec` mounts /etc/netns/<name>/hosts there).  The
bastion is "dual-homed" the inetd way: a listener in the root namespace hands
each accepted connection to a fresh `sshd -i` started inside the namespace.
No route, veth or address is added anywhere; everything stops by PID.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from tests.rig.etcd import ETCD, ETCDCTL, _openssl
from tests.rig.ports import free_port
from tests.rig.process import stop_process
from tests.rig.sshd import SSHD, SSHServer

ETCD_NAME = "etcd.internal"
NODE_NAME = "node.internal"


class NetNS:
    """`ip netns add NAME` with loopback up and an /etc/hosts of its own."""

    def __init__(self, hosts: dict[str, str]):
        self.name = f"deis-tun-{uuid.uuid4().hex[:8]}"
        self.hosts = hosts
        self.etc_dir = Path("/etc/netns") / self.name

    def start(self) -> "NetNS":
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
        try:
            subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True, capture_output=True)
            self.etc_dir.mkdir(parents=True)
            lines = ["127.0.0.1 localhost"] + [f"{ip} {name}" for name, ip in self.hosts.items()]
            (self.etc_dir / "hosts").write_text("\n".join(lines) + "\n")
        except BaseException:
            self.stop()
            raise
        return self

    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def run(self, *cmd: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*self.prefix(), *cmd], capture_output=True, text=True, timeout=30, **kw)

    def stop(self) -> None:
        shutil.rmtree(self.etc_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.etc_dir.parent.rmdir()  # only if empty: other namespaces may use it
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class NodeSSHD(SSHServer):
    """An sshd (-D) listening on the namespace's own 127.0.0.1."""

    def __init__(self, netns: NetNS, env: dict[str, str] | None = None):
        super().__init__(env=env)
        self.netns = netns

    def _launch(self) -> bool:
        config = self._write_config()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([*self.netns.prefix(), SSHD, "-D", "-e", "-f", str(config)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                return False
            if f"port {self.port}" in self.log_path.read_text(errors="replace"):  # "Server listening on ..."
                return True
            time.sleep(0.05)
        raise TimeoutError(f"sshd in {self.netns.name} not listening:\n{self.log_path.read_text()}")


class BastionSSHD(SSHServer):
    """The bastion: listens in the root namespace, runs `sshd -i` inside the namespace per connection."""

    def __init__(self, netns: NetNS):
        super().__init__()
        self.netns = netns
        self._listener: socket.socket | None = None
        self._children: list[subprocess.Popen] = []

    def _config(self) -> str:
        # A bastion exists to forward: allow local (direct-tcpip) forwarding only.
        return super()._config().replace("AllowTcpForwarding no", "AllowTcpForwarding local")

    def _launch(self) -> bool:
        config = self._write_config()
        listener = socket.socket()
        try:
            listener.bind((self.host, self.port))
        except OSError:
            listener.close()
            return False
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._serve, args=(listener, config), daemon=True).start()
        return True

    def _serve(self, listener: socket.socket, config: Path) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, open(self.log_path, "ab") as log:
                # inetd mode: the connection is sshd's stdin and stdout.
                child = subprocess.Popen([*self.netns.prefix(), SSHD, "-i", "-e", "-f", str(config)],
                                         stdin=conn.fileno(), stdout=conn.fileno(), stderr=log,
                                         start_new_session=True)
            self._children = [c for c in self._children if c.poll() is None] + [child]

    @property
    def connections(self) -> int:
        if not self.log_path.exists():
            return 0
        return self.log_path.read_text(errors="replace").count("Connection from")

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for child in self._children:
            if child.poll() is None:
                child.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=5)
        self._children = []
        super().stop()


class NetnsEtcd:
    """A single etcd inside the namespace, TLS, certificate for `etcd.internal` only."""

    def __init__(self, netns: NetNS):
        self.netns = netns
        self.dir = Path(tempfile.mkdtemp(prefix="deis-tun-etcd-"))
        self.port = free_port()  # free here, and never bound here: etcd binds it inside the namespace
        self.peer_port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def ca(self) -> str:
        return str(self.dir / "ca.crt")

    @property
    def url(self) -> str:
        return f"https://{ETCD_NAME}:{self.port}"

    def start(self, timeout: float = 20) -> "NetnsEtcd":
        d = self.dir
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=deisctl-tunnel-ca",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)  # what Python 3.13's strict check wants
        (d / "server.ext").write_text(f"subjectAltName=DNS:{ETCD_NAME}\nextendedKeyUsage=serverAuth\n")
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={ETCD_NAME}", cwd=d)
        _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", "server.crt", "-days", "2", "-extfile", "server.ext", cwd=d)
        listen = f"https://127.0.0.1:{self.port}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        cmd = [ETCD, "--name", "tun", "--data-dir", str(d / "data"),
               "--listen-client-urls", listen, "--advertise-client-urls", self.url,
               "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
               "--initial-cluster", f"tun={peer}", "--cert-file", str(d / "server.crt"),
               "--key-file", str(d / "server.key"), "--logger", "zap", "--log-outputs", "stderr"]
        with open(d / "etcd.log", "ab") as log:
            self.proc = subprocess.Popen([*self.netns.prefix(), *cmd], stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while self.etcdctl("endpoint", "health", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"etcd in {self.netns.name} not healthy:\n"
                                   f"{(d / 'etcd.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        return self

    def etcdctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """etcdctl run inside the namespace (the only place etcd can be reached from directly)."""
        result = self.netns.run(ETCDCTL, "--endpoints", self.url, "--cacert", self.ca, "--dial-timeout", "2s",
                                *args, env=dict(os.environ, ETCDCTL_API="3"))
        if check and result.returncode != 0:
            raise RuntimeError(f"etcdctl {args}: {result.stderr}")
        return result

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateNetwork:
    """NetNS + etcd + node sshd inside, bastion at the edge; one known_hosts and client key for both."""

    def __init__(self, node_env: dict[str, str] | None = None):
        self.netns = NetNS({ETCD_NAME: "127.0.0.1", NODE_NAME: "127.0.0.1"})
        self.node_env = node_env
        self.etcd: NetnsEtcd | None = None
        self.node: NodeSSHD | None = None
        self.bastion: BastionSSHD | None = None
        self.dir = Path(tempfile.mkdtemp(prefix="deis-tun-"))

    def start(self) -> "PrivateNetwork":
        try:
            self.netns.start()
            self.etcd = NetnsEtcd(self.netns).start()
            self.node = NodeSSHD(self.netns, env=self.node_env).start()
            self.bastion = BastionSSHD(self.netns).start()
            # One client key for both, as deisctl uses one --ssh-key for the bastion and the node.
            with open(self.node.root / "authorized_keys", "a") as keys:
                keys.write(Path(self.bastion.client_key + ".pub").read_text())
            node_key = self.node.host_public_key.split()[:2]
            bastion_key = self.bastion.host_public_key.split()[:2]
            Path(self.known_hosts).write_text(
                f"[{NODE_NAME}]:{self.node.port} {' '.join(node_key)}\n"
                f"[{self.bastion.host}]:{self.bastion.port} {' '.join(bastion_key)}\n")
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def known_hosts(self) -> str:
        return str(self.dir / "known_hosts")

    @property
    def client_key(self) -> str:
        return self.bastion.client_key

    @property
    def tunnel(self) -> str:
        return f"{self.bastion.user}@{self.bastion.host}:{self.bastion.port}"

    def stop(self) -> None:
        for part in (self.bastion, self.node, self.etcd):
            if part is not None:
                with contextlib.suppress(Exception):
                    part.stop()
        self.netns.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "PrivateNetwork":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
