"""`--tunnel [USER@]HOST[:PORT]` parsing, dock's argv, and paramiko's debug log switched on only
when the invocation asks (never from sys.argv or the environment)."""

from __future__ import annotations

import io
import logging

import pytest

from deisctl.errors import UsageError
from deisctl.ops.dock import command_argv
from deisctl.ssh import paramiko_loader
from deisctl.ssh.options import Address
from deisctl.ssh.tunnel import parse_tunnel


@pytest.mark.parametrize("spec, expected", [
    ("bastion", Address("bastion", 22)),
    ("core@bastion.example.com", Address("bastion.example.com", 22, "core")),
    ("core@bastion:2222", Address("bastion", 2222, "core")),
    ("10.0.0.1:22", Address("10.0.0.1", 22)),
    ("[::1]:2200", Address("::1", 2200)),
    ("u@[fe80::1]", Address("fe80::1", 22, "u")),
    ("::1", Address("::1", 22)),  # a bare IPv6 address: more than one ':' is never a port
    ("a@b@host", Address("host", 22, "a@b")),  # the last @ separates the user
])
def test_parse_tunnel(spec, expected):
    assert parse_tunnel(spec) == expected


@pytest.mark.parametrize("spec", ["", "root@", "@host", "host:", "host:x", "host:0", "host:70000", "-oProxy",
                                  "a b", "[::1]x", "[::1]:"])
def test_parse_tunnel_rejects(spec):
    with pytest.raises(UsageError, match="invalid --tunnel"):
        parse_tunnel(spec)


def test_address_labels():
    assert str(Address("h", 22, "core")) == "core@h:22"
    assert str(Address("::1", 2200)) == "[::1]:2200"


def test_dock_argv():
    assert command_argv("docker", "router", (), tty=False) == ["docker", "exec", "-i", "deis-router", "sh"]
    assert command_argv("podman", "controller", ("ls", "-l"), tty=True) == \
        ["podman", "exec", "-i", "-t", "deis-controller", "ls", "-l"]
    assert command_argv("none", "controller", ("hostname",), tty=True) == ["hostname"]


def test_debug_log_only_when_asked(monkeypatch):
    monkeypatch.setattr("sys.argv", ["deisctl", "dock", "controller", "grep", "--debug", "x"])
    monkeypatch.setenv("DEISCTL_DEBUG", "1")
    paramiko_loader.load_paramiko()
    logger = logging.getLogger("paramiko")
    assert logger.getEffectiveLevel() > logging.DEBUG
    assert not any(isinstance(h, logging.StreamHandler) for h in logger.handlers)

    stream = io.StringIO()
    paramiko_loader.set_debug(stream)
    try:
        logging.getLogger("paramiko.transport").debug("hello")
        assert stream.getvalue() == "debug: paramiko.transport: hello\n"
    finally:
        paramiko_loader.set_debug(None)
    logging.getLogger("paramiko.transport").debug("not shown")
    assert stream.getvalue().count("\n") == 1
    assert logger.getEffectiveLevel() > logging.DEBUG
