"""`deisctl config COMPONENT edit`: the component in $VISUAL or $EDITOR, written only if nobody
changed it meanwhile (kubectl edit's rule). The editor loop lives here, at the terminal's side;
reading and writing etcd are deisctl.ops.edit's."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from typing import Optional

import click

from deisctl.cli.groups import DeisctlCommand
from deisctl.cli.options import component_of, invocation, output_option, target_options
from deisctl.errors import DeisctlError, PartlyApplied, UsageError
from deisctl.ops import edit as ops
from deisctl.output import documents as views
from deisctl.output import emit

FALLBACK_EDITOR = "vi"  # on a terminal when neither VISUAL nor EDITOR is set (git's and kubectl's choice)


@click.command("edit", cls=DeisctlCommand)
@click.option("--show-secrets", is_flag=True, help="Show secret values in the editor instead of ********.")
@click.option("--strict", is_flag=True, help="Refuse keys the schema does not know.")
@target_options
@output_option
@click.pass_context
def edit(ctx: click.Context, show_secrets: bool, strict: bool, new_component: bool, new_key: bool,
         fmt: Optional[str]):
    """Change the component in $VISUAL or $EDITOR; written only if nobody changed it meanwhile.

    The component opens as a settings document ('config export' format; secrets masked unless
    --show-secrets, and a value left masked is kept as it is). On save it is validated as
    'config apply' validates a file, and what changed is written and shown as a diff, guarded
    by the revision it was read at: if someone changed the component meanwhile, nothing is
    written (exit 6) and the edited file is kept and named. A deleted key is removed; an
    unchanged or empty file writes nothing. An invalid document reopens the editor on a
    terminal; without one it fails (exit 2), naming the kept file. Without a terminal, VISUAL or
    EDITOR must be a program that edits the file on its own (a script, `sed -i ...`).
    """
    inv = invocation(ctx, fmt)
    component = component_of(ctx)
    on_terminal = inv.confirm is not None  # someone can fix an invalid document
    editor = _editor(inv, on_terminal)
    editing = ops.read_for_edit(inv, component, show_secrets=show_secrets, new_component=new_component)
    command = f"deisctl config {component} edit"
    folder = tempfile.mkdtemp(prefix="deisctl-edit-", dir=inv.env.get("TMPDIR") or None)  # mode 0700
    path = os.path.join(folder, f"{component}.yaml")
    original = shown = views.edit_document(editing, command)
    text, last_error = original, ""
    keep = False
    try:
        _write(path, shown)
        while True:
            _run_editor(inv, editor, path)
            text = _read(path)
            if text == shown and shown != original:  # saved unchanged after an error: giving up
                raise UsageError(f"{path}: still invalid: {last_error}")
            if text == shown:
                inv.note("edit cancelled: no changes, nothing written")
                result = ops.Edited([], 0, editing.revision, path)
                break
            try:
                result = ops.apply_edit(inv, editing, without_edit_header(text), path, strict=strict,
                                        new_key=new_key)
                break
            except UsageError as invalid:
                if not on_terminal:
                    raise
                last_error = invalid.render().removeprefix("error: ")
                shown = views.edit_document(editing, command, error=last_error,
                                            body=without_edit_header(text))
                _write(path, shown)
    except PartlyApplied as stopped:
        keep = True
        emit(inv, views.edited(stopped.result, inv.settings.prefix, show_secrets), wrote=True)
        raise _kept(stopped, path) from None
    except DeisctlError as error:
        keep = text != original  # the user's work is in the file: never thrown away on a failure
        raise _kept(error, path) if keep else error from None
    except BaseException:  # interrupted: the same rule
        keep = text != original
        if keep:
            inv.note(f"the edited file is kept: {path}")
        raise
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    emit(inv, views.edited(result, inv.settings.prefix, show_secrets), wrote=bool(result.revision))
    return result


def _kept(error: DeisctlError, path: str) -> DeisctlError:
    """The error, saying where the edited file is kept."""
    error.message += f"; the edited file is kept: {path}"
    return error


def _editor(inv, on_terminal: bool) -> str:
    """VISUAL, else EDITOR, else vi on a terminal. Without a terminal and without either, the
    edit is refused at once: an interactive editor there would wait for input that never comes."""
    editor = (inv.env.get("VISUAL") or inv.env.get("EDITOR") or "").strip()
    if editor:
        return editor
    if on_terminal:
        return FALLBACK_EDITOR
    raise UsageError("config edit needs an editor, and there is no terminal to run one on",
                     hint="set VISUAL or EDITOR to a program that edits the file it is given on its own")


def _run_editor(inv, editor: str, path: str) -> None:
    """The editor on path, as git runs it: VISUAL/EDITOR is the user's own shell text (`code
    --wait`, `emacsclient -t`), and the path is a positional parameter, never part of it."""
    try:
        stdin, stdout, stderr = _streams(inv)
        done = subprocess.run(["sh", "-c", f'{editor} "$@"', editor, path], env=dict(inv.env),
                              stdin=stdin, stdout=stdout, stderr=stderr)
    except OSError as exc:
        raise DeisctlError(f"cannot run the editor {editor!r}: {exc.strerror or exc}; nothing was written") from None
    if done.returncode != 0:
        raise DeisctlError(f"the editor {editor!r} exited with status {done.returncode}; nothing was written")


def _streams(inv) -> tuple:
    """The invocation's streams as the editor's stdin, stdout, stderr (a terminal editor draws on
    them). A stdout that is not a terminal (the result piped elsewhere) gives way to stderr;
    DEVNULL for a stream without a descriptor (in-process runs)."""
    def fileno(stream) -> Optional[int]:
        try:
            return stream.fileno()
        except (AttributeError, ValueError, OSError):
            return None

    stdin, stdout, stderr = (fileno(stream) for stream in (inv.stdin, inv.stdout, inv.stderr))
    if stdout is None or not os.isatty(stdout):
        stdout = stderr
    return tuple(subprocess.DEVNULL if fd is None else fd for fd in (stdin, stdout, stderr))


def _write(path: str, text: str) -> None:
    from deisctl.localfiles import Unwritable, write_atomic

    try:
        write_atomic(path, text, private=True)  # 0600: it may hold secrets (--show-secrets)
    except Unwritable as exc:
        raise DeisctlError(f"cannot write {path}: {exc}") from None


def _read(path: str) -> str:
    from deisctl.document import read_text

    return read_text(path)


def without_edit_header(text: str) -> str:
    """The edited text without the header edit_document put on top."""
    lines = text.split("\n")
    if views.EDIT_HEADER_END in lines and all(line.startswith("#") for line in lines[:lines.index(views.EDIT_HEADER_END)]):
        return "\n".join(lines[lines.index(views.EDIT_HEADER_END) + 1:])
    return text
