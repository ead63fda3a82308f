"""A private Docker engine and the `deis-controller` container, for tests.

The engine is a second dockerd with its own data/exec roots and a unix socket
under a temp dir.  It gets no bridge, no iptables rules and no IP forwarding,
so it changes nothing in the machine's network; containers run with
`--network none` (loopback only).  No image is ever pulled.

Two generations of controller, one interface (`GENERATIONS`):
- `ControllerContainer`, today's Django: the image is `docker import`ed from an
  empty tar; the host's /usr, /etc and Python tree are bind-mounted read-only,
  so the container runs the very Django/DRF the tests run with; sqlite.
- `DeisV1Controller`, the one Deis shipped: Python 2.7, Django 1.6.11, DRF 3.0.5
  and django-guardian in a Debian bullseye image built here (tests/rig/deis_v1.py),
  on PostgreSQL over a unix socket (tests/rig/postgres.py).

    with DockerEngine() as engine, ControllerContainer(engine) as ctl:
        tokens = ctl.seed("alice")          # {"alice": "<key>"}
        assert ctl.check_token(tokens["alice"]) == 200
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

APP_DIR = Path(__file__).resolve().parent.parent / "controller_app"
V1_APP_DIR = Path(__file__).resolve().parent.parent / "controller_app_v1"  # its `controller` links to APP_DIR's
BASE_IMAGE = "deis-rig/base:1"
CONTROLLER_NAME = "deis-controller"
CONTAINER_DB_PATH = "/data/db.sqlite3"
# Namespaces in containerd, so a containerd shared with a system docker can't clash.
CONTAINERD_NAMESPACE = "deis-rig"


def _which(binary: str) -> str | None:
    # /usr/sbin may be missing from a non-root PATH.
    return shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin:/sbin:/bin")


def _wait(predicate, timeout: float, what: str, interval: float = 0.05, on_fail=None):
    """Poll predicate() until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            detail = on_fail() if on_fail else ""
            raise TimeoutError(f"{what} not ready after {timeout:.0f}s\n{detail}")
        time.sleep(interval)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class DockerEngine:
    """A dockerd of our own on unix://<tmp>/d.sock; start()/stop() or `with`."""

    def __init__(self, start_timeout: float = 60):
        self.start_timeout = start_timeout
        self.root: Path | None = None
        self.proc: subprocess.Popen | None = None

    # -- paths -------------------------------------------------------------
    @property
    def socket(self) -> str:
        return str(self.root / "d.sock")

    @property
    def host(self) -> str:
        """Value for DOCKER_HOST."""
        return f"unix://{self.socket}"

    @property
    def env(self) -> dict[str, str]:
        """os.environ plus DOCKER_HOST, for running the docker CLI against this engine."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "TESTCONTAINERS_"))}
        env["DOCKER_HOST"] = self.host
        return env

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def log_path(self) -> Path:
        return self.root / "dockerd.log"

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> "DockerEngine":
        dockerd = _which("dockerd")
        if not dockerd:
            raise FileNotFoundError("dockerd not found (Debian package docker.io)")
        # Short root: a unix socket path must stay under ~108 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="deis-rig-", dir="/tmp"))
        assert len(self.socket) < 100, self.socket
        config = self.root / "daemon.json"
        config.write_text("{}")  # so a host /etc/docker/daemon.json can't interfere
        cmd = [
            dockerd,
            "--bridge=none", "--iptables=false", "--ip-forward=false",
            "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "dockerd.pid"),
            "-H", self.host,
            "--config-file", str(config),
            "--containerd-namespace", CONTAINERD_NAMESPACE,
            "--containerd-plugins-namespace", CONTAINERD_NAMESPACE + "-plugins",
        ]
        # dockerd starts (and stops) its own containerd under the exec root,
        # unless a system one listens on /run/containerd/containerd.sock.
        with open(self.log_path, "wb") as log:
            # Own session: a Ctrl-C at pytest must not kill it before teardown.
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait(self._answers, self.start_timeout, "dockerd", on_fail=lambda: _tail(self.log_path))
        except BaseException:
            self.stop()
            raise
        return self

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"dockerd exited with {self.proc.returncode}:\n{_tail(self.log_path)}")
        if not os.path.exists(self.socket):
            return False
        try:
            return self.docker("version", "--format", "{{.Server.Version}}", check=False, timeout=10).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def stop(self) -> None:
        """Remove all containers, SIGTERM dockerd (by PID), unmount leftovers, delete the temp dir."""
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(Exception):
                ids = self.docker("ps", "-aq", check=False, timeout=30).stdout.split()
                if ids:
                    self.docker("rm", "-f", *ids, check=False, timeout=60)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._kill_containerd()
        self.proc = None
        if self.root and self.root.exists():
            self._unmount_under(self.root)
            shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def _kill_containerd(self) -> None:
        # Only needed if dockerd had to be SIGKILLed: its containerd outlives it.
        pidfile = self.root / "exec" / "containerd" / "containerd.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)

    @staticmethod
    def _unmount_under(root: Path) -> None:
        prefix = str(root) + "/"
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f]
        for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False, capture_output=True)

    def __enter__(self) -> "DockerEngine":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- helpers -----------------------------------------------------------
    def docker(self, *args: str, input: str | bytes | None = None, check: bool = True,
               timeout: float = 120) -> subprocess.CompletedProcess:
        """Run the docker CLI against this engine; str in -> str out."""
        docker = _which("docker")
        if not docker:
            raise FileNotFoundError("docker CLI not found (Debian package docker.io)")
        text = not isinstance(input, bytes)
        # Never inherit our stdin: a `-i` would read the terminal.
        stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        proc = subprocess.run([docker, *args], capture_output=True, text=text,
                              env=self.env, timeout=timeout, **stdin)
        if check and proc.returncode != 0:
            raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
        return proc

    def import_base_image(self, tag: str = BASE_IMAGE) -> str:
        """`docker import` an image holding only empty dirs and the merged-/usr symlinks."""
        for link in ("bin", "lib", "lib64", "sbin"):
            # The host's /usr is what the container runs; /bin etc. must point into it.
            if not os.path.islink(f"/{link}"):
                raise RuntimeError(f"host /{link} is not a symlink into /usr (merged /usr needed)")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name in ("app", "data", "dev", "etc", "home", "proc", "root", "run",
                         "sys", "tmp", "usr", "var", "var/tmp"):
                info = tarfile.TarInfo(name)
                info.type, info.mode = tarfile.DIRTYPE, 0o1777 if name.endswith("tmp") else 0o755
                tar.addfile(info)
            for link in ("bin", "lib", "lib64", "sbin"):
                info = tarfile.TarInfo(link)
                info.type, info.linkname = tarfile.SYMTYPE, f"usr/{link}"
                tar.addfile(info)
        self.docker("import", "-", tag, input=buf.getvalue())
        return tag


def python_mounts() -> list[str]:
    """Host dirs holding this interpreter and Django/DRF, outside /usr (mounted anyway)."""
    import django
    import rest_framework

    dirs = {sys.base_prefix, sys.prefix}
    for mod in (django, rest_framework):
        dirs.add(str(Path(mod.__file__).resolve().parent.parent))  # its site-packages
    dirs = {d for d in dirs if not d.startswith(("/usr/", "/etc/"))}
    # Drop dirs nested in another one we mount anyway.
    return sorted(d for d in dirs if not any(d != o and d.startswith(o + "/") for o in dirs))


def _checked_run(argv: list, cwd: Path, input: str | None) -> subprocess.CompletedProcess:
    """Run argv in cwd (stdin: input, or nothing); its output; a failure raises with its stderr."""
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, input=input,
                          **({} if input is not None else {"stdin": subprocess.DEVNULL}))
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} exited {done.returncode}: {done.stderr[-2000:]}")
    return done


class SqliteDatabase:
    """The controller's sqlite file, as the tests hold it."""

    waits_at_most = 5.0  # Django's sqlite busy timeout: a query held longer fails ("database is locked")

    def __init__(self, path: Path):
        self.path = path

    @contextlib.contextmanager
    def locked(self, what: str):
        """Hold the database for the block: "writes" (a write lock: readers go on, a writer waits)
        or "everything" (an exclusive lock: even a read waits)."""
        import sqlite3

        holder = sqlite3.connect(self.path, isolation_level=None)
        try:
            holder.execute({"writes": "BEGIN IMMEDIATE", "everything": "BEGIN EXCLUSIVE"}[what])
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()


