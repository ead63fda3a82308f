"""Dial a node (directly or through the bastion), check its host key, log in with public keys.

Every step has a deadline (connect, banner, key exchange, login); a key file's passphrase is
asked through an injected prompt, None when there is no terminal to ask on.
"""

from __future__ import annotations

import os
import shlex
import socket
import threading
import time
from dataclasses import replace
from typing import Callable, Optional

from deisctl.errors import AuthError, UnreachableError, UsageError
from deisctl.ssh.known_hosts import KnownHosts, fingerprint, known_hosts_name, preferred_key_types, verify_host_key
from deisctl.ssh.options import FLAGS, Address, Naming, SSHOptions
from deisctl.ssh.paramiko_loader import load_paramiko
from deisctl.ssh.session import SSHSession, reason


PassphrasePrompt = Optional[Callable[[str], str]]  # question -> answer; None: no terminal


def load_key(path: str, flag: str, passphrase_prompt: PassphrasePrompt = None, naming: Naming = FLAGS):
    """The private key in path; an encrypted one is unlocked with a passphrase from the prompt.
    flag: what names the key in messages; naming: how the hint says to stop naming it."""
    paramiko = load_paramiko()
    try:
        return paramiko.PKey.from_path(path)
    except FileNotFoundError:
        raise UsageError(f"{flag} file {path!r} does not exist") from None
    except OSError as exc:
        raise UsageError(f"cannot read {flag} file {path!r}: {exc.strerror or exc}") from None
    except (paramiko.SSHException, ValueError, TypeError) as exc:
        # An encrypted OpenSSH key shows up as a TypeError from cryptography, older formats as
        # PasswordRequiredException.
        if not (isinstance(exc, paramiko.PasswordRequiredException) or "password" in str(exc).lower()):
            if _is_public_key(path):
                private = path[:-len(".pub")] if path.endswith(".pub") else ""
                hint = (naming.give("ssh_key", shlex.quote(private)) if private and os.path.isfile(private)
                        else "give the private key file instead")
                raise UsageError(f"{flag} file {path!r} is a public key; SSH logs in with the private one",
                                 hint=hint) from None
            raise UsageError(f"{flag} file {path!r} is not a private key that deisctl can read "
                             f"(OpenSSH, PEM or PKCS#8; RSA, ECDSA or Ed25519)") from None
    if passphrase_prompt is None:
        raise AuthError(f"SSH key {path} is encrypted and there is no terminal to ask for its passphrase",
                        hint=f"load it into ssh-agent and {naming.drop('ssh_key')}")
    passphrase = passphrase_prompt(f"passphrase for {path}: ")
    try:
        return paramiko.PKey.from_path(path, passphrase.encode())
    except (paramiko.SSHException, ValueError, TypeError):
        raise AuthError(f"wrong passphrase for SSH key {path}") from None


_PUBLIC_KEY_STARTS = (b"ssh-", b"ecdsa-", b"sk-", b"---- BEGIN SSH2 PUBLIC KEY", b"-----BEGIN PUBLIC KEY",
                      b"-----BEGIN RSA PUBLIC KEY")


def _is_public_key(path: str) -> bool:
    """An OpenSSH public key line (id_ed25519.pub), an RFC 4716 one or a PEM public key."""
    try:
        with open(path, "rb") as file:
            return file.read(64).lstrip().startswith(_PUBLIC_KEY_STARTS)
    except OSError:
        return False


_AGENT_ENVIRONMENT = threading.Lock()  # one swap of os.environ at a time (status connects from threads)


def open_agent(paramiko, socket_path: str):
    """The SSH agent at the invocation's SSH_AUTH_SOCK. paramiko.Agent() (its public API) finds
    the agent only through os.environ: when the invocation's value is the process's own (the CLI,
    always), nothing is written; else (an API caller with its own environment) the value is put
    there while the agent connects, under a lock, and the process's own restored at once."""
    if (os.environ.get("SSH_AUTH_SOCK") or "") == socket_path:
        return paramiko.Agent()
    with _AGENT_ENVIRONMENT:
        saved = os.environ.get("SSH_AUTH_SOCK")
        try:
            if socket_path:
                os.environ["SSH_AUTH_SOCK"] = socket_path
            else:
                os.environ.pop("SSH_AUTH_SOCK", None)
            return paramiko.Agent()
        finally:
            if saved is None:
                os.environ.pop("SSH_AUTH_SOCK", None)
            else:
                os.environ["SSH_AUTH_SOCK"] = saved


