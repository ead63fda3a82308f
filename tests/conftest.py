"""Shared fixtures: real etcd servers and a runner for the real CLI.

`cli(...)` runs the real command tree in-process through deisctl's own boundary
(`deisctl.cli.app.run`, with the streams and environment injected: fast, exact
stdout/stderr/exit code); `run_deisctl(...)` runs the installed executable.
State is always checked with etcdctl, an independent client.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from tests.rig.cli import deisctl_command
from tests.rig.etcd import EtcdCluster, make_tls

pytest_plugins = ["tests.plugins.remote_rig", "tests.plugins.ansible"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No DEISCTL_* from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("DEISCTL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DEISCTL_CONFIG", str(tmp_path / "no-such-config.yaml"))
    # The audit trail's anchors (deisctl.anchors) go to the test's own folder, not the developer's.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def audited_by_the_test_etcd(monkeypatch, etcd_server):
    """For tests of the controller's users: their changes are recorded in the single test
    server's audit trail (DEISCTL_ENDPOINTS), as they would be in the cluster's."""
    monkeypatch.setenv("DEISCTL_ENDPOINTS", etcd_server.endpoints)


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str


def _stream(data: bytes = b""):
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="backslashreplace", write_through=True)


@pytest.fixture
def cli():
    from deisctl.cli.app import run

    def invoke(*args: str, env: dict | None = None, input: str | None = None) -> Outcome:
        full_env = dict(os.environ)
        full_env.update(env or {})
        stdin, stdout, stderr = _stream((input or "").encode()), _stream(), _stream()
        code = run(list(args), env=full_env, stdin=stdin, stdout=stdout, stderr=stderr)
        return Outcome(code, stdout.buffer.getvalue().decode("utf-8", "replace"),
                       stderr.buffer.getvalue().decode("utf-8", "replace"))

    return invoke


@pytest.fixture
def dctl(cli, etcd):
    """The in-process CLI pointed at the single-node test etcd."""

    def run(*args: str, env: dict | None = None, input: str | None = None) -> Outcome:
        return cli("--endpoints", etcd.endpoints, *args, env=env, input=input)

    return run


@pytest.fixture
def client(etcd):
    """deisctl.api clients of the single-node test etcd: client(**options); `before_txn(index,
    total)` runs before each guarded transaction is sent (another writer, between read and write)."""
    from deisctl import api
    from deisctl.etcd.client import Store

    def make(*, before_txn=None, **options):
        stores = None if before_txn is None else (lambda settings, **kw: Store(settings, before_txn=before_txn, **kw))
        return api.Client(endpoints=etcd.endpoints, stores=stores, **options)

    return make


@pytest.fixture(scope="session")
def run_deisctl():
    def run(*args: str, env: dict | None = None, input: str | None = None, timeout: float = 60) -> Outcome:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
        full_env.update(env or {})
        proc = subprocess.run(deisctl_command() + list(args), capture_output=True, text=True, env=full_env,
                              input=input, timeout=timeout)
        return Outcome(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture(scope="session")
def etcd_server():
    with EtcdCluster(1, name="single") as cluster:
        yield cluster


@pytest.fixture
def etcd(etcd_server):
    """The single-node server, emptied before each test."""
    etcd_server.wipe()
    return etcd_server


@pytest.fixture(scope="session")
def etcd_cluster():
    with EtcdCluster(3, name="member") as cluster:
        yield cluster


@pytest.fixture
def cluster(etcd_cluster):
    """The 3-member cluster, emptied, with every member running again afterwards."""
    etcd_cluster.wipe()
    yield etcd_cluster
    for index, member in enumerate(etcd_cluster.members):
        if not member.alive:
            etcd_cluster.restart(index)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    return make_tls(tmp_path_factory.mktemp("tls"))
