"""Three doors, one house: every CLI command has its deisctl.api method and its place in the
deis.deisctl collection, or a stated reason why not (commands.DOORS); every Client method and
every collection plugin is accounted for there; and the options the doors share are the same
names and choices in each. A door left behind fails here."""

from __future__ import annotations

import inspect
from pathlib import Path

import click

from deisctl import api, commands, controller
from deisctl.cli.groups import CommandGroup
from deisctl.commands import DOORS, EXCLUDED
from deisctl.ssh import options as ssh

COLLECTION = Path(__file__).resolve().parents[2] / "ansible_collections" / "deis" / "deisctl" / "plugins"


def cli_commands() -> set[str]:
    """Every runnable command of the real Click tree, as `config COMPONENT set`, `users list`..."""
    from deisctl.cli.root import root

    ctx = click.Context(root)
    found = set()

    def walk(group, path):
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                if isinstance(command, CommandGroup):  # `backup -f FILE` is a command as well
                    found.add(" ".join(path + [name]))
                walk(command, path + [name])
            else:
                found.add(" ".join(path + [name]))

    walk(root, [])
    found |= {f"config COMPONENT {verb}" for verb in commands.COMPONENT}
    return found


def client_methods() -> set[str]:
    return {name for name, _ in inspect.getmembers(api.Client, inspect.isfunction) if not name.startswith("_")}


def test_every_cli_command_is_through_every_door_or_says_why_not():
    assert cli_commands() == set(DOORS), "a command missing from commands.DOORS, or one that no longer exists"


def test_every_api_method_named_exists_and_every_client_method_is_a_door():
    named = set()
    for command, (methods, _collection) in DOORS.items():
        if methods.startswith(EXCLUDED):
            assert len(methods) > len(EXCLUDED) + 10, f"{command}: say why it has no API method"
            continue
        named.update(methods.split())
    assert named - client_methods() == set(), "DOORS names a Client method that does not exist"
    assert client_methods() - named == set(), "a Client method that no command's door names"


def test_every_collection_item_named_exists_and_every_plugin_is_a_door():
    named = set()
    for command, (_methods, collection) in DOORS.items():
        if collection.startswith(EXCLUDED):
            assert len(collection) > len(EXCLUDED) + 6, f"{command}: say why the collection has none"
            continue
        kind, _, name = collection.rpartition(" ")
        folder = "lookup" if kind == "lookup" else "modules"
        assert name.startswith("deis.deisctl."), collection
        path = COLLECTION / folder / (name.rsplit(".", 1)[1] + ".py")
        assert path.exists(), f"{command}: {collection} does not exist ({path})"
        named.add(path)
    plugins = set((COLLECTION / "modules").glob("*.py")) | set((COLLECTION / "lookup").glob("*.py"))
    assert plugins - named == set(), "a module or lookup that no command's door names"


def _module_utils():
    import importlib.util
    import sys
    import types

    # The collection's shared code, loaded as Ansible would (its package path stubbed).
    for name in ("ansible_collections", "ansible_collections.deis", "ansible_collections.deis.deisctl",
                 "ansible_collections.deis.deisctl.plugins", "ansible_collections.deis.deisctl.plugins.module_utils"):
        sys.modules.setdefault(name, types.ModuleType(name))
    spec = importlib.util.spec_from_file_location("deisctl_module_utils", COLLECTION / "module_utils" / "deisctl_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_node_options_are_the_same_in_every_door():
    """The CLI's node options, api.Node's fields and the collection's NODE_ARGS: the same names,
    the same choices (from their one home: ssh.options and deisctl.controller)."""
    from deisctl.cli.users import users_group

    cli_names = {param.name for param in users_group.params if isinstance(param, click.Option)} - {"help"}
    module_utils = _module_utils()
    assert cli_names == set(api.Node._fields) == set(module_utils.NODE_ARGS)
    assert module_utils.NODE_ARGS["runtime"]["choices"] == list(controller.RUNTIMES)
    assert module_utils.NODE_ARGS["strict_host_key_checking"]["choices"] == list(ssh.HOST_KEY_POLICIES)


def test_the_connection_options_are_the_clients():
    """What every collection module takes to reach etcd is what api.Client takes."""
    parameters = set(inspect.signature(api.Client.__init__).parameters)
    assert set(_module_utils().CONNECTION_ARGS) <= parameters
