"""SSH option checks and the one precedence rule: flag > DEISCTL_<NAME> > context > default,
for the node options (users, dock, check --controller) and the bastion login (--tunnel)."""

from __future__ import annotations

import io
import os

import pytest

from deisctl.errors import UsageError
from deisctl.invocation import Invocation
from deisctl.node import resolve as resolve_node
from deisctl.settings import Settings
from deisctl.ssh import options
from deisctl.ssh.options import SSHOptions, bastion_options, check_host, from_values, resolve, ssh_options


def test_flag_beats_env_beats_context():
    names = ("ssh_user", "ssh_port", "ssh_key", "known_hosts")
    env = {"DEISCTL_SSH_USER": "env-user", "DEISCTL_SSH_PORT": "2200", "DEISCTL_SSH_KEY": ""}
    context = {"ssh_user": "ctx-user", "ssh_port": 22, "ssh_key": "/ctx/key"}
    values = resolve(names, [{"ssh_user": "flag-user", "ssh_port": None}], env, context)
    assert values == {"ssh_user": "flag-user", "ssh_port": "2200", "ssh_key": "/ctx/key", "known_hosts": None}


def test_later_flag_layers_win_and_none_means_not_given():
    layers = [{"host": "group-host", "ssh_user": "group-user"}, {"host": "sub-host", "ssh_user": None}]
    assert resolve(("host", "ssh_user"), layers, {}, {}) == {"host": "sub-host", "ssh_user": "group-user"}


def test_defaults_and_validation():
    assert from_values({}) == SSHOptions()
    opts = from_values({"ssh_user": "core", "ssh_port": "2222", "ssh_key": "~/k", "ssh_timeout": "2.5",
                        "strict_host_key_checking": "Accept-New"}, env={"HOME": "/home/op"})
    assert (opts.port, opts.timeout, opts.strict_host_key_checking) == (2222, 2.5, "accept-new")
    # ~ is the invocation's HOME, not the process's
    assert opts.key_file == "/home/op/k"
    assert opts.known_hosts_path == "/home/op/.ssh/known_hosts"
    assert opts.default_key_files[0] == "/home/op/.ssh/id_ed25519"
    assert SSHOptions().known_hosts_path == os.path.expanduser("~/.ssh/known_hosts")
    assert SSHOptions().extra_known_hosts == (options.GLOBAL_KNOWN_HOSTS,)
    assert SSHOptions(known_hosts="/k").extra_known_hosts == ()


@pytest.mark.parametrize("values, fragment", [
    ({"ssh_port": "x"}, "--ssh-port must be a number"),
    ({"ssh_port": "0"}, "invalid --ssh-port 0"),
    ({"ssh_port": 70000}, "invalid --ssh-port"),
    ({"ssh_timeout": "soon"}, "--ssh-timeout must be a number"),
    ({"ssh_timeout": "0"}, "--ssh-timeout must be a positive"),
    ({"ssh_user": "-oProxyCommand=x"}, "invalid --ssh-user"),
    ({"ssh_user": "a@b"}, "invalid --ssh-user"),
    ({"strict_host_key_checking": "no"}, "--strict-host-key-checking"),
])
def test_bad_values_are_usage_errors(values, fragment):
    with pytest.raises(UsageError, match=fragment.replace("-", r"\-")):
        from_values(values)


def test_bastion_login_from_env_then_context():
    context = {"ssh_user": "ctx", "ssh_key": "/ctx/key", "ssh_port": 2201, "known_hosts": "/ctx/kh",
               "endpoints": "http://x:1"}
    opts = bastion_options({"DEISCTL_SSH_USER": "envuser", "DEISCTL_STRICT_HOST_KEY_CHECKING": "accept-new",
                            "DEISCTL_SSH_TIMEOUT": "3"}, context)
    assert opts == SSHOptions("envuser", 2201, "/ctx/key", "/ctx/kh", "accept-new", 3.0)
    assert bastion_options({}, {}) == ssh_options()


@pytest.mark.parametrize("host, expected", [("node1", "node1"), (" 10.0.0.5\n", "10.0.0.5"), ("[::1]", "::1"),
                                            ("fe80::1", "fe80::1")])
def test_check_host(host, expected):
    assert check_host(host, "--host") == expected


@pytest.mark.parametrize("host", ["", "-oProxyCommand=x", "a b", "a;b", "$(x)", "a/b", "u@h", "`x`", "'h'",
                                  "10.0.0.1\x1b]0;pwned\x07", "host\x01x", "a\u202eb", "a\x00b"])
def test_check_host_rejects(host):
    with pytest.raises(UsageError, match="invalid host"):
        check_host(host, "the key")


# -- node options as every door resolves them (deisctl.node) ---------------------------------------


def inv(env=None, context=None) -> Invocation:
    settings = Settings(context_values=context or {})
    return Invocation(settings, io.StringIO(), io.StringIO(), io.StringIO(), env or {})


def node_options(invocation, layers, where=""):
    return resolve_node(invocation.env, invocation.settings, layers, options.Naming(where=where))


