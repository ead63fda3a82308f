"""pytest plugin: a private Docker engine, the `deis-controller` container and an sshd.

Enable with `pytest_plugins = ["tests.plugins.remote_rig"]` in tests/conftest.py.
All fixtures are session-scoped and stop what they started.  They skip only
when the binaries they need are not installed.
"""
from __future__ import annotations

import os

import pytest

from tests.rig.docker_engine import ControllerContainer, DockerEngine, _which
from tests.rig.sshd import SSHD, SSHServer


def _require(binary: str, package: str) -> None:
    found = os.path.exists(binary) if binary.startswith("/") else _which(binary)
    if not found:
        pytest.skip(f"`{binary}` is not installed (Debian package {package})")


@pytest.fixture(scope="session")
def docker_engine():
    """DockerEngine: .host ("unix://..."), .socket, .env (os.environ + DOCKER_HOST), .docker(*args)."""
    _require("dockerd", "docker.io")
    _require("docker", "docker.io")
    with DockerEngine() as engine:
        yield engine


@pytest.fixture(scope="session")
def controller_container(docker_engine):
    """ControllerContainer named `deis-controller`, serving: .seed(*users) -> {user: token},
    .check_token(token) -> HTTP status, .api_get(token, path), .shell(script), .exec(*cmd),
    .stop(), .start(), .stopped() (context manager)."""
    with ControllerContainer(docker_engine) as controller:
        yield controller


@pytest.fixture(scope="session")
def sshd_server(docker_engine):
    """SSHServer whose sessions have DOCKER_HOST set to the private engine: .host, .port, .user,
    .client_key, .known_hosts, .host_key_fingerprint, .make_wrong_known_hosts(), .connect()."""
    _require(SSHD, "openssh-server")
    _require("ssh-keygen", "openssh-client")
    with SSHServer(env={"DOCKER_HOST": docker_engine.host}) as server:
        yield server
