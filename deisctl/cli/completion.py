"""Shell completion: component names and the known keys of each component, from deisctl.schema
(nothing here talks to etcd: TAB stays instant), and the --show/--install-completion options.

Completion itself is Click's documented protocol: the shell calls
`_DEISCTL_COMPLETE=bash_complete COMP_WORDS=... COMP_CWORD=... deisctl`.
"""

from __future__ import annotations

import os
from typing import Optional

import click

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_DEISCTL_COMPLETE"


def component_items(incomplete: str) -> list:
    from click.shell_completion import CompletionItem  # only while completing: keeps start-up lean

    from deisctl import schema

    return [CompletionItem(name, help=spec.description) for name, spec in schema.COMPONENTS.items()
            if name.startswith(incomplete)]


def component_names(ctx: click.Context, param, incomplete: str) -> list:
    """For arguments that take component names (`config export COMPONENT...`)."""
    return component_items(incomplete)


def _component(ctx: click.Context) -> Optional[str]:
    """The component of `config COMPONENT verb` while completing (the group's invocation name)."""
    parent = ctx.parent
    return parent.info_name if parent is not None else None


def keys(ctx: click.Context, param, incomplete: str) -> list:
    """Known keys of the component on the command line."""
    from click.shell_completion import CompletionItem

    from deisctl import schema

    spec = schema.COMPONENTS.get(_component(ctx) or "")
    return [CompletionItem(key, help=ks.description) for key, ks in (spec.keys.items() if spec else ())
            if key.startswith(incomplete)]


def assignments(ctx: click.Context, param, incomplete: str) -> list:
    """`KEY=` for `set`: completes the key part only."""
    from click.shell_completion import CompletionItem

    if "=" in incomplete:
        return []
    return [CompletionItem(f"{item.value}=", help=item.help) for item in keys(ctx, param, incomplete)]


# -- --show-completion / --install-completion ---------------------------------------------------

def _shell(ctx: click.Context, value: str) -> str:
    shell = value or os.path.basename(ctx.find_root().obj.env.get("SHELL", "") if ctx.obj else "")
    if shell not in SHELLS:
        from deisctl.errors import UsageError

        raise UsageError(f"cannot tell the shell ({shell or 'SHELL is not set'})", hint="name it: bash, zsh or fish")
    return shell


def _source(ctx: click.Context, shell: str) -> str:
    from click import shell_completion

    classes = {"bash": shell_completion.BashComplete, "zsh": shell_completion.ZshComplete,
               "fish": shell_completion.FishComplete}
    return classes[shell](ctx.find_root().command, {}, "deisctl", COMPLETE_VAR).source()


def show_completion(ctx: click.Context, _param, value: Optional[str]) -> None:
    if value is None or ctx.resilient_parsing:
        return
    click.echo(_source(ctx, _shell(ctx, value)))
    ctx.exit()


# Where each shell reads completion scripts from, and the line that loads it (bash only).
_TARGETS = {
    "bash": ("~/.bash_completions/deisctl.sh", "~/.bashrc", "source ~/.bash_completions/deisctl.sh"),
    "zsh": ("~/.zfunc/_deisctl", "~/.zshrc", "fpath+=~/.zfunc; autoload -Uz compinit; compinit"),
    "fish": ("~/.config/fish/completions/deisctl.fish", None, None),
}


def install_completion(ctx: click.Context, _param, value: Optional[str]) -> None:
    if value is None or ctx.resilient_parsing:
        return
    shell = _shell(ctx, value)
    script, rc_file, line = _TARGETS[shell]
    path = os.path.expanduser(script)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(_source(ctx, shell) + "\n")
    if rc_file:
        rc = os.path.expanduser(rc_file)
        try:
            with open(rc, encoding="utf-8") as handle:
                present = line in handle.read()
        except FileNotFoundError:
            present = False
        if not present:
            with open(rc, "a", encoding="utf-8") as handle:
                handle.write(f"\n{line}\n")
    click.echo(f"{shell} completion installed in {script}; it takes effect in a new shell", err=True)
    ctx.exit()