def test_node_options_precedence_and_defaults():
    context = {"ssh_user": "ctx", "ssh_port": 2022, "controller_host": "10.0.0.12"}
    env = {"DEISCTL_SSH_PORT": "2200", "DEISCTL_CONTAINER": "env-container", "DEISCTL_RUNTIME": "podman"}
    node = node_options(inv(env, context), [{"container": "group-container"}, {"ssh_user": "flag"}])
    assert (node.host, node.ssh.user, node.ssh.port) == (None, "flag", 2200)
    assert (node.runtime, node.container, node.app_dir, node.python, node.remote_timeout) == \
        ("podman", "group-container", None, "python", None)
    # the context's controller_host is kept apart: the controller's node alone (ops.reach.Reach.host_of)
    assert node.controller_host == "10.0.0.12"
    assert node_options(inv({"DEISCTL_HOST": "10.9.9.9"}, context), []).host == "10.9.9.9"


def test_the_apis_node_is_named_by_its_fields():
    node = resolve_node({}, Settings(), [{"ssh_port": 2200, "ssh_timeout": 1.5}], options.FIELDS)
    assert (node.ssh.port, node.ssh.timeout) == (2200, 1.5)
    with pytest.raises(UsageError, match="invalid runtime 'lxc'"):
        resolve_node({}, Settings(), [{"runtime": "lxc"}], options.FIELDS)
    assert options.FIELDS.give("ssh_key", "FILE") == "set ssh_key=FILE"
    assert options.FIELDS.drop("ssh_key") == "leave ssh_key unset"


@pytest.mark.parametrize("flags, fragment", [
    ({"runtime": "lxc"}, "invalid --runtime"), ({"app_dir": "relative"}, "absolute"),
    ({"container": "a b"}, "--container"), ({"python": "-c"}, "--python"),
    ({"remote_timeout": "0"}, "--remote-timeout must be a positive"),
    ({"remote_timeout": "x"}, "--remote-timeout must be a number"),
])
def test_node_options_are_checked(flags, fragment):
    with pytest.raises(UsageError, match=fragment.replace("-", r"\-")):
        node_options(inv(), [flags])


# -- naming: what messages and hints tell the user to pass works in that command ----------------


def test_resolve_reports_where_each_value_came_from():
    origins: dict = {}
    resolve(("ssh_user", "ssh_port", "ssh_key", "known_hosts"), [{"ssh_user": "f"}], {"DEISCTL_SSH_PORT": "2"},
            {"ssh_key": "/k"}, origins)
    assert origins == {"ssh_user": "flag", "ssh_port": "env", "ssh_key": "context"}


def test_naming_of_a_command_with_the_ssh_flags():
    naming = options.Naming(origins=(("ssh_key", "env"),))
    assert naming.of("ssh_timeout") == "--ssh-timeout"
    assert naming.setting("strict_host_key_checking", "accept-new") == "--strict-host-key-checking accept-new"
    assert naming.give("ssh_key", "FILE") == "pass --ssh-key FILE"
    assert naming.drop("ssh_key") == "unset DEISCTL_SSH_KEY"  # where it was set, not the flag
    assert options.Naming(origins=(("ssh_key", "flag"),)).drop("ssh_key") == "omit --ssh-key"
    dock = options.Naming(where="before COMPONENT")
    assert dock.give("host", "HOST") == "pass --host HOST before COMPONENT"


def test_naming_of_a_command_without_ssh_flags():
    naming = options.Naming(flags=False, origins=(("ssh_key", "context"), ("ssh_user", "env")))
    assert naming.of("ssh_timeout") == "DEISCTL_SSH_TIMEOUT"
    assert naming.of("ssh_key") == "the context's ssh_key"
    assert naming.setting("strict_host_key_checking", "accept-new") == "DEISCTL_STRICT_HOST_KEY_CHECKING=accept-new"
    assert naming.give("ssh_key", "FILE") == "set DEISCTL_SSH_KEY=FILE"
    assert naming.drop("ssh_key") == "remove ssh_key from the context"
    assert naming.drop("ssh_user") == "unset DEISCTL_SSH_USER"


def test_the_bastion_login_of_config_names_the_variables():
    opts = bastion_options({"DEISCTL_SSH_KEY": "/k"}, {"ssh_user": "ctx"})
    assert not opts.naming.flags and dict(opts.naming.origins) == {"ssh_key": "env", "ssh_user": "context"}
    for env, fragment in (({"DEISCTL_SSH_PORT": "0"}, "invalid DEISCTL_SSH_PORT 0"),
                          ({"DEISCTL_SSH_TIMEOUT": "x"}, "DEISCTL_SSH_TIMEOUT must be a number"),
                          ({"DEISCTL_STRICT_HOST_KEY_CHECKING": "no"}, "invalid DEISCTL_STRICT_HOST_KEY_CHECKING")):
        with pytest.raises(UsageError, match=fragment):
            bastion_options(env, {})


def test_node_options_name_their_flags_and_where_they_go():
    node = node_options(inv({"DEISCTL_SSH_KEY": "/k"}), [{"ssh_user": "u"}], where="before COMPONENT")
    assert node.ssh.naming.flags and node.ssh.naming.where == "before COMPONENT"
    assert dict(node.ssh.naming.origins) == {"ssh_user": "flag", "ssh_key": "env"}
    assert node.ssh.naming.drop("ssh_key") == "unset DEISCTL_SSH_KEY"


def test_the_login_of_check_follows_the_node_rule():
    opts = node_options(inv({"DEISCTL_SSH_PORT": "2200"}, {"ssh_user": "ctx"}), [{"ssh_key": "/flag/key"}]).ssh
    assert (opts.user, opts.port, opts.key_file) == ("ctx", 2200, "/flag/key")
    assert opts.naming.flags
