"""The renderer: operations return results, the CLI hands them here as Views, and this package
prints them as text (for people and `$(...)`), JSON or YAML (stable shapes for programs).

One module per command area turns its results into Views (output.config, output.documents,
output.revisions, output.check, output.users, output.contexts); this module prints them.
Messages for people (warnings, notes, errors) go to stderr, never to stdout.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, NamedTuple, Optional

from deisctl.escaping import escape  # noqa: F401  (the one rule; output.escape for the views)
from deisctl.yaml_text import dump_yaml  # noqa: F401  (the one dumper; output.dump_yaml for the views)


class View(NamedTuple):
    """What one result looks like: `data` for -o json|yaml, `lines()` for text (escaped)."""

    data: Any
    lines: Callable[[], Iterable[str]]
    raw: Optional[list] = None  # text mode only: exact bytes, one item per line (`config get KEY`) for a
    # program reading stdout; on a terminal (a person reading) the lines are shown escaped instead
    document: Optional[Callable[[], str]] = None  # text mode only: exact text (`config export`'s YAML)
    private: bool = False  # holds secrets in clear: a file written from it gets mode 0600


def render(view: View, fmt: str) -> str:
    """The View as text in fmt (text, json or yaml); not for `raw` views."""
    if fmt == "json":
        return dump_json(view.data) + "\n"
    if fmt == "yaml":
        return dump_yaml(view.data)
    if view.document is not None:
        return view.document()
    return "".join(escape(line) + "\n" for line in view.lines())


def emit(inv, view: View, *, fmt: Optional[str] = None, path: Optional[str] = None,
         wrote: bool = False) -> Optional[str]:
    """Print a View in fmt (default: the invocation's output format), in one write; with path,
    write it to that file instead (atomically, localfiles.write_atomic) and return the file
    written. wrote: the command has changed something, so output that cannot be printed (a
    closed or full stdout) is a warning, not a failure: the change stands either way."""
    try:
        return _emit(inv, view, fmt or inv.output, path)
    except (OSError, ValueError) as exc:  # ValueError: a closed stream
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        if not wrote:
            from deisctl.errors import DeisctlError

            raise DeisctlError(f"cannot write the output: {reason}") from None
        try:
            inv.warn(f"the change was made, but its output could not be written: {reason}")
        except (OSError, ValueError):
            pass
        return None


def _emit(inv, view: View, fmt: str, path: Optional[str]) -> Optional[str]:
    if path is not None:
        from deisctl.errors import UsageError
        from deisctl.localfiles import Unwritable, expand_user, write_atomic

        try:
            return write_atomic(expand_user(path, inv.env), render(view, fmt), private=view.private)
        except Unwritable as exc:
            raise UsageError(f"cannot write {path}: {exc}") from None
    if fmt == "text" and view.raw is not None and not inv.terminal_out:
        _write_raw(inv.stdout, view.raw)
        return None
    inv.stdout.write(render(view, fmt))
    inv.stdout.flush()
    return None


def emit_item(inv, data: Any, line: str) -> None:
    """One item of a stream (`watch`): a text line, or one JSON document per line (a YAML
    document each with -o yaml: JSON is YAML)."""
    if inv.output == "text":
        text = escape(line)
    else:
        text = dump_json(data, indent=None)
        if inv.output == "yaml":
            text = "--- " + text
    inv.stdout.write(text + "\n")
    inv.stdout.flush()


def _write_raw(stream, values: list) -> None:
    buffer = getattr(stream, "buffer", None)
    stream.flush()
    if buffer is not None:
        buffer.write(b"".join(value + b"\n" for value in values))
        buffer.flush()
    else:
        stream.write("".join(value.decode("utf-8", "backslashreplace") + "\n" for value in values))
        stream.flush()


def dump_json(data: Any, indent: Optional[int] = 2) -> str:
    import json  # only when asked for: keeps start-up lean

    return json.dumps(data, indent=indent, ensure_ascii=False)


def one_line(value: Optional[str], limit: int = 60) -> str:
    """A value shortened to one line for change listings."""
    if value is None:
        return "(none)"
    if "\n" not in value.rstrip("\n") and len(value) <= limit:
        return value
    lines = value.rstrip("\n").split("\n")
    first = lines[0][:limit] + ("…" if len(lines[0]) > limit else "")
    return f"{first} … ({len(lines)} lines, {len(value)} chars)" if len(lines) > 1 else first


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """Columns padded to the widest cell as shown (escaped); the last column is not padded."""
    rows = [tuple(map(escape, row)) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([cell.ljust(w) for cell, w in zip(row, widths)] + [row[-1]]).rstrip() for row in rows]
