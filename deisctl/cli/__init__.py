"""The command-line interface: thin Typer commands over store/schema/output."""

from deisctl.cli.app import main

__all__ = ["main"]
