"""Shell completion: component names and the known keys of each component, from deisctl.schema
(nothing here talks to etcd: TAB stays instant), and the --show/--install-completion options.

Completion itself is Click's documented protocol: the shell calls
`_DEISCTL_COMPLETE=bash_complete COMP_WORDS=... COMP_CWORD=... deisctl`; `respond` answers it
with click.shell_completion's classes, reading COMP_WORDS/COMP_CWORD from the run's own
environment and writing to its own stdout.
"""

from __future__ import annotations

import os
from typing import Mapping, Optional

import click

from deisctl.cli.options import process_of

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

def split_words(text: str) -> list[str]:
    """The words of a command line as the shell has them so far (an open quote is closed)."""
    import shlex  # only while completing: keeps start-up lean

    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    try:
        for word in lexer:
            words.append(word)
    except ValueError:  # an unclosed quote: what was typed inside it is the last word
        words.append(lexer.token)
    return words


def completion_args(shell: str, env: Mapping[str, str]) -> tuple[list[str], str]:
    """(the words before the cursor, the word being completed), from the variables that Click's
    completion scripts set: COMP_WORDS and COMP_CWORD (bash and zsh: the cursor's word index;
    fish: the word itself)."""
    words = split_words(env.get("COMP_WORDS", ""))
    if shell == "fish":
        incomplete = env.get("COMP_CWORD", "")
        args = words[1:]
        if incomplete and args and args[-1] == incomplete:
            args.pop()
        return args, incomplete
    try:
        index = int(env.get("COMP_CWORD", ""))
    except ValueError:
        index = len(words)
    return words[1:index], words[index] if index < len(words) else ""


def respond(root: click.Command, process) -> int:
    """Answer the shell's request (`_DEISCTL_COMPLETE=bash_complete|bash_source|...`)."""
    from click.shell_completion import get_completion_class

    shell, _, instruction = process.env[COMPLETE_VAR].partition("_")
    kind = get_completion_class(shell)
    if kind is None or instruction not in ("source", "complete"):
        return 1
    completer = kind(root, {"obj": process}, "deisctl", COMPLETE_VAR)
    if instruction == "source":
        text = completer.source()
    else:
        args, incomplete = completion_args(shell, process.env)
        text = "\n".join(completer.format_completion(item) for item in completer.get_completions(args, incomplete))
    process.stdout.write(text + "\n")
    process.stdout.flush()
    return 0


def _shell(ctx: click.Context, value: str) -> str:
    shell = value or os.path.basename(process_of(ctx).env.get("SHELL", ""))
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
    click.echo(_source(ctx, _shell(ctx, value)), file=process_of(ctx).stdout)
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
    from deisctl.localfiles import expand_user

    shell = _shell(ctx, value)
    process = process_of(ctx)
    script, rc_file, line = _TARGETS[shell]
    path = expand_user(script, process.env)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(_source(ctx, shell) + "\n")
    if rc_file:
        rc = expand_user(rc_file, process.env)
        try:
            with open(rc, encoding="utf-8") as handle:
                present = line in handle.read()
        except FileNotFoundError:
            present = False
        if not present:
            with open(rc, "a", encoding="utf-8") as handle:
                handle.write(f"\n{line}\n")
    click.echo(f"{shell} completion installed in {script}; it takes effect in a new shell", file=process.stderr)
    ctx.exit()
