"""The local TLS files (--cacert, --cert, --key), read and checked before anything is dialled, and
what a failed TLS handshake means: a bad local file is a usage error that names it (exit 2), a
server certificate the CA does not vouch for is refused like an SSH host key (exit 5).

gRPC only finds out about a bad file when it dials, and then says "handshake failed" (or logs
"Invalid private key" on stderr and says nothing); Python's ssl module (OpenSSL, as gRPC's
BoringSSL) parses the same PEM files and tells which one is wrong. Only TLS users import it.
"""

from __future__ import annotations

import os
import stat
from typing import Optional

from deisctl.errors import UsageError

MAX_PEM_BYTES = 1024 * 1024  # a CA bundle is a few hundred KiB at most


def _read(flag: str, path: str) -> bytes:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # before open: a FIFO would block it
            raise UsageError(f"cannot read {flag} file {path!r}: not a regular file")
        with open(path, "rb") as handle:
            data = handle.read(MAX_PEM_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {flag} file {path!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_PEM_BYTES:
        raise UsageError(f"{flag} file {path!r} is larger than {MAX_PEM_BYTES} bytes: not a PEM file")
    return data


def _certificates(flag: str, path: str, data: bytes) -> None:
    """The file holds at least one PEM certificate that parses."""
    import ssl

    text = data.decode("ascii", "replace")
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise UsageError(f"{flag} file {path!r} holds no PEM certificate")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=text)
    except (ssl.SSLError, ValueError) as exc:
        raise UsageError(f"{flag} file {path!r} holds no valid PEM certificate ({exc.args[-1]})") from None


def _key_pair(cert: str, key: str) -> None:
    """--key is an unencrypted PEM private key that belongs to the certificate in --cert."""
    import ssl

    def encrypted():
        raise UsageError(f"--key file {key!r} is encrypted; gRPC needs the private key unencrypted")

    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cert, key, password=encrypted)
    except ssl.SSLError as exc:
        if "KEY_VALUES_MISMATCH" in str(exc):
            raise UsageError(f"--key file {key!r} is not the private key of the --cert file {cert!r}") from None
        raise UsageError(f"--key file {key!r} holds no valid PEM private key") from None


def read_credentials(settings) -> tuple[Optional[bytes], Optional[bytes], Optional[bytes]]:
    """(root certificates, private key, certificate chain) for grpc.ssl_channel_credentials, each
    checked; None where the option is not set (the system's roots, no client certificate)."""
    s = settings
    ca = _read("--cacert", s.cacert) if s.cacert else None
    key = _read("--key", s.key) if s.key else None
    cert = _read("--cert", s.cert) if s.cert else None
    if ca is not None:
        _certificates("--cacert", s.cacert, ca)
    if cert is not None:
        _certificates("--cert", s.cert, cert)
        if key is not None:
            _key_pair(s.cert, s.key)
    return ca, key, cert


def handshake_refusal(details: str, settings, secure: bool) -> Optional[str]:
    """What a failed TLS handshake means when it is a refusal rather than a network failure:
    the server's certificate is not signed by a CA we trust, or the server refused our client
    certificate (or the lack of one). None for every other failure."""
    if not secure:
        return None
    lowered = details.lower()
    if "certificate_verify_failed" in lowered or "certificate verify failed" in lowered:
        where = f"--cacert {settings.cacert}" if settings.cacert else "the system's CA certificates (--cacert)"
        return f"TLS: the server certificate is not signed by a CA in {where}"
    # TLS 1.3: the server checks our certificate after the handshake, and its alert arrives
    # as a record gRPC cannot decrypt.
    if any(sign in lowered for sign in ("tsi_data_corrupted", "unwrap failed", "alert_bad_certificate",
                                        "alert_certificate_required", "alert_unknown_ca")):
        if settings.cert:
            return f"TLS: the server refused the client certificate --cert {settings.cert}"
        return "TLS: the server requires a client certificate (--cert and --key)"
    return None
