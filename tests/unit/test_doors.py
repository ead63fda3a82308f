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
    """The CLI's node options, api.Node's fields and the collection's NODE_ARGS against their one
    declaration (deisctl.node.NODE_OPTIONS): the same names, types and choices."""
    import typing

    from deisctl import node
    from deisctl.cli.users import users_group

    declared = {option.name: option for option in node.NODE_OPTIONS}
    cli_names = {param.name for param in users_group.params if isinstance(param, click.Option)} - {"help"}
    assert cli_names == set(declared) == set(api.Node._fields)
    hints = typing.get_type_hints(api.Node)
    module_utils = _module_utils()
    assert set(module_utils.NODE_ARGS) == set(declared)
    for name, option in declared.items():
        assert hints[name] == typing.Optional[option.type], f"api.Node.{name}"
        spec = module_utils.NODE_ARGS[name]
        assert spec["type"] == ("path" if option.path else option.type.__name__), f"NODE_ARGS[{name!r}]"
        assert tuple(spec.get("choices", ())) == option.choices, f"NODE_ARGS[{name!r}] choices"
    assert list(controller.RUNTIMES) == list(declared["runtime"].choices)
    assert list(ssh.HOST_KEY_POLICIES) == list(declared["strict_host_key_checking"].choices)


def test_the_connection_options_are_the_clients():
    """What every collection module takes to reach etcd is what api.Client takes."""
    parameters = set(inspect.signature(api.Client.__init__).parameters)
    assert set(_module_utils().CONNECTION_ARGS) <= parameters


def test_each_door_is_told_its_own_words():
    """An operation's refusals name the option as the caller gives it: `--yes` on the CLI,
    `yes=True` through the API (refused before anything is dialled: no cluster needed)."""
    import pytest

    client = api.Client(endpoints="http://127.0.0.1:9")
    with pytest.raises(api.UsageError) as refused:
        client.delete_users(["alice"])
    assert "confirm with yes=True" in refused.value.message and refused.value.hint == "pass yes=True"
    with pytest.raises(api.UsageError, match="^invalid runtime 'lxc'"):
        api.Client(endpoints="http://127.0.0.1:9", node=api.Node(runtime="lxc")).users()
    with pytest.raises(api.UsageError, match="^ssh_port must be a number"):
        api.Client(endpoints="http://127.0.0.1:9", node=api.Node(ssh_port="x")).users()


def test_the_document_options_are_the_same_in_every_door():
    """apply's and diff's options (ops.documents.DocumentOptions, declared once) are the CLI's
    flags, deisctl.api's keywords and the collection's config options, with the stated
    exceptions: the CLI has no base_dir (a file's folder is its base) and spells any_file
    --allow-any-file; the collection reads no file outside the document's folder."""
    import ast
    import dataclasses

    from deisctl.cli.declarative import apply as cli_apply
    from deisctl.cli.declarative import diff as cli_diff
    from deisctl.ops.documents import DocumentOptions

    fields = {field.name: field.default for field in dataclasses.fields(DocumentOptions)}
    cli = {"any_file" if p.name == "allow_any_file" else p.name for p in cli_apply.params}
    assert set(fields) - {"base_dir"} <= cli
    assert set(fields) - {"base_dir", "new_component", "new_key"} <= \
        {"any_file" if p.name == "allow_any_file" else p.name for p in cli_diff.params}
    assert set(fields) <= set(inspect.signature(api.Client.apply).parameters)
    assert set(fields) - {"new_component", "new_key"} <= set(inspect.signature(api.Client.diff).parameters)
    for name, default in fields.items():  # the API's defaults are the declaration's
        assert inspect.signature(api.Client.apply).parameters[name].default in (default, None), name

    source = (COLLECTION / "modules" / "config.py").read_text()
    call = next(node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "argument_spec")
    spec = {kw.arg: {k.arg: ast.literal_eval(k.value) for k in kw.value.keywords}  # name=dict(type=..., ...)
            for kw in call.args[0].keywords}
    assert set(fields) - {"any_file", "base_dir"} <= set(spec)
    for name in set(fields) - {"any_file", "base_dir"}:
        wanted = list(fields[name]) if isinstance(fields[name], tuple) else fields[name]
        assert spec[name].get("default") == wanted, name
