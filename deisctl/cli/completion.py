"""Shell completion of component names and known keys (from deisctl.schema), for Typer's
completion (`deisctl --install-completion`). Nothing here talks to etcd: TAB stays instant."""

from __future__ import annotations

_COMPONENT_META = "deisctl.component"  # set by ConfigGroup.resolve_command (ctx.meta is shared)


def component_names(incomplete: str) -> list[tuple[str, str]]:
    from deisctl import schema

    return [(name, spec.description) for name, spec in schema.COMPONENTS.items() if name.startswith(incomplete)]


def component_items(incomplete: str) -> list:
    """Component names as Click CompletionItems (for ConfigGroup.shell_complete)."""
    import sys

    import typer

    # Click itself, or the copy of it that Typer >= 0.26 ships.
    shell_completion = sys.modules[typer.Exit.__module__.rsplit(".", 1)[0] + ".shell_completion"]
    return [shell_completion.CompletionItem(name, help=desc) for name, desc in component_names(incomplete)]


def keys(ctx, incomplete: str) -> list[tuple[str, str]]:
    """Known keys of the component on the command line."""
    from deisctl import schema

    spec = schema.COMPONENTS.get(ctx.meta.get(_COMPONENT_META) or "")
    return [(key, ks.description) for key, ks in (spec.keys.items() if spec else ()) if key.startswith(incomplete)]


def assignments(ctx, incomplete: str) -> list[tuple[str, str]]:
    """`KEY=` for `set`: completes the key part only."""
    if "=" in incomplete:
        return []
    return [(f"{key}=", help_) for key, help_ in keys(ctx, incomplete)]
