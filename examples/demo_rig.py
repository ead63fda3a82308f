"""The throwaway servers behind examples/demo.sh, from the test suite's own rig (tests/rig).

    python demo_rig.py up STATE_DIR --etcd BIN [--runtime auto|docker|none]
        Starts etcd on loopback and writes STATE_DIR/etcd.env; then the controller: the Django/DRF
        app (tests/controller_app) in a container of a private dockerd, reached through a local
        sshd (--runtime docker), or, when no container engine can be started, the same app run by
        this Python under that sshd (--runtime none). Seeds the users bob and john, writes
        STATE_DIR/rig.env (DEMO_FAILED says why when there is no controller) and waits. On SIGTERM,
        SIGINT, SIGHUP or when its parent (demo.sh) is gone, stops every server by PID and removes
        its dirs.
    python demo_rig.py api STATE_DIR TOKEN          GET /v1/apps/ with the token: `HTTP 401 {...}`
    python demo_rig.py new-token STATE_DIR USER     the app issues USER a token; prints it

Run with the project venv's Python (it has Django, DRF and testcontainers, the test extras).
Everything listens on 127.0.0.1 or a unix socket; the container has no network but its loopback.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests/rig is not installed; it lives in the checkout

from tests.rig.docker_engine import APP_DIR, ControllerContainer, DockerEngine  # noqa: E402
from tests.rig.ports import free_port  # noqa: E402
from tests.rig.process import stop_process  # noqa: E402
from tests.rig.sshd import SSHD, SSHServer  # noqa: E402

USERS = ("bob", "john")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Stop(BaseException):
    """A stop signal: unwinds start-up or the wait, so every `finally` and callback runs."""


def _raise_stop(signum, _frame):
    for sig in STOP_SIGNALS:  # a second signal must not cut the teardown short
        signal.signal(sig, signal.SIG_IGN)
    raise Stop(signum)


def write_env(path: Path, values: dict) -> None:
    """Shell assignments (lists become bash arrays), written whole: the shell polls for the file."""
    lines = []
    for name, value in values.items():
        if isinstance(value, (list, tuple)):
            lines.append(f"{name}=({' '.join(shlex.quote(str(v)) for v in value)})")
        else:
            lines.append(f"{name}={shlex.quote(str(value))}")
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)


def which(binary: str) -> str | None:
    # /usr/sbin may be missing from PATH; the rig looks there too.
    return shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin:/sbin:/bin")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].rstrip(":")  # the details (a log tail) are in the rig's log


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f}s")
        time.sleep(0.1)


def app_env(db_path: str) -> dict:
    """Environment of the app run directly on the node (--runtime none)."""
    return {"DEIS_DB_PATH": db_path, "PYTHONDONTWRITEBYTECODE": "1"}  # the checkout stays clean


def probe(state: dict, token: str) -> tuple[int, object]:
    """tests/controller_app/probe.py next to the API: in the container, or on this machine."""
    if state["runtime"] == "docker":
        cmd = [which("docker") or "docker", "exec", state["container"], "python", "probe.py", token]
        env = dict(os.environ, DOCKER_HOST=state["docker_host"])
    else:
        cmd = [sys.executable, "probe.py", token, "/v1/apps/", state["api"]]
        env = dict(os.environ, **app_env(state["db"]))
    out = subprocess.run(cmd, cwd=APP_DIR, env=env, capture_output=True, text=True, check=True, timeout=60,
                         stdin=subprocess.DEVNULL).stdout
    reply = json.loads(out)
    return reply["status"], reply["body"]


def manage(state: dict, *args: str) -> str:
    """`python manage.py ARGS` of the app: `docker exec` into the container, or on this machine."""
    if state["runtime"] == "docker":
        cmd = [which("docker") or "docker", "exec", state["container"], "python", "manage.py", *args]
        env = dict(os.environ, DOCKER_HOST=state["docker_host"])
    else:
        cmd = [sys.executable, "manage.py", *args]
        env = dict(os.environ, **app_env(state["db"]))
    return subprocess.run(cmd, cwd=APP_DIR, env=env, capture_output=True, text=True, check=True, timeout=120,
                          stdin=subprocess.DEVNULL).stdout


# -- start-up ------------------------------------------------------------------------------------


def start_etcd(stack: contextlib.ExitStack, etcd_bin: str):
    os.environ["ETCD_BIN"] = etcd_bin  # read by tests.rig.etcd at import
    from tests.rig.etcd import EtcdCluster

    cluster = EtcdCluster(1, name="demo")
    stack.callback(cluster.stop)  # registered first: a failed start still stops what it started
    cluster.start()
    return cluster


def start_docker(stack: contextlib.ExitStack) -> dict:
    """The container mode; raises (after undoing its part) when no engine can be started."""
    if os.geteuid() != 0:
        raise RuntimeError("a private dockerd needs root")
    for binary, package in (("dockerd", "docker.io"), ("docker", "docker.io")):
        if not which(binary):
            raise RuntimeError(f"`{binary}` is not installed (Debian package {package})")
    engine = DockerEngine(start_timeout=30)
    stack.callback(engine.stop)
    engine.start()
    controller = ControllerContainer(engine, ready_timeout=60)
    stack.callback(controller.remove)
    controller.start()
    container_pid = engine.docker("inspect", "-f", "{{.State.Pid}}", controller.name).stdout.strip()
    ssh = SSHServer(env={"DOCKER_HOST": engine.host})  # remote `docker` reaches the private engine
    stack.callback(ssh.stop)
    ssh.start()
    tokens = controller.seed(*USERS)
    return {
        "runtime": "docker", "docker_host": engine.host, "container": controller.name, "ssh": ssh,
        "tokens": tokens, "pids": [engine.pid, int(container_pid), ssh.pid],
        "dirs": [str(engine.root), str(controller.data_dir), str(ssh.root)],
        "describe": f"the Django/DRF controller in container {controller.name} of a private dockerd "
                    f"(pid {engine.pid}, {engine.host}, no network but its loopback)",
        "flags": {}, "why": "",
    }


def start_none(stack: contextlib.ExitStack) -> dict:
    """--runtime none: the same app run by this Python under the local sshd, its own sqlite db."""
    data = Path(tempfile.mkdtemp(prefix="deis-demo-app-"))
    stack.callback(shutil.rmtree, data, True)
    db = str(data / "db.sqlite3")
    api = f"127.0.0.1:{free_port()}"
    with open(data / "server.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "manage.py", "serve", api], cwd=APP_DIR,
                                  env=dict(os.environ, PYTHONUNBUFFERED="1", **app_env(db)),
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)  # a Ctrl-C reaches demo.sh, which stops us in order
    stack.callback(stop_process, server)
    state = {"runtime": "none", "api": api, "db": db}

    def ready() -> bool:
        if server.poll() is not None:
            raise RuntimeError(f"the app exited: {(data / 'server.log').read_text(errors='replace')[-2000:]}")
        try:
            return probe(state, "not-a-token")[0] == 401
        except (subprocess.CalledProcessError, ValueError):
            return False

    _wait(ready, 60, "the controller app")
    tokens = json.loads(manage(state, "seed", *USERS))
    ssh = SSHServer(env=app_env(db))  # manage.py run over SSH finds the same db
    stack.callback(ssh.stop)
    ssh.start()
    return dict(state, ssh=ssh, tokens=tokens, pids=[server.pid, ssh.pid], dirs=[str(data), str(ssh.root)],
                describe=f"the same Django/DRF app run by {sys.executable} on this machine "
                         f"(pid {server.pid}, http://{api}), manage.py reached over SSH",
                flags={"DEISCTL_RUNTIME": "none", "DEISCTL_APP_DIR": str(APP_DIR), "DEISCTL_PYTHON": sys.executable})


def locked_account(user: str) -> bool:
    """sshd without PAM refuses every login, keys included, to an account whose password is '!...'."""
    try:
        with open("/etc/shadow") as shadow:
            return any(line.split(":")[0] == user and line.split(":")[1].startswith("!") for line in shadow)
    except (OSError, IndexError):
        return False


def start_controller(stack: contextlib.ExitStack, runtime: str) -> dict:
    if not os.path.exists(SSHD) or not which("ssh-keygen"):
        raise RuntimeError(f"{SSHD} or ssh-keygen is not installed (Debian package openssh-server)")
    user = pwd.getpwuid(os.getuid()).pw_name
    if locked_account(user):
        raise RuntimeError(f"sshd will not let {user} log in: the account is locked ('!' in /etc/shadow; "
                           f"`usermod -p '*' {user}` allows key logins without a password)")
    why = ""
    if runtime in ("auto", "docker"):
        attempt = contextlib.ExitStack()
        try:
            with attempt:
                rig = start_docker(attempt)
                stack.push(attempt.pop_all())  # keep it running; stopped with the rest
                return rig
        except Exception as exc:  # noqa: BLE001 - any failure of the engine means: use the fallback
            if runtime == "docker":
                raise
            why = f"no container engine could be started ({first_line(exc)}), so --runtime none"
    return dict(start_none(stack), why=why)


def up(state_dir: Path, etcd_bin: str, runtime: str) -> int:
    parent = os.getppid()
    for sig in STOP_SIGNALS:
        # demo.sh runs us in the background, where bash ignores SIGINT: its own Ctrl-C trap stops us
        # with SIGTERM, in order. Run alone in a terminal, Ctrl-C stops us directly.
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, _raise_stop)
    stack = contextlib.ExitStack()
    try:
        etcd = start_etcd(stack, etcd_bin)
        member = etcd.members[0]
        version = subprocess.run([etcd_bin, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        version = version.split(":")[-1].strip()  # "etcd Version: 3.5.17"
        write_env(state_dir / "etcd.env", {"DEMO_ENDPOINTS": etcd.endpoints, "DEMO_ETCD_PID": member.process.pid,
                                           "DEMO_ETCD_VERSION": version, "DEMO_ETCD_DIR": etcd.dir})
        pids, dirs = [member.process.pid], [str(etcd.dir)]
        try:
            rig = start_controller(stack, runtime)
        except Exception as exc:  # noqa: BLE001 - reported by demo.sh, which goes on without it
            print(f"controller part not started: {exc!r}", file=sys.stderr)
            rig = {"failed": first_line(exc), "pids": [], "dirs": []}
        values = {"DEMO_FAILED": rig.get("failed", ""), "DEMO_PIDS": " ".join(map(str, pids + rig["pids"])),
                  "DEMO_DIRS": " ".join(dirs + rig["dirs"])}
        if not values["DEMO_FAILED"]:
            ssh = rig.pop("ssh")
            node = {"DEISCTL_HOST": ssh.host, "DEISCTL_SSH_PORT": ssh.port, "DEISCTL_SSH_USER": ssh.user,
                    "DEISCTL_SSH_KEY": ssh.client_key, "DEISCTL_KNOWN_HOSTS": ssh.known_hosts, **rig.pop("flags")}
            tokens = rig.pop("tokens")
            (state_dir / "rig.json").write_text(json.dumps(rig))
            values.update(DEMO_RUNTIME=rig["runtime"], DEMO_WHY=rig["why"], DEMO_DESCRIBE=rig["describe"],
                          DEMO_SSHD=f"sshd pid {ssh.pid} on {ssh.host}:{ssh.port} (login {ssh.user} with its own key)",
                          DEMO_NODE=[f"{k}={v}" for k, v in node.items()], DEMO_TOKEN_BOB=tokens["bob"])
        write_env(state_dir / "rig.env", values)
        while os.getppid() == parent:
            time.sleep(0.2)
        # demo.sh is gone without stopping us (SIGKILL): nobody else will remove its dir either.
        stack.callback(shutil.rmtree, state_dir, True)
        return 0
    except Stop:
        return 0
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        stack.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up")
    p.add_argument("state_dir", type=Path)
    p.add_argument("--etcd", required=True)
    p.add_argument("--runtime", choices=("auto", "docker", "none"), default="auto")
    p = sub.add_parser("api")
    p.add_argument("state_dir", type=Path)
    p.add_argument("token")
    p = sub.add_parser("new-token")
    p.add_argument("state_dir", type=Path)
    p.add_argument("user")
    args = parser.parse_args(argv)
    if args.command == "up":
        return up(args.state_dir, args.etcd, args.runtime)
    state = json.loads((args.state_dir / "rig.json").read_text())
    if args.command == "api":
        status, body = probe(state, args.token)
        print(f"HTTP {status} {json.dumps(body)}")
        return 0
    # DRF's own command (the stand-in app has no login page): what `deis login` ends with.
    out = manage(state, "drf_create_token", args.user)  # "Generated token KEY for user USER"
    print(out.split()[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
