"""A real OpenSSH server on 127.0.0.1, with throwaway keys, for tests.

Everything lives in a temp dir: host key, client key, authorized_keys,
known_hosts, config, pid file and log.  No user is added; the client logs in
as the current user (root) with the generated key only.  `SetEnv` puts e.g.
DOCKER_HOST into every session, so remote `docker` reaches the private engine.

    with SSHServer(env={"DOCKER_HOST": engine.host}) as ssh:
        client = ssh.connect()        # paramiko, known_hosts checked, RejectPolicy
"""
from __future__ import annotations

import base64
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.rig.ports import free_port
from tests.rig.process import stop_process

SSHD = "/usr/sbin/sshd"
HOST = "127.0.0.1"


def _keygen(path: Path, comment: str) -> str:
    """Generate an ed25519 key pair with ssh-keygen; return the public key line."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return path.with_suffix(".pub").read_text().strip()


def fingerprint(pubkey_line: str) -> str:
    """OpenSSH-style SHA256 fingerprint of a public key line ("SHA256:...")."""
    blob = base64.b64decode(pubkey_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


class SSHServer:
    """sshd -D -e -f <config> on 127.0.0.1:<free port>; start()/stop() or `with`."""

    def __init__(self, env: dict[str, str] | None = None, start_timeout: float = 20, host: str = HOST,
                 client_key: str | None = None, port: int | None = None):
        """host: the loopback address to listen on (127.0.0.2 ... for a platform of several nodes);
        client_key: log in with this private key (its .pub beside it) instead of a new one; port:
        this port (nodes share one, as Deis's all use 22) instead of a free one."""
        self._given_port = port
        self.session_env = dict(env or {})
        self.start_timeout = start_timeout
        self.host = host
        self._given_key = client_key
        self.port: int | None = None
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.root: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.host_public_key = ""

    # -- paths -------------------------------------------------------------
    @property
    def client_key(self) -> str:
        """Private key (OpenSSH format, no passphrase) authorized to log in."""
        return self._given_key or str(self.root / "client_ed25519")

    @property
    def known_hosts(self) -> str:
        """known_hosts holding the right host key for [127.0.0.1]:port."""
        return str(self.root / "known_hosts")

    @property
    def host_key_fingerprint(self) -> str:
        return fingerprint(self.host_public_key)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def log_path(self) -> Path:
        return self.root / "sshd.log"

    @property
    def known_hosts_host(self) -> str:
        # The name OpenSSH and paramiko look up for a non-22 port.
        return f"[{self.host}]:{self.port}"

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> "SSHServer":
        if not os.path.exists(SSHD):
            raise FileNotFoundError(f"{SSHD} not found (Debian package openssh-server)")
        self.root = Path(tempfile.mkdtemp(prefix="deis-sshd-"))
        try:
            self.host_public_key = _keygen(self.root / "host_ed25519", "deis-rig-host")
            if self._given_key:
                client_pub = Path(self._given_key + ".pub").read_text().strip()
            else:
                client_pub = _keygen(self.root / "client_ed25519", "deis-rig-client")
            (self.root / "authorized_keys").write_text(client_pub + "\n")
            # sshd refuses to start without its privilege separation dir.
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
            for attempt in range(1 if self._given_port else 3):  # a free port can be taken before sshd binds it
                self.port = self._given_port or free_port(self.host)
                if self._launch():
                    break
            else:
                raise RuntimeError(f"sshd did not start:\n{self.log_path.read_text(errors='replace')}")
            self.write_known_hosts(self.known_hosts, self.host_public_key)
        except BaseException:
            self.stop()
            raise
        return self

    def _config(self) -> str:
        lines = [
            f"ListenAddress {self.host}:{self.port}",
            f"HostKey {self.root / 'host_ed25519'}",
            f"PidFile {self.root / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
            f"AllowUsers {self.user}",
            "StrictModes no",  # the temp dir's modes are not sshd's business
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",  # no PAM session modules (loginuid etc.) in a container
            "AllowTcpForwarding no",
            "AllowAgentForwarding no",
            "X11Forwarding no",
            "PermitTunnel no",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            "LogLevel VERBOSE",
            "Subsystem sftp internal-sftp",
        ]
        if self.session_env:
            lines.append("SetEnv " + " ".join(f"{k}={v}" for k, v in self.session_env.items()))
        return "\n".join(lines) + "\n"

    def _write_config(self) -> Path:
        """Write sshd_config and have sshd check it (`-t`) before anything listens."""
        config = self.root / "sshd_config"
        config.write_text(self._config())
        check = subprocess.run([SSHD, "-t", "-f", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"sshd rejects its config:\n{check.stderr}")
        return config

    def _launch(self) -> bool:
        config = self._write_config()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                return False
            if self._banner():
                return True
            time.sleep(0.05)
        raise TimeoutError(f"sshd not answering after {self.start_timeout}s:\n{self.log_path.read_text()}")

    def _banner(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as s:
                return s.recv(64).startswith(b"SSH-")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM sshd by PID (its sessions go with it), delete the temp dir."""
        stop_process(self.proc)
        self.proc = None
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> "SSHServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- known_hosts and clients -------------------------------------------
    def write_known_hosts(self, path: str | os.PathLike, pubkey_line: str | None = None) -> str:
        """Write a known_hosts with one entry for this server (default: its real key)."""
        keytype, key = (pubkey_line or self.host_public_key).split()[:2]
        Path(path).write_text(f"{self.known_hosts_host} {keytype} {key}\n")
        return str(path)

    def make_wrong_known_hosts(self, path: str | os.PathLike | None = None) -> str:
        """known_hosts claiming another key for this host: clients must refuse (changed key)."""
        other = _keygen(Path(tempfile.mkdtemp(dir=self.root)) / "other", "deis-rig-wrong")
        return self.write_known_hosts(path or self.root / "known_hosts.wrong", other)

    def make_empty_known_hosts(self, path: str | os.PathLike | None = None) -> str:
        """known_hosts not knowing this host: clients with RejectPolicy must refuse."""
        path = path or self.root / "known_hosts.empty"
        Path(path).write_text("")
        return str(path)

    def ssh_args(self, known_hosts: str | None = None) -> list[str]:
        """OpenSSH client command prefix (append the remote command)."""
        return ["ssh", "-i", self.client_key, "-p", str(self.port), "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", f"UserKnownHostsFile={known_hosts or self.known_hosts}",
                "-o", "GlobalKnownHostsFile=/dev/null", f"{self.user}@{self.host}"]

    def connect(self, known_hosts: str | None = None, timeout: float = 10):
        """paramiko SSHClient logged in; host key checked against known_hosts, unknown rejected."""
        import paramiko

        client = paramiko.SSHClient()
        client.load_host_keys(known_hosts or self.known_hosts)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(self.host, port=self.port, username=self.user, key_filename=self.client_key,
                           look_for_keys=False, allow_agent=False, timeout=timeout)
        except BaseException:
            client.close()
            raise
        return client
