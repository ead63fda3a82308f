"""The run's Process: what the boundary (cli/app.py:run) was given, handed to every command as
ctx.obj, and the way a command reaches it. Below every other module of cli/ (options and
completion both use it)."""

from __future__ import annotations

from typing import Mapping, NamedTuple, TextIO

import click


class Process(NamedTuple):
    """What the boundary (cli/app.py:run) was given for this run, handed to every command as
    ctx.obj. Immutable: nothing is written back into it."""

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    env: Mapping[str, str]
    argv: tuple = ()  # the command line after the program name (for the audit records)


def process_of(ctx: click.Context) -> Process:
    return ctx.find_root().obj
