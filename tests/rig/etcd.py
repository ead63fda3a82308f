"""Real etcd servers for the tests: one node or a 3-member cluster on loopback.

Each server gets free ports and a temp data dir, is waited on with a deadline,
and is stopped by PID. Optional TLS (self-signed CA made with openssl) and
user/password auth (enabled with etcdctl, an independent client).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from tests.rig.ports import free_port
from tests.rig.process import stop_process

ETCD = os.environ.get("ETCD_BIN") or shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = os.environ.get("ETCDCTL_BIN") or shutil.which("etcdctl") or "/usr/bin/etcdctl"


@dataclass
class TLSFiles:
    dir: Path
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that did not sign the server: for verification failures


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_tls(directory: Path) -> TLSFiles:
    """A CA, a server cert for 127.0.0.1/localhost and a client cert, all with openssl."""
    d = directory
    d.mkdir(parents=True, exist_ok=True)
    for name in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN=deisctl-test-{name}",
                 # Python 3.13 verifies strictly (VERIFY_X509_STRICT): a CA must say what its key is for
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 cwd=d)
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                  "extendedKeyUsage=serverAuth,clientAuth\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, ext in (("server", "server.ext"), ("client", "client.ext")):
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.crt", "-days", "2", "-extfile", ext, cwd=d)
    return TLSFiles(d, d / "ca.crt", d / "server.crt", d / "server.key", d / "client.crt", d / "client.key",
                    d / "other-ca.crt")


@dataclass
class EtcdMember:
    name: str
    client_port: int
    peer_port: int
    data_dir: Path
    log_path: Path
    tls: Optional[TLSFiles] = None
    client_cert_auth: bool = False
    process: Optional[subprocess.Popen] = None
    extra_args: list[str] = field(default_factory=list)
    paused: bool = False

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    def command(self, initial_cluster: str, state: str) -> list[str]:
        cmd = [
            ETCD, "--name", self.name, "--data-dir", str(self.data_dir),
            "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
            "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
            "--initial-cluster", initial_cluster, "--initial-cluster-state", state,
            "--initial-cluster-token", "deisctl-tests",
            "--heartbeat-interval", "50", "--election-timeout", "500",
            "--logger", "zap", "--log-outputs", "stderr",
        ]
        if self.tls:
            cmd += ["--cert-file", str(self.tls.server_cert), "--key-file", str(self.tls.server_key)]
            if self.client_cert_auth:
                cmd += ["--client-cert-auth", "--trusted-ca-file", str(self.tls.ca)]
        return cmd + self.extra_args

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        ctx = None
        if self.tls:
            ctx = ssl.create_default_context(cafile=str(self.tls.ca))
            if self.client_cert_auth:
                ctx.load_cert_chain(str(self.tls.client_cert), str(self.tls.client_key))
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=0.5, context=ctx) as resp:
                return json.loads(resp.read()).get("health") == "true"
        except (OSError, ValueError):
            return False

    def kill(self) -> None:
        """SIGKILL: the member dies as in a crash."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def pause(self) -> None:
        """SIGSTOP by PID: the member hangs as a frozen process or a black-holed host does (its
        TCP connections stay open, nothing answers). Always resume() it, in a finally."""
        self.process.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """SIGCONT by PID."""
        if self.alive:
            self.process.send_signal(signal.SIGCONT)
        self.paused = False

    def stop(self) -> None:
        if self.paused:
            self.resume()  # a stopped process would leave SIGTERM pending
        stop_process(self.process)


