"""A real PostgreSQL server for the rig: Debian's package, on a unix socket only, as the database
of the controller Deis shipped (Deis v1 ran its controller on PostgreSQL).

    with PostgresServer() as pg:
        pg.create_database("deis", owner="deis")
        pg.psql("deis", "select 1")

Its own data dir and socket dir under a temp dir; `listen_addresses=''` (no TCP at all); run as the
`postgres` user (Debian's package makes it; else `nobody`), since PostgreSQL refuses root. Local
connections are trusted: nothing but this machine's root (and the containers it starts) can reach
the socket dir. Stopped by its own PID (fast shutdown, then SIGKILL).
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path


def server_binaries() -> Path | None:
    """/usr/lib/postgresql/N/bin of the newest installed server, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    def __init__(self, start_timeout: float = 60):
        self.start_timeout = start_timeout
        self.bin = server_binaries()
        self.root: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.user = "postgres" if _user_exists("postgres") else "nobody"

    @property
    def socket_dir(self) -> str:
        return str(self.root / "socket")

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    def start(self) -> "PostgresServer":
        if self.bin is None:
            raise FileNotFoundError("no PostgreSQL server (Debian package postgresql)")
        # Short: a unix socket path must stay under ~108 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="deis-pg-", dir="/tmp"))
        os.chmod(self.root, 0o755)
        account = pwd.getpwnam(self.user)
        for name in ("data", "socket"):
            (self.root / name).mkdir()
            os.chown(self.root / name, account.pw_uid, account.pw_gid)
        try:
            subprocess.run([str(self.bin / "initdb"), "-D", str(self.root / "data"), "-A", "trust", "-U", "postgres",
                            "-E", "UTF8", "--no-locale", "--no-sync"], check=True, capture_output=True, user=account.pw_uid,
                           group=account.pw_gid, cwd=self.root, stdin=subprocess.DEVNULL, timeout=120)
            with open(self.log_path, "wb") as log:
                os.chown(self.log_path, account.pw_uid, account.pw_gid)
                self.proc = subprocess.Popen(
                    [str(self.bin / "postgres"), "-D", str(self.root / "data"), "-c", "listen_addresses=",
                     "-c", f"unix_socket_directories={self.socket_dir}", "-c", "fsync=off",
                     "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, user=account.pw_uid,
                    group=account.pw_gid, cwd=self.root, start_new_session=True)
            deadline = time.monotonic() + self.start_timeout
            while self.psql("postgres", "select 1", check=False).returncode != 0:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start:\n{self.log_path.read_text(errors='replace')[-3000:]}")
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown: sessions are cut, nothing waits
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def psql(self, database: str, sql: str, check: bool = True) -> subprocess.CompletedProcess:
        """`psql -Atc SQL` as the superuser over the socket; str out."""
        return subprocess.run(["psql", "-h", self.socket_dir, "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
                               "-Atc", sql], capture_output=True, text=True, check=check, timeout=60,
                              stdin=subprocess.DEVNULL)

    def create_database(self, name: str, owner: str) -> None:
        self.psql("postgres", f'create role "{owner}" login')
        self.psql("postgres", f'create database "{name}" owner "{owner}"')

    @contextlib.contextmanager
    def locked(self, database: str, tables: list[str], mode: str):
        """Hold `LOCK TABLE tables IN mode MODE` in an open transaction for the block (a psql
        session kept waiting on its stdin), then roll it back."""
        session = subprocess.Popen(["psql", "-h", self.socket_dir, "-U", "postgres", "-d", database, "-v",
                                    "ON_ERROR_STOP=1", "-Aqt"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            session.stdin.write(f"begin;\nlock table {', '.join(tables)} in {mode} mode;\nselect 'held';\n")
            session.stdin.flush()
            line = session.stdout.readline()
            if line.strip() != "held":
                raise RuntimeError(f"could not lock {tables}: {line}{session.stderr.read()}")
            yield
        finally:
            with contextlib.suppress(OSError):
                session.stdin.write("rollback;\n")
                session.stdin.close()
            try:
                session.wait(timeout=30)
            except subprocess.TimeoutExpired:
                session.kill()
                session.wait()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
