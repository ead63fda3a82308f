"""Secrets a person gives deisctl (a user's password, a backup's passphrase): from standard
input's first line (`--password-stdin`, `--passphrase-stdin`: docker login's convention, its
final newline dropped), from the environment where one is named, or asked on a terminal
(hidden; twice for a new one). Never from argv. Refused when empty, when the two answers differ,
or with nowhere to read one from."""

from __future__ import annotations

from typing import Optional

from deisctl.errors import UsageError

MAX_SECRET_BYTES = 4096  # more on standard input is not a password (a file piped by mistake)


def read_secret(inv, what: str, *, from_stdin: bool, stdin_flag: str, twice: bool, consequence: str,
                whose: str = "", env_var: Optional[str] = None) -> str:
    """The secret called `what` ("password", "passphrase") of `whose` (" for bob"): see the
    module. consequence: what did not happen, for the refusals ("nothing was sent")."""
    if from_stdin:
        reader = getattr(inv.stdin, "buffer", inv.stdin)
        data = reader.read(MAX_SECRET_BYTES + 1)
        if len(data) > MAX_SECRET_BYTES:
            raise UsageError(f"standard input holds more than {MAX_SECRET_BYTES} bytes: not a {what}; {consequence}")
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError:
            raise UsageError(f"the {what} on standard input is not UTF-8 text; {consequence}") from None
        secret = text[:-1] if text.endswith("\n") else text
        secret = secret[:-1] if secret.endswith("\r") else secret
        if "\n" in secret:
            raise UsageError(f"standard input holds more than one line: give the {what} alone; {consequence}")
    elif env_var and inv.env.get(env_var):
        secret = inv.env[env_var]
    else:
        label = what[:1].upper() + what[1:] + whose
        if inv.prompt is None:
            where = f"pass {stdin_flag} and give it on standard input" + (f", or set {env_var}" if env_var else "")
            raise UsageError(f"a {what}{whose} is needed, and there is no terminal to ask on", hint=where)
        secret = inv.prompt(f"{label}: ", secret=True)
        if twice and secret and inv.prompt(f"{label} (again): ", secret=True) != secret:
            raise UsageError(f"the two {what}s differ; {consequence}")
    if not secret:
        raise UsageError(f"empty {what}{whose}; {consequence}")
    return secret
