"""Text shown to people is escaped: whatever came from outside (a key or value from etcd, a line
from a node or a controller, argv) can neither forge a line of its own (a newline, then `error:
...`), send escape sequences to the terminal, nor reorder or break what is shown (Unicode's bidi
controls U+202A-U+202E and U+2066-U+2069, line and paragraph separators U+2028/U+2029, zero-width
and other format characters). The one rule for stdout's text output and for every line on stderr;
JSON and YAML stay exact. Pure, and imported by every layer (errors too).
"""

from __future__ import annotations

# Control characters as \xNN (\n, \r, \t by name); bytes that are not UTF-8 in a key (kept as
# surrogate escapes, etcd.kv.key_text) as the byte they were.
_ESCAPES = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]}
_ESCAPES.update({0xDC00 + b: f"\\x{b:02x}" for b in range(0x80, 0x100)})
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})


def _escaped(char: str) -> str:
    code = ord(char)
    if code in _ESCAPES:
        return _ESCAPES[code]
    if char.isprintable():
        return char
    # Any other character Unicode does not call printable: format (bidi, zero-width), line and
    # paragraph separators, spaces other than " ", private use, unassigned, lone surrogates.
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def escape(line: str) -> str:
    """One line of text, every character that is not plainly printable shown as \\n, \\x1b, \\u202e..."""
    return line if line.isprintable() else "".join(map(_escaped, line))
