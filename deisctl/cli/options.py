"""What the commands share: the run's state (from the boundary), the -o option every printing
command takes, and the invocation builder: the one place besides the boundary that looks at the
process's streams and terminal."""

from __future__ import annotations

import os
from typing import Mapping, Optional

import click


class RunState:
    """What the boundary knows about one run, handed to every command as ctx.obj."""

    def __init__(self, env: Optional[Mapping[str, str]] = None, debug: bool = False):
        self.env: Mapping[str, str] = dict(os.environ) if env is None else env
        self.debug = debug
        self.flags: dict = {}  # the global options as given on the command line (None: not given)
        self.failure_code: Optional[int] = None  # `config diff`: its failures exit 7 (its 1 means "different")


def output_option(fn):
    """-o/--output after the command: the same as the global -o, and it wins over it."""
    return click.option("-o", "--output", "fmt", metavar="FORMAT",
                        help="text, json or yaml (the same as the global -o). [default: text]")(fn)


def state_of(ctx: click.Context) -> RunState:
    return ctx.find_root().obj


def invocation(ctx: click.Context, fmt: Optional[str] = None, *, lenient_context: bool = False):
    """The command's Invocation: settings (flag > environment > context > default, checked before
    any I/O), the process's streams, and the ways to ask the person at the terminal."""
    import sys

    from deisctl import settings as settings_mod
    from deisctl.invocation import Invocation

    state = state_of(ctx)
    is_terminal = _isatty(sys.stdin) and _isatty(sys.stdout)

    def prompt(question: str, secret: bool = False) -> str:
        return click.prompt(question.rstrip(": "), hide_input=secret, err=True)

    def confirm(question: str) -> bool:
        return click.confirm(question, default=False, err=True)

    password_prompt = (lambda question: prompt(question, secret=True)) if _isatty(sys.stdin) else None
    settings = settings_mod.build(state.flags, state.env, output=fmt, lenient_context=lenient_context,
                                  password_prompt=password_prompt)
    state.debug = state.debug or settings.debug
    return Invocation(settings, sys.stdin, sys.stdout, sys.stderr, state.env, is_terminal, prompt, confirm)


def _isatty(stream) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def component_of(ctx: click.Context) -> str:
    """The COMPONENT of `deisctl config COMPONENT verb`: the name its group was invoked as."""
    return ctx.parent.info_name
