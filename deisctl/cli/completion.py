"""Shell completion: component names and the known keys of each component, from deisctl.schema
(nothing here talks to etcd: TAB stays instant), and the --show/--install-completion options.

Completion itself is Click's documented protocol: the shell calls
`_DEISCTL_COMPLETE=bash_complete COMP_WORDS=... COMP_CWORD=... deisctl`; `respond` answers it
with click.shell_completion's classes, reading COMP_WORDS/COMP_CWORD from the run's own
environment and writing to its own stdout.
"""

from __future__ import annotations

import os
from typing import Callable, Mapping, Optional

import click

from deisctl.cli.process import process_of
from deisctl.errors import DeisctlError, UsageError

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
    """`KEY=VALUE` for `set`: the key part (`KEY=`), then the values the schema knows for that key
    (its enumeration or boolean spelling), or a local file for a key whose value is a file."""
    from click.shell_completion import CompletionItem

    from deisctl import schema

    if "=" not in incomplete:
        return [CompletionItem(f"{item.value}=", help=item.help) for item in keys(ctx, param, incomplete)]
    key, _, partial = incomplete.partition("=")
    spec = schema.key_spec(_component(ctx) or "", key)
    if spec is None:
        return []
    if spec.file:
        return [CompletionItem(partial, type="file")]
    return [CompletionItem(f"{key}={value}") for value in schema.allowed_values(spec) if value.startswith(partial)]


def choices(values) -> Callable:
    """For an option whose values are a fixed list (-o, --runtime, --strict-host-key-checking)."""
    def complete(ctx: click.Context, param, incomplete: str) -> list:
        from click.shell_completion import CompletionItem

        return [CompletionItem(value) for value in values if value.startswith(incomplete)]

    return complete


def context_names(ctx: click.Context, param, incomplete: str) -> list:
    """The contexts of the config file (--context, `context use|show`); none when it is unreadable."""
    from click.shell_completion import CompletionItem

    from deisctl.ops import contexts

    try:
        names = contexts.names(process_of(ctx).env)
    except DeisctlError:  # a broken config file: nothing to offer, and TAB must not print an error
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


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
    """(the words before the cursor, the word being completed), from the variables that the
    completion scripts set: COMP_LINE, the line up to the cursor (deisctl's bash script), else
    COMP_WORDS and COMP_CWORD (Click's scripts; bash and zsh: the cursor's word index; fish: the
    word itself)."""
    if "COMP_LINE" in env:
        line = env["COMP_LINE"]
        words = split_words(line)
        if not line or line[-1].isspace():
            return words[1:], ""
        return words[1:-1], words[-1] if len(words) > 1 else ""
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


# bash completes the text after the last of these in the line (its COMP_WORDBREAKS default).
BASH_WORDBREAKS = " \t\n\"'><=;|&(:"

# deisctl's bash script: Click's, but it sends the line up to the cursor rather than COMP_WORDS,
# which bash splits at ':' and '=' (so `--endpoints http://h:2379` arrived as five words and
# nothing after it completed), and it quotes each candidate (no globbing, no word splitting).
BASH_SOURCE = """\
%(complete_func)s() {
    local IFS=$'\\n' response completion type value
    COMPREPLY=()
    response=$(env COMP_LINE="${COMP_LINE:0:COMP_POINT}" COMP_WORDBREAKS="$COMP_WORDBREAKS" \\
%(complete_var)s=bash_complete "$1")
    for completion in $response; do
        IFS=',' read -r type value <<< "$completion"
        case $type in
            dir) COMPREPLY=(); compopt -o dirnames; return 0 ;;
            file) COMPREPLY=(); compopt -o default; return 0 ;;
            plain) COMPREPLY+=("$value"); [[ $value == *= ]] && compopt -o nospace ;;
        esac
    done
    return 0
}

complete -o nosort -F %(complete_func)s %(prog_name)s
"""


def _completer(shell: str):
    from click import shell_completion

    if shell == "bash":
        class Bash(shell_completion.BashComplete):
            source_template = BASH_SOURCE

        return Bash
    return shell_completion.get_completion_class(shell)


def bash_replaced(line: str, breaks: str) -> str:
    """The end of the line that bash replaces with a candidate: after its last word break."""
    start = max((line.rfind(char) for char in breaks), default=-1) + 1
    return line[start:]


def _as_bash_replaces(values: list, incomplete: str, env: Mapping[str, str]) -> list:
    """Candidates for the whole word, cut to the part bash replaces (`registrationMode=ad` →
    `admin_only`, `http://h:23` → `2379`)."""
    replaced = bash_replaced(env.get("COMP_LINE", ""), env.get("COMP_WORDBREAKS") or BASH_WORDBREAKS)
    if not incomplete.endswith(replaced):
        return values
    cut = len(incomplete) - len(replaced)
    for item in values:
        if item.type == "plain" and item.value.startswith(incomplete[:cut]):
            item.value = item.value[cut:]
    return values


def respond(root: click.Command, process) -> int:
    """Answer the shell's request (`_DEISCTL_COMPLETE=bash_complete|bash_source|...`)."""
    shell, _, instruction = process.env[COMPLETE_VAR].partition("_")
    kind = _completer(shell)
    if kind is None or instruction not in ("source", "complete"):
        return 1
    completer = kind(root, {"obj": process}, "deisctl", COMPLETE_VAR)
    if instruction == "source":
        text = completer.source()
    else:
        args, incomplete = completion_args(shell, process.env)
        items = completer.get_completions(args, incomplete)
        if shell == "bash" and "COMP_LINE" in process.env:
            items = _as_bash_replaces(items, incomplete, process.env)
        text = "\n".join(completer.format_completion(item) for item in items)
    process.stdout.write(text + "\n")
    process.stdout.flush()
    return 0


def _shell(ctx: click.Context, value: str) -> str:
    shell = value or os.path.basename(process_of(ctx).env.get("SHELL", ""))
    if shell not in SHELLS:
        raise UsageError(f"cannot tell the shell ({shell or 'SHELL is not set'})", hint="name it: bash, zsh or fish")
    return shell


def _source(ctx: click.Context, shell: str) -> str:
    return _completer(shell)(ctx.find_root().command, {}, "deisctl", COMPLETE_VAR).source()


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
