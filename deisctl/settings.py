"""Global options, resolved once per invocation: flag > environment > default.

Typer reads each flag and its DEISCTL_<NAME> variable; this module applies the
defaults and checks the values, so that a bad option fails before any I/O.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

from deisctl.errors import UsageError
from deisctl.keys import SEGMENT_RE

DEFAULT_ENDPOINTS = "http://127.0.0.1:2379"
DEFAULT_PREFIX = "/deis"
DEFAULT_DIAL_TIMEOUT = 2.0
DEFAULT_COMMAND_TIMEOUT = 5.0
OUTPUT_FORMATS = ("text", "json", "yaml")


class Settings:
    """Resolved global options. A plain class: it is on every command's start-up path."""

    def __init__(self, *, endpoints: Optional[list[str]] = None, prefix: str = DEFAULT_PREFIX,
                 cacert: Optional[str] = None, cert: Optional[str] = None, key: Optional[str] = None,
                 user: Optional[str] = None, password: Optional[str] = None,
                 dial_timeout: float = DEFAULT_DIAL_TIMEOUT, command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
                 output: str = "text", debug: bool = False, tunnel: Optional[str] = None,
                 context: Optional[str] = None):
        self.endpoints = endpoints or [DEFAULT_ENDPOINTS]
        self.prefix = prefix
        self.cacert, self.cert, self.key = cacert, cert, key
        self.user, self.password = user, password
        self.dial_timeout, self.command_timeout = dial_timeout, command_timeout
        self.output, self.debug = output, debug
        self.tunnel = tunnel  # SSH bastion HOST[:PORT]; endpoints are resolved on its side
        self.context = context  # named context from the config file
        self.context_values: dict = {}  # that context's settings (deisctl.contexts.value reads them)
        self.sources: dict = {}  # option -> "flag or environment" | "context NAME" | "default"

    def __repr__(self) -> str:
        shown = {k: ("***" if k == "password" and v else v) for k, v in vars(self).items()}
        return f"Settings({shown})"

    def component_prefix(self, component: str) -> str:
        return f"{self.prefix}/{component}/"


def normalize_prefix(prefix: str) -> str:
    stripped = prefix.rstrip("/")
    if not prefix.startswith("/") or not stripped:
        raise UsageError(f"invalid --prefix {prefix!r}", hint="an absolute key path such as /deis")
    for segment in stripped[1:].split("/"):
        if segment in ("", ".", "..") or not SEGMENT_RE.match(segment):
            raise UsageError(f"invalid --prefix {prefix!r}: bad segment {segment!r}")
    return stripped


def split_endpoints(value: str) -> list[str]:
    endpoints = [part.strip() for part in value.split(",") if part.strip()]
    if not endpoints:
        raise UsageError("--endpoints is empty")
    return endpoints


def positive_seconds(name: str, value: float) -> float:
    if not value > 0:
        raise UsageError(f"{name} must be a positive number of seconds, got {value}")
    return value


def split_user(value: str, env: dict) -> tuple[str, Optional[str]]:
    """`NAME[:PASSWORD]`; without a password use DEISCTL_PASSWORD, else prompt on a terminal."""
    name, sep, password = value.partition(":")
    if not name:
        raise UsageError("--user needs a user name")
    if sep:
        return name, password
    if env.get("DEISCTL_PASSWORD"):
        return name, env["DEISCTL_PASSWORD"]
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        return name, getpass.getpass(f"etcd password for {name}: ")
    raise UsageError(
        f"no password for etcd user {name!r}",
        hint="use --user NAME:PASSWORD or set DEISCTL_PASSWORD",
    )


def build(
    *,
    endpoints: Optional[str],
    prefix: Optional[str],
    cacert: Optional[str],
    cert: Optional[str],
    key: Optional[str],
    user: Optional[str],
    dial_timeout: Optional[float],
    command_timeout: Optional[float],
    output: Optional[str],
    debug: bool,
    tunnel: Optional[str] = None,
    context: Optional[str] = None,
    env: Optional[dict] = None,
    lenient_context: bool = False,
) -> Settings:
    env = os.environ if env is None else env
    from deisctl import contexts  # reads the config file (and imports YAML) only if it exists

    context, values = contexts.resolve(context or None, env, lenient=lenient_context)
    given = {"endpoints": endpoints, "prefix": prefix, "cacert": cacert, "cert": cert, "key": key, "user": user,
             "dial_timeout": dial_timeout, "command_timeout": command_timeout, "tunnel": tunnel}
    sources = {}
    for name, flag_value in given.items():
        if flag_value is not None and flag_value != "":
            sources[name] = "flag or environment"
        elif name in values:
            given[name], sources[name] = values[name], f"context {context}"
        else:
            sources[name] = "default"
    endpoints, prefix, cacert, cert, key, user = (given[n] for n in ("endpoints", "prefix", "cacert", "cert", "key",
                                                                      "user"))
    dial_timeout, command_timeout, tunnel = given["dial_timeout"], given["command_timeout"], given["tunnel"]
    settings = Settings(debug=debug, tunnel=tunnel or None, context=context or None)
    settings.context_values, settings.sources = values, sources
    settings.endpoints = split_endpoints(endpoints or DEFAULT_ENDPOINTS)
    settings.prefix = normalize_prefix(prefix or DEFAULT_PREFIX)
    settings.cacert, settings.cert, settings.key = cacert, cert, key
    if bool(cert) != bool(key):
        raise UsageError("--cert and --key go together (client certificate and its key)")
    if user:
        settings.user, settings.password = split_user(user, env)
    settings.dial_timeout = positive_seconds(
        "--dial-timeout", DEFAULT_DIAL_TIMEOUT if dial_timeout is None else dial_timeout
    )
    settings.command_timeout = positive_seconds(
        "--command-timeout", DEFAULT_COMMAND_TIMEOUT if command_timeout is None else command_timeout
    )
    settings.output = (output or "text").lower()
    if settings.output not in OUTPUT_FORMATS:
        raise UsageError(f"unknown output format {output!r}", hint="text, json or yaml")
    return settings
