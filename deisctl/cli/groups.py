"""Commands and groups whose usage errors can be put in deisctl's words, whose help goes to the
run's own stdout, and groups that print their help when called bare (Click's documented API:
parse_args, get_command, list_commands, resolve_command, add_help_option)."""

from __future__ import annotations

import importlib

import click

from deisctl.cli.process import process_of
from deisctl.errors import UsageError

HELP_OPTION_NAMES = ("-h", "--help")


def _show_help(ctx: click.Context, _param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        print_help(ctx)
        ctx.exit()


def print_help(ctx: click.Context) -> None:
    """The command's help on the run's stdout (the Process the boundary was given)."""
    click.echo(ctx.get_help(), file=process_of(ctx).stdout)


def first_sentence(help_text: str) -> str:
    """The first paragraph up to the first word that ends a sentence, on one line."""
    words = []
    for word in help_text.split("\n\n", 1)[0].split():
        words.append(word)
        if word.endswith("."):
            break
    return " ".join(words)


class _KnowsWhere:
    """-h/--help writes to the run's stdout (Click's own option writes to sys.stdout); usage
    errors know the command they came from."""

    def __init__(self, *args, **kwargs):
        kwargs["add_help_option"] = False
        super().__init__(*args, **kwargs)
        self.params.append(click.Option(HELP_OPTION_NAMES, is_flag=True, expose_value=False, is_eager=True,
                                        callback=_show_help, help="Show this message and exit."))

    def get_short_help_str(self, limit: int = 45) -> str:
        """The summary in a group's command list: short_help, else the help's first sentence,
        whole (Click cuts it at the column width, mid-sentence: "Show a context's settings, or...")."""
        if self.short_help or not self.help:
            return super().get_short_help_str(limit)
        return first_sentence(self.help)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if exc.ctx is None:  # Click's option parser does not say which command it was parsing
                exc.ctx = ctx
            raise


class DeisctlCommand(_KnowsWhere, click.Command):
    """A command whose usage errors know the command they came from."""


class DeisctlGroup(_KnowsWhere, click.Group):
    """A group whose callback prints its help when no command follows (`deisctl config`)."""

    command_class = DeisctlCommand
    group_class = type  # sub-groups made with @group.group() are DeisctlGroups too

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("invoke_without_command", True)
        super().__init__(*args, **kwargs)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name and not name.startswith("-") and not ctx.resilient_parsing and self.get_command(ctx, name) is None:
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            raise UsageError(f"unknown command {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
                             hint=f"see '{ctx.command_path} --help'")
        return super().resolve_command(ctx, args)


class CommandGroup(DeisctlGroup):
    """A group that is also a command: `deisctl backup -f FILE` does the work itself, and
    `deisctl backup verify FILE` is its sub-command."""


class LazyGroup(DeisctlGroup):
    """Click's documented pattern for lazily loading subcommands: `lazy_subcommands` maps a
    command name to "module.attribute", imported the first time the command is resolved, so that
    `config get` does not import users, dock, check and the rest."""

    def __init__(self, *args, lazy_subcommands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = lazy_subcommands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_subcommands])

    def get_command(self, ctx: click.Context, name: str):
        target = self.lazy_subcommands.get(name)
        if target is None:
            return super().get_command(ctx, name)
        module, _, attribute = target.rpartition(".")
        return getattr(importlib.import_module(module), attribute)


def help_if_bare(ctx: click.Context) -> bool:
    """In a group's callback: print the help when no command follows; True when it did."""
    if ctx.invoked_subcommand is None:
        print_help(ctx)
        return True
    return False