def authenticate(transport, opts: SSHOptions, label: str, key_file_key=None, user_from: Optional[str] = None) -> None:
    """Public keys only: --ssh-key alone if given (loaded beforehand), else the agent's keys,
    then ~/.ssh/id_*. user_from: what set the login user when not the SSH options (the tunnel's USER@)."""
    paramiko = load_paramiko()
    tried: list[str] = []
    agent = None

    def candidates():
        nonlocal agent
        if opts.key_file:
            yield opts.key_file, key_file_key
            return
        try:
            agent = open_agent(paramiko, opts.agent_socket)
            for key in agent.get_keys():
                yield "agent key " + fingerprint(key), key
        except (paramiko.SSHException, OSError):
            pass
        for path in opts.default_key_files:
            if os.path.isfile(path):
                try:
                    yield path, paramiko.PKey.from_path(path)
                except (paramiko.SSHException, OSError, ValueError, TypeError):
                    continue  # encrypted (without agent) or unreadable: skipped

    try:
        for name, key in candidates():
            tried.append(name)
            try:
                transport.auth_publickey(opts.user, key)
            except paramiko.BadAuthenticationType as exc:
                raise AuthError(f"ssh {label} does not accept public keys (it allows: {', '.join(exc.allowed_types)})") from None
            except paramiko.AuthenticationException as exc:
                if "timeout" in str(exc).lower():
                    raise UnreachableError(f"ssh {label}: no answer to authentication within "
                                           f"{opts.naming.of('ssh_timeout')} {opts.timeout:g}s") from None
                continue
            if transport.is_authenticated():
                return
    finally:
        if agent is not None:
            agent.close()
    naming = opts.naming
    if not tried:
        raise AuthError(f"no SSH key to log in to {label}", hint=f"start ssh-agent or {naming.give('ssh_key', 'FILE')}")
    raise AuthError(f"ssh {label} refused the key(s): {', '.join(tried)}",
                    hint=f"check {user_from or naming.of('ssh_user')} and {naming.of('ssh_key')}")


def handshake(transport, timeout: float, failure: str, limit: str = "--ssh-timeout") -> None:
    """Banner and key exchange, each bounded by the timeout (paramiko's own start_client timeout
    returns silently instead of failing). limit: what names the timeout in messages."""
    done = threading.Event()
    transport.start_client(event=done)
    deadline = time.monotonic() + 2 * timeout  # banner_timeout covers the first half
    while not done.wait(0.05):
        if not transport.is_active():
            break
        if time.monotonic() > deadline:
            raise UnreachableError(f"{failure}: no SSH key exchange within {limit} {timeout:g}s")
    if not transport.is_active():
        error = transport.get_exception()
        text = str(error).lower()
        why = f"no SSH banner within {limit} {timeout:g}s" if "banner" in text else (
            reason(error) if error else "the server closed the connection")
        raise UnreachableError(f"{failure}: {why}")


def connect(host: str, opts: SSHOptions, *, note: Callable[[str], None], port: Optional[int] = None,
            user: Optional[str] = None, via: Optional[SSHSession] = None, what: str = "ssh",
            passphrase_prompt: PassphrasePrompt = None) -> SSHSession:
    """Connect, verify the host key, log in. Through `via` (the bastion) if given.

    note: where a recorded host key (accept-new) is reported; passphrase_prompt: see load_key."""
    paramiko = load_paramiko()
    port = opts.port if port is None else port
    user_from = "the USER@ of the tunnel address" if user else None  # a hint must name what set it
    user = user or opts.user
    label = str(Address(host, port, user))
    limit = opts.naming.of("ssh_timeout")
    deadline_msg = f"within {limit} {opts.timeout:g}s"
    # Before dialling: a bad --ssh-key fails without a connection, and a passphrase prompt
    # does not eat into the server's login timeout.
    key_file_key = load_key(opts.key_file, opts.naming.of("ssh_key"), passphrase_prompt,
                            opts.naming) if opts.key_file else None
    if via is not None:
        sock = via.open_forward(host, port)
    else:
        try:
            sock = socket.create_connection((host, port), timeout=opts.timeout)
        except OSError as exc:
            why = f"no answer {deadline_msg}" if isinstance(exc, (socket.timeout, TimeoutError)) else reason(exc)
            raise UnreachableError(f"cannot reach {what} {label}: {why}") from None
    transport = session = None
    try:
        transport = paramiko.Transport(sock)
        transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = opts.timeout
        known = KnownHosts(opts.known_hosts_path, opts.extra_known_hosts)
        entries = [e for e in known.entries_for(known_hosts_name(host, port)) if not e.revoked]
        security = transport.get_security_options()
        security.key_types = preferred_key_types(entries, tuple(security.key_types))
        handshake(transport, opts.timeout, f"cannot reach {what} {label}", limit)
        verify_host_key(known, host, port, transport.get_remote_server_key(), opts.strict_host_key_checking, note,
                        opts.naming)
        authenticate(transport, replace(opts, user=user), label, key_file_key,
                     user_from=user_from)
        session = SSHSession(transport, label, opts.timeout)
        return session
    except (OSError, EOFError, paramiko.SSHException) as exc:
        raise UnreachableError(f"{what} {label}: connection lost: {reason(exc)}") from None
    finally:
        if session is None:
            if transport is not None:
                transport.close()
            sock.close()