class EtcdCluster:
    """One or more members on loopback; `endpoints` is the comma-separated client URL list."""

    def __init__(self, size: int = 1, *, tls: Optional[TLSFiles] = None, client_cert_auth: bool = False,
                 base_dir: Optional[Path] = None, name: str = "etcd", extra_args: Sequence[str] = ()):
        """extra_args: more etcd flags for every member (--quota-backend-bytes, --max-txn-ops, ...)."""
        self.dir = Path(base_dir or tempfile.mkdtemp(prefix=f"deisctl-{name}-"))
        self._owns_dir = base_dir is None
        self.tls = tls
        self.members = [
            EtcdMember(f"{name}{i}", free_port(), free_port(), self.dir / f"m{i}", self.dir / f"m{i}.log",
                       tls, client_cert_auth, extra_args=list(extra_args))
            for i in range(size)
        ]
        self.auth: Optional[tuple[str, str]] = None

    @property
    def initial_cluster(self) -> str:
        return ",".join(f"{m.name}={m.peer_url}" for m in self.members)

    @property
    def endpoints(self) -> str:
        return ",".join(m.url for m in self.members)

    def start(self, deadline: float = 20.0, attempts: int = 3) -> "EtcdCluster":
        """Start every member. free_port() hands out a port that is free when asked, and something
        else (an outgoing connection of this busy machine) may take it before etcd binds it: a
        member that exits with "address already in use" has the whole cluster started again on
        fresh ports, up to `attempts` times."""
        for attempt in range(attempts):
            for member in self.members:
                self._spawn(member, "new")
            try:
                self.wait_healthy(self.members, deadline)
                return self
            except RuntimeError:
                taken = any("address already in use" in m.log_path.read_text(errors="replace") for m in self.members)
                if not taken or attempt == attempts - 1:
                    for member in self.members:  # none left running when the start fails for good
                        member.stop()
                    raise
            for member in self.members:
                member.stop()
                shutil.rmtree(member.data_dir, ignore_errors=True)
                member.log_path.write_text("")
                member.client_port, member.peer_port = free_port(), free_port()
        return self

    def _spawn(self, member: EtcdMember, state: str) -> None:
        log = open(member.log_path, "ab")
        member.process = subprocess.Popen(member.command(self.initial_cluster, state), stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def wait_healthy(self, members, deadline: float = 20.0) -> None:
        end = time.monotonic() + deadline
        pending = list(members)
        while pending:
            pending = [m for m in pending if not m.healthy()]
            for m in pending:
                if not m.alive:
                    raise RuntimeError(f"etcd {m.name} exited: {m.log_path.read_text()[-2000:]}")
            if pending and time.monotonic() > end:
                raise RuntimeError(f"etcd {[m.name for m in pending]} not healthy after {deadline}s")
            if pending:
                time.sleep(0.05)

    def restart(self, index: int, deadline: float = 20.0) -> None:
        member = self.members[index]
        member.stop()
        self._spawn(member, "existing")
        self.wait_healthy([member], deadline)

    def stop(self) -> None:
        for member in self.members:
            member.stop()
        if self._owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "EtcdCluster":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def leader(self) -> int:
        """Index of the member the live members name as their leader (etcdctl endpoint status)."""
        status = json.loads(self.etcdctl("endpoint", "status", "-w", "json").stdout)
        leader_id = status[0]["Status"]["leader"]
        urls = [m.url for m in self.members]
        return next(urls.index(s["Endpoint"]) for s in status if s["Status"]["header"]["member_id"] == leader_id)

    # -- an independent reader/writer: etcd's own CLI ------------------------------

    def etcdctl(self, *args: str, check: bool = True, endpoints: Optional[str] = None) -> subprocess.CompletedProcess:
        cmd = [ETCDCTL, "--endpoints", endpoints or ",".join(m.url for m in self.members if m.alive),
               "--dial-timeout", "2s", "--command-timeout", "5s"]
        if self.tls:
            cmd += ["--cacert", str(self.tls.ca)]
            if self.members[0].client_cert_auth:
                cmd += ["--cert", str(self.tls.client_cert), "--key", str(self.tls.client_key)]
        if self.auth:
            cmd += ["--user", f"{self.auth[0]}:{self.auth[1]}"]
        env = dict(os.environ, ETCDCTL_API="3")
        return subprocess.run(cmd + list(args), capture_output=True, text=True, check=check, env=env, timeout=30)

    def read(self, key: str) -> Optional[str]:
        """The value of one key as etcdctl sees it, or None."""
        out = self.etcdctl("get", key, "--print-value-only").stdout
        return None if out == "" else out[:-1] if out.endswith("\n") else out

    def read_prefix(self, prefix: str) -> dict[str, str]:
        out = self.etcdctl("get", prefix, "--prefix", "-w", "json").stdout
        import base64

        kvs = json.loads(out).get("kvs", [])
        return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv.get("value", "")).decode() for kv in kvs}

    def write(self, key: str, value: str) -> None:
        self.etcdctl("put", key, "--", value)

    def wipe(self, prefix: str = "/") -> None:
        self.etcdctl("del", prefix, "--prefix")

    def enable_auth(self, user: str = "root", password: str = "s3cret-pw") -> None:
        self.etcdctl("user", "add", f"{user}:{password}")
        if user != "root":
            self.etcdctl("user", "grant-role", user, "root")
        self.etcdctl("auth", "enable")
        self.auth = (user, password)
