"""deisctl's words for Click's usage errors: one line, the same on every supported Click version."""

from __future__ import annotations

from typing import Optional

import click


def usage_message(exc: click.UsageError) -> str:
    """deisctl's words for Click's usage errors: one line, the same on every Click version."""
    ctx = exc.ctx
    where = ctx.command_path if ctx is not None else "deisctl"
    hint = f"see '{where} --help'"
    if isinstance(exc, click.NoSuchOption):
        option = exc.option_name
        message = f"no such option: {option}"
        close = [p for p in (getattr(exc, "possibilities", None) or ()) if p != option]
        if close:
            message += f" (did you mean {sorted(close)[0]}?)"
        if ctx is not None and ctx.parent is not None and option in _global_options(ctx):
            hint = (f"{option} is a global option: put it before the command, "
                    f"as in 'deisctl {option} ... {ctx.command_path.split(' ', 1)[-1]} ...'")
        elif ctx is not None and ctx.parent is None and option in _node_options():
            hint = (f"{option} is an option of users, dock and check: put it after the command, as in "
                    f"'deisctl users {option} ... list' or 'deisctl dock {option} ... COMPONENT'")
        return f"error: {message} ({hint})"
    if isinstance(exc, click.BadOptionUsage):
        option = exc.option_name
        param = _param_named(ctx, option)
        if param is not None and getattr(param, "is_flag", False):
            return f"error: option {option} takes no value ({hint})"
        return f"error: option {option} needs a value ({hint})"
    if isinstance(exc, click.MissingParameter):
        param = exc.param
        if isinstance(param, click.Argument):
            return f"error: missing argument {param.human_readable_name} ({hint})"
        if isinstance(param, click.Option):
            return f"error: missing option {param.opts[0]} ({hint})"
    if isinstance(exc, click.BadParameter) and exc.param is not None:
        name = exc.param.opts[0] if isinstance(exc.param, click.Option) else exc.param.human_readable_name
        return f"error: invalid value for {name} ({hint})"
    if isinstance(exc, click.BadArgumentUsage) or type(exc) is click.UsageError:
        # e.g. more arguments than the command takes
        return f"error: {_first_words(exc)} ({hint})"
    return f"error: {_first_words(exc)} ({hint})"


def _first_words(exc: click.ClickException) -> str:
    text = " ".join(exc.format_message().split()).rstrip(".")
    return text[:1].lower() + text[1:]


def _param_named(ctx: Optional[click.Context], option: str):
    if ctx is None:
        return None
    for param in ctx.command.params:
        if option in getattr(param, "opts", ()) or option in getattr(param, "secondary_opts", ()):
            return param
    return None


def _global_options(ctx: click.Context) -> set:
    return {name for param in ctx.find_root().command.params for name in param.opts}


def _node_options() -> set:
    """The flags of the node options (users, dock, check), given before the command by mistake."""
    from deisctl.cli.node_options import flags

    return flags()