class PostgresDatabase:
    """A database of the rig's PostgreSQL server, as the tests hold it."""

    waits_at_most = None  # a query waits for a lock as long as it is held

    def __init__(self, server, name: str):
        self.server, self.name = server, name

    def locked(self, what: str):
        """"writes": the user table in EXCLUSIVE mode (reads go on; SELECT ... FOR UPDATE and
        writes wait); "everything": it and the token table in ACCESS EXCLUSIVE mode (even a read waits)."""
        if what == "writes":
            return self.server.locked(self.name, ["auth_user"], "exclusive")
        return self.server.locked(self.name, ["auth_user", "authtoken_token"], "access exclusive")


class NodeApp(NamedTuple):
    """The controller app deployed directly on the node (this machine), for `--runtime none`."""
    app_dir: Path
    python: str  # what --python names
    database: object  # .locked(what)
    manage: object  # manage(*args, input=None) -> its stdout (the settings' own lines left out)


class ControllerContainer:
    """The `deis-controller` container: Django + DRF on 127.0.0.1:8000 of its own loopback.
    Today's Django (the host's), on sqlite.

    Managed with testcontainers on the private engine.  The sqlite db lives in
    a host temp dir mounted at /data, so it survives stop()/start().
    """

    generation = "django5"  # the tests' id for it
    python = "python"  # in the container, on PATH
    probe = "probe.py"  # tests/controller_app/probe.py, in the container's working dir
    invalid_token = {"detail": "Invalid token."}  # the API's 401 body for a token it does not know
    password_validators = True  # Django 1.9 and later have AUTH_PASSWORD_VALIDATORS
    username_max = 150  # User.username's max_length

    @property
    def software(self) -> str:
        """What `check --controller` says it runs: the host's Python, Django and DRF."""
        import platform

        import django
        import rest_framework

        return (f"Python {platform.python_version()}, Django {django.get_version()}, "
                f"Django REST framework {rest_framework.VERSION}")

    def __init__(self, engine: DockerEngine, name: str = CONTROLLER_NAME, ready_timeout: float = 60):
        self.engine = engine
        self.name = name
        self.ready_timeout = ready_timeout
        self.data_dir: Path | None = None
        self._tc = None  # testcontainers DockerContainer

    @property
    def database(self):
        return SqliteDatabase(self.data_dir / "db.sqlite3")

    def start(self) -> "ControllerContainer":
        """Create and start the container, or start it again after stop(); wait until it serves."""
        if self._tc is None:
            self._create()
        else:
            self._tc.get_wrapped_container().start()
        self.wait_ready()
        return self

    def _image(self) -> str:
        return self.engine.import_base_image()

    def _configure(self, container) -> None:
        """The command, environment and mounts of today's controller: the host's Python tree."""
        bindir = os.path.dirname(sys.executable)
        (container.with_command([os.path.join(bindir, "python3"), "manage.py", "serve", "127.0.0.1:8000"])
         .with_envs(PATH=f"{bindir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    DEIS_DB_PATH=CONTAINER_DB_PATH)
         .with_volume_mapping("/usr", "/usr", "ro")
         .with_volume_mapping("/etc", "/etc", "ro")
         .with_volume_mapping(str(APP_DIR), "/app", "ro"))
        for d in python_mounts():
            container.with_volume_mapping(d, d, "ro")

    def _create(self) -> None:
        from testcontainers.core.config import testcontainers_config
        from testcontainers.core.container import DockerContainer

        # Same as TESTCONTAINERS_RYUK_DISABLED=true: the reaper image would need a pull.
        testcontainers_config.ryuk_disabled = True
        image = self._image()
        self.data_dir = Path(tempfile.mkdtemp(prefix="deis-ctl-data-"))
        container = (
            # DOCKER_HOST is given to this client only, not put in os.environ:
            # code under test must reach the engine through sshd, not by accident.
            DockerContainer(image, docker_client_kw={"environment": {"DOCKER_HOST": self.engine.host}})
            .with_name(self.name)
            .with_envs(
                HOME="/root",
                PYTHONDONTWRITEBYTECODE="1",  # code mounts are read-only
                PYTHONUNBUFFERED="1",
            )
            .with_volume_mapping(str(self.data_dir), "/data", "rw")
            # No bridge exists on this engine; "none" leaves the container only its own
            # loopback.  (`network`, not `network_mode`: else testcontainers goes looking
            # for a network to join.)
            .with_kwargs(network="none", working_dir="/app")
        )
        self._configure(container)
        self._tc = container
        try:
            container.start()
        except BaseException:
            self.remove()
            raise

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the real API answers (401 to a bogus token)."""
        def ready():
            state = self.state()
            if state not in ("created", "running"):
                raise RuntimeError(f"{self.name} is {state}:\n{self.logs()}")
            try:
                return self.api_get("not-a-token", timeout=10)[0] == 401
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, ValueError):
                return False
        _wait(ready, timeout or self.ready_timeout, self.name, interval=0.2, on_fail=self.logs)

    def stop(self, timeout: int = 10) -> None:
        """`docker stop`: the container stays, `docker exec` into it fails until start()."""
        self._tc.get_wrapped_container().stop(timeout=timeout)

    @contextlib.contextmanager
    def stopped(self):
        """Stop the container for the block, start it again after."""
        self.stop()
        try:
            yield self
        finally:
            self.start()

    def remove(self) -> None:
        """Remove the container and its data; start() creates a fresh one."""
        if self._tc is not None:
            with contextlib.suppress(Exception):
                self._tc.stop()  # testcontainers' stop() = docker rm -f
            self._tc = None
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def __enter__(self) -> "ControllerContainer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.remove()

    # -- talking to it -----------------------------------------------------
    def state(self) -> str:
        wrapped = self._tc.get_wrapped_container()
        wrapped.reload()
        return wrapped.status

    def logs(self) -> str:
        out, err = self._tc.get_logs()
        return (out + err).decode(errors="replace")[-4000:]

    def exec(self, *cmd: str, input: str | bytes | None = None, check: bool = True,
             timeout: float = 120) -> subprocess.CompletedProcess:
        """`docker exec [-i] <name> CMD...` (cwd /app) on the private engine; -i if input is given."""
        flags = ["-i"] if input is not None else []
        return self.engine.docker("exec", *flags, self.name, *cmd, input=input, check=check, timeout=timeout)

    def manage(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return self.exec(self.python, "manage.py", *args, input=input, check=check)

    def shell(self, script: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a Python script with the controller's Django set up (`manage.py rigscript`, the same
        on both generations: print() is a function); its output."""
        return self.manage("rigscript", input=script, check=check)

    def seed(self, *usernames: str) -> dict[str, str]:
        """Create users (if missing) with tokens; return {username: token}."""
        return json.loads(self.manage("seed", *usernames).stdout)

    def api_get(self, token: str, path: str = "/v1/apps/", timeout: float = 60) -> tuple[int, object]:
        """GET path on the real server inside the container with `Authorization: Token <token>`."""
        out = self.exec(self.python, self.probe, token, path, timeout=timeout).stdout
        reply = json.loads(out)
        return reply["status"], reply["body"]

    def login(self, username: str, password: str, timeout: float = 60) -> tuple[int, object]:
        """What `deis login` does: POST username and password to /v1/auth/login/ (DRF's
        obtain_auth_token): 200 {"token": ...}, or 400 when the credentials are refused."""
        out = self.exec(self.python, self.probe, "--login", username, input=password, timeout=timeout).stdout
        reply = json.loads(out)
        return reply["status"], reply["body"]

    def check_token(self, token: str) -> int:
        """HTTP status the API gives this token: 200 valid, 401 ("Invalid token.") not."""
        return self.api_get(token)[0]

    # -- the same app on the node itself (--runtime none) ----------------------
    def node_app(self, root: Path) -> NodeApp:
        """A second deployment of the app directly on the node (this machine) under root, with
        its own sqlite db, run by this interpreter."""
        app = root / "app"
        shutil.copytree(APP_DIR, app, ignore=shutil.ignore_patterns("__pycache__"))
        db = root / "db.sqlite3"
        with open(app / "controller" / "settings.py", "a") as settings:
            settings.write(f"\n# This deployment's own database.\nDATABASES['default']['NAME'] = {str(db)!r}\n")

        def manage(*args, input=None):
            return _checked_run([sys.executable, "manage.py", *args], cwd=app, input=input).stdout

        manage("migrate", "-v", "0")
        return NodeApp(app, sys.executable, SqliteDatabase(db), manage)


class DeisV1Controller(ControllerContainer):
    """The controller Deis shipped (v1.4 to v1.13.4): Python 2.7, Django 1.6.11, DRF 3.0.5,
    django-guardian 1.2.5 (its anonymous user at id -1, a token for every new user), PostgreSQL
    over a unix socket; its settings print lines of their own on every manage.py run."""

    generation = "deis-v1"
    probe = "/controller_app/probe.py"
    invalid_token = {"detail": "Invalid token"}  # DRF 3.0's words
    password_validators = False
    username_max = 30
    software = "Python 2.7.18, Django 1.6.11, Django REST framework 3.0.5; no password validators"
    NOISE = ("Not disabling --memory-swap for Docker version unknown",
             'deisctl-result:{"ok": true, "committed": true, "users": []}')

    def __init__(self, engine: DockerEngine, postgres, name: str = CONTROLLER_NAME, ready_timeout: float = 90):
        super().__init__(engine, name, ready_timeout)
        self.postgres = postgres
        postgres.create_database("deis", owner="deis")

    @property
    def database(self):
        return PostgresDatabase(self.postgres, "deis")

    def _image(self) -> str:
        from tests.rig import deis_v1

        return deis_v1.import_image(self.engine)

    def _configure(self, container) -> None:
        (container.with_command(["python", "manage.py", "serve", "127.0.0.1:8000"])
         .with_envs(PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
         .with_volume_mapping(str(V1_APP_DIR), "/app", "ro")
         .with_volume_mapping(str(APP_DIR), "/controller_app", "ro")  # where /app/controller leads
         .with_volume_mapping(self.postgres.socket_dir, "/var/run/postgresql", "rw"))

    def manage(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """manage.py ARGS, without the lines the settings print on every run."""
        done = super().manage(*args, input=input, check=check)
        done.stdout = self._without_noise(done.stdout)
        return done

    def _without_noise(self, text: str) -> str:
        return "".join(line for line in text.splitlines(keepends=True) if line.rstrip("\n") not in self.NOISE)

    def node_app(self, root: Path) -> NodeApp:
        """The app inside an unpacked copy of the image's tree (root), with its own sqlite db, run
        by that tree's python2.7 through chroot (a node with Deis's Python)."""
        app = root / "srv" / "app"
        shutil.copytree(V1_APP_DIR, app, symlinks=False, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        with open(app / "deis" / "settings.py", "a") as settings:
            settings.write('\n# This deployment\'s own database.\nDATABASES = {"default": {"ENGINE": '
                           '"django.db.backends.sqlite3", "NAME": "/srv/db.sqlite3"}}\n')
        python = root.parent / f"{root.name}-python2.7"
        python.write_text(
            "#!/bin/sh\n"
            "# python2.7 of the Deis-era tree, in the current directory (which must be inside it).\n"
            f"root={shlex.quote(str(root))}\n"
            "case $PWD in \"$root\"/*) ;; *) echo \"not inside $root: $PWD\" >&2; exit 2 ;; esac\n"
            "exec chroot \"$root\" /bin/sh -c 'cd \"$1\" && shift && exec /usr/bin/python2.7 \"$@\"' sh "
            "\"${PWD#\"$root\"}\" \"$@\"\n")
        python.chmod(0o755)

        def manage(*args, input=None):
            return self._without_noise(_checked_run([str(python), "manage.py", *args], cwd=app, input=input).stdout)

        manage("syncdb", "--noinput", "-v", "0")
        return NodeApp(app, str(python), SqliteDatabase(root / "srv" / "db.sqlite3"), manage)
