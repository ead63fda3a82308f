"""pytest plugin: a private Docker engine, the `deis-controller` container and an sshd; and the
same again with the controller Deis shipped (Python 2.7, Django 1.6, PostgreSQL).

Enable with `pytest_plugins = ["tests.plugins.remote_rig"]` in tests/conftest.py.
All fixtures are session-scoped and stop what they started.  They skip only
when the binaries they need are not installed.

A test module runs on every controller generation with `on_every_controller()`:
its `docker_engine`, `sshd_server`, `controller_container` and `node_app` then come
from `controller_rig`, parametrised over GENERATIONS (test ids `[django5]`, `[deis-v1]`).
"""
from __future__ import annotations

import os
from typing import NamedTuple

import pytest

from tests.rig.docker_engine import ControllerContainer, DeisV1Controller, DockerEngine, _which
from tests.rig.sshd import SSHD, SSHServer

GENERATIONS = (ControllerContainer.generation, DeisV1Controller.generation)


def _require(binary: str, package: str) -> None:
    found = os.path.exists(binary) if binary.startswith("/") else _which(binary)
    if not found:
        pytest.skip(f"`{binary}` is not installed (Debian package {package})")


# The rig of today's controller, each part started when first asked for. The `current_*` names
# are what controller_rig uses; the plain names may be overridden by a module (on_every_controller).
@pytest.fixture(scope="session")
def current_engine():
    _require("dockerd", "docker.io")
    _require("docker", "docker.io")
    with DockerEngine() as engine:
        yield engine


@pytest.fixture(scope="session")
def current_controller(current_engine):
    with ControllerContainer(current_engine) as controller:
        yield controller


@pytest.fixture(scope="session")
def current_sshd(current_engine):
    _require(SSHD, "openssh-server")
    _require("ssh-keygen", "openssh-client")
    with SSHServer(env={"DOCKER_HOST": current_engine.host}) as server:
        yield server


@pytest.fixture(scope="session")
def docker_engine(current_engine):
    """DockerEngine: .host ("unix://..."), .socket, .env (os.environ + DOCKER_HOST), .docker(*args)."""
    return current_engine


@pytest.fixture(scope="session")
def controller_container(current_controller):
    """ControllerContainer named `deis-controller`, serving: .seed(*users) -> {user: token},
    .check_token(token) -> HTTP status, .api_get(token, path), .shell(script), .exec(*cmd),
    .stop(), .start(), .stopped() (context manager), .database.locked(what)."""
    return current_controller


@pytest.fixture(scope="session")
def sshd_server(current_sshd):
    """SSHServer whose sessions have DOCKER_HOST set to the private engine: .host, .port, .user,
    .client_key, .known_hosts, .host_key_fingerprint, .make_wrong_known_hosts(), .connect()."""
    return current_sshd


class ControllerRig(NamedTuple):
    """A node (sshd whose sessions reach `engine`) running one generation's controller."""
    engine: DockerEngine
    sshd: SSHServer
    controller: ControllerContainer


@pytest.fixture(scope="session")
def deis_v1_rig():
    """The controller Deis shipped, in an engine of its own (its container is `deis-controller`
    too) behind an sshd of its own, on a PostgreSQL server of its own."""
    from tests.rig.postgres import PostgresServer, server_binaries

    for binary, package in (("dockerd", "docker.io"), ("docker", "docker.io"), (SSHD, "openssh-server"),
                            ("debootstrap", "debootstrap"), ("psql", "postgresql-client")):
        _require(binary, package)
    if server_binaries() is None:
        pytest.skip("no PostgreSQL server is installed (Debian package postgresql)")
    with PostgresServer() as postgres, DockerEngine() as engine, DeisV1Controller(engine, postgres) as controller, \
            SSHServer(env={"DOCKER_HOST": engine.host}) as sshd:
        yield ControllerRig(engine, sshd, controller)


@pytest.fixture(scope="session", params=GENERATIONS)
def controller_rig(request) -> ControllerRig:
    if request.param == DeisV1Controller.generation:
        return request.getfixturevalue("deis_v1_rig")
    return ControllerRig(request.getfixturevalue("current_engine"), request.getfixturevalue("current_sshd"),
                         request.getfixturevalue("current_controller"))


@pytest.fixture(scope="session")
def node_deployment(controller_rig, tmp_path_factory):
    """NodeApp: the rig's controller app deployed on the node itself (this machine) for
    `--runtime none`: .app_dir, .python (for --python), .database, .manage(*args) -> stdout. For
    Deis v1, inside an unpacked copy of its image's tree, run through chroot."""
    if isinstance(controller_rig.controller, DeisV1Controller):
        from tests.rig import deis_v1

        with deis_v1.unpacked_root() as root:
            yield controller_rig.controller.node_app(root)
    else:
        yield controller_rig.controller.node_app(tmp_path_factory.mktemp("node-app"))


def on_every_controller():
    """Fixtures that make the calling module run on every generation: assign the result at module
    level (`docker_engine, sshd_server, controller_container, node_app = on_every_controller()`)."""
    return (pytest.fixture(name="docker_engine")(lambda controller_rig: controller_rig.engine),
            pytest.fixture(name="sshd_server")(lambda controller_rig: controller_rig.sshd),
            pytest.fixture(name="controller_container")(lambda controller_rig: controller_rig.controller),
            pytest.fixture(name="node_app")(lambda node_deployment: node_deployment))
