"""What the commands share: the run's Process (streams and environment, from the boundary), the
-o option every printing command takes, and the invocation builder, the one place that decides
whether deisctl may ask the person at the terminal."""

from __future__ import annotations

from typing import Mapping, Optional

import click

from deisctl import settings as settings_mod
from deisctl.cli.completion import choices
from deisctl.cli.process import Process, process_of  # noqa: F401  (the commands' way to their run)
from deisctl.commands import NEW_COMPONENT, NEW_KEY
from deisctl.settings import OUTPUT_FORMATS


def output_option(fn):
    """-o/--output after the command: the same as the global -o, and it wins over it."""
    return click.option("-o", "--output", "fmt", metavar="FORMAT", shell_complete=choices(OUTPUT_FORMATS),
                        help="text, json or yaml (the same as the global -o). [default: text]")(fn)


def target_options(fn):
    """--new-component and --new-key, for the commands that write (set, apply): what makes a
    write to a new component, or to a key that looks like a typo of a known one, deliberate."""
    fn = click.option(NEW_KEY, "new_key", is_flag=True,
                      help="Write keys that differ from a known or existing key only by case or one character "
                           "(refused otherwise, as likely typos).")(fn)
    return click.option(NEW_COMPONENT, "new_component", is_flag=True,
                        help="Create a component that neither the schema nor etcd has yet (refused otherwise, "
                             "as a likely typo).")(fn)


def global_flags(ctx: click.Context) -> Mapping:
    """The global options as given before the command (None: not given): the root's parameters."""
    return ctx.find_root().params


def isatty(stream) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def may_ask(process: Process) -> bool:
    """The one rule of when deisctl may ask a question (the etcd password, an SSH passphrase, a
    confirmation): its standard input and standard error (where the question is written) are a
    terminal. Otherwise (a playbook, CI, a pipe) it refuses instead, with a hint."""
    return isatty(process.stdin) and isatty(process.stderr)


def terminal_prompt(process: Process):
    """prompt(question, secret=False) on the process's terminal; the answer without its newline."""
    def prompt(question: str, secret: bool = False) -> str:
        from deisctl.escaping import escape

        question = escape(question)  # it may name a host or key that came from etcd
        if secret:
            import getpass

            return getpass.getpass(question, stream=process.stderr)  # no echo: reads the terminal itself
        process.stderr.write(question)
        process.stderr.flush()
        line = process.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")

    return prompt


def terminal_confirm(prompt):
    """confirm(question) -> yes? on the terminal: y or yes; anything else (or Enter) is no."""
    def confirm(question: str) -> bool:
        return prompt(f"{question} [y/N]: ").strip().lower() in ("y", "yes")

    return confirm


def invocation(ctx: click.Context, fmt: Optional[str] = None, *, lenient_context: bool = False):
    """The command's Invocation: settings (flag > environment > context > default, checked before
    any I/O), the process's streams and environment, and the ways to ask when may_ask."""
    from deisctl.invocation import Invocation

    process = process_of(ctx)
    prompt = terminal_prompt(process) if may_ask(process) else None
    confirm = terminal_confirm(prompt) if prompt else None
    password_prompt = (lambda question: prompt(question, secret=True)) if prompt else None
    settings = settings_mod.build(global_flags(ctx), process.env, output=fmt, lenient_context=lenient_context,
                                  password_prompt=password_prompt, command=command_line(process.argv))
    return Invocation(settings, process.stdin, process.stdout, process.stderr, process.env, prompt=prompt,
                      confirm=confirm, pty=isatty(process.stdin) and isatty(process.stdout),
                      terminal_out=isatty(process.stdout), terminal_err=isatty(process.stderr))


def command_line(argv) -> str:
    """The command as the audit records it: `deisctl ...` without any value it was given to
    write (KEY=VALUE becomes KEY=..., also after `--` and when KEY begins with `-`) and without
    a password in --user NAME:PASSWORD. Only an option's own `--name=value` keeps its value."""
    shown, after_user, operands = ["deisctl"], False, False
    for arg in argv:
        if after_user or (arg.startswith("--user=") and not operands):
            prefix = "--user=" if arg.startswith("--user=") else ""
            arg = prefix + arg[len(prefix):].split(":", 1)[0]
        elif "=" in arg and (operands or not arg.startswith("--")):
            arg = arg.split("=", 1)[0] + "=..."
        after_user = arg == "--user" and not operands
        operands = operands or arg == "--"
        shown.append(arg)
    return " ".join(shown)


def component_of(ctx: click.Context) -> str:
    """The COMPONENT of `deisctl config COMPONENT verb`: the name its group was invoked as."""
    return ctx.parent.info_name
