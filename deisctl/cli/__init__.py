"""The command-line interface: thin Click commands over deisctl.ops, and the boundary (app.py)."""

from deisctl.cli.app import main

__all__ = ["main"]
