"""What the commands share: the run's state (from the boundary), the -o option every printing
command takes, and the settings of the invocation."""

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
        self.exit_code: Optional[int] = None  # set by a command whose result decides it (check, diff, dock)
        self.failure_code: Optional[int] = None  # `config diff`: its failures exit 7 (its 1 means "different")


def output_option(fn):
    """-o/--output after the command: the same as the global -o, and it wins over it."""
    return click.option("-o", "--output", "fmt", metavar="FORMAT",
                        help="text, json or yaml (the same as the global -o). [default: text]")(fn)


def state_of(ctx: click.Context) -> RunState:
    return ctx.find_root().obj


def settings_for(ctx: click.Context, fmt: Optional[str] = None, *, lenient_context: bool = False):
    """The invocation's settings (flag > environment > context > default); checked before any I/O."""
    from deisctl import settings as settings_mod

    state = state_of(ctx)
    settings = settings_mod.build(state.flags, state.env, output=fmt, lenient_context=lenient_context)
    state.debug = state.debug or settings.debug
    return settings


def component_of(ctx: click.Context) -> str:
    """The COMPONENT of `deisctl config COMPONENT verb`: the name its group was invoked as."""
    return ctx.parent.info_name


def open_store(settings):
    from deisctl.store import Store  # imports gRPC: only for commands that talk to etcd

    return Store(settings)
