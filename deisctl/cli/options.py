"""Options shared by the commands."""

from __future__ import annotations

from typing import Optional

import typer

# The global -o/--output, also accepted after the command (`deisctl config apply -f x -o json`).
OUTPUT = typer.Option(None, "-o", "--output", metavar="FORMAT",
                      help="text, json or yaml (the same as the global -o). [default: text]")


def settings_with_output(ctx: typer.Context, fmt: Optional[str]):
    """The invocation's settings, with this command's -o (if given) winning over the global one."""
    from deisctl.errors import UsageError
    from deisctl.settings import OUTPUT_FORMATS

    settings = ctx.find_root().obj
    if fmt is not None:
        if fmt.lower() not in OUTPUT_FORMATS:
            raise UsageError(f"unknown output format {fmt!r}", hint="text, json or yaml")
        settings.output = fmt.lower()
    return settings
