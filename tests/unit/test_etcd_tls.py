"""The local TLS files, checked before anything is dialled, and what a failed handshake means
(no server: openssl makes the files)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from deisctl.errors import ExitCode, UsageError
from deisctl.etcd.tls import MAX_PEM_BYTES, handshake_refusal, read_credentials
from deisctl.settings import Settings
from tests.rig.etcd import make_tls


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    return make_tls(tmp_path_factory.mktemp("tls"))


def refused(settings, *fragments):
    with pytest.raises(UsageError) as caught:
        read_credentials(settings)
    assert caught.value.exit_code == ExitCode.USAGE
    for fragment in fragments:
        assert fragment in caught.value.message
    return caught.value.message


def test_good_files_are_returned_as_grpc_wants_them(tls):
    ca, key, cert = read_credentials(Settings(cacert=str(tls.ca), cert=str(tls.client_cert), key=str(tls.client_key)))
    assert ca == tls.ca.read_bytes() and key == tls.client_key.read_bytes() and cert == tls.client_cert.read_bytes()
    assert read_credentials(Settings()) == (None, None, None)  # the system's roots


def test_a_ca_file_that_is_not_pem_names_the_file(tls, tmp_path):
    garbage = tmp_path / "ca.pem"
    garbage.write_text("hello\n")
    refused(Settings(cacert=str(garbage)), "--cacert", str(garbage), "no PEM certificate")
    garbage.write_text("")
    refused(Settings(cacert=str(garbage)), "--cacert", "no PEM certificate")
    refused(Settings(cacert=str(tls.client_key)), "--cacert", "no PEM certificate")  # a key, not a certificate
    garbage.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    refused(Settings(cacert=str(garbage)), "--cacert", "no valid PEM certificate")


def test_unreadable_and_oversized_files(tmp_path):
    refused(Settings(cacert=str(tmp_path)), "cannot read --cacert file", "not a regular file")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    refused(Settings(cacert=str(fifo)), "not a regular file")  # and no hang
    refused(Settings(cacert=str(tmp_path / "nope.pem")), "cannot read --cacert file")
    big = tmp_path / "big.pem"
    big.write_bytes(b"x" * (MAX_PEM_BYTES + 1))
    refused(Settings(cacert=str(big)), "--cacert", "larger than")


def test_a_key_that_is_not_the_certificates(tls):
    message = refused(Settings(cert=str(tls.client_cert), key=str(tls.server_key)), "--key", "--cert")
    assert str(tls.server_key) in message and "is not the private key" in message


def test_a_certificate_or_key_that_is_not_pem(tls, tmp_path):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello\n")
    refused(Settings(cert=str(garbage), key=str(tls.client_key)), "--cert", str(garbage))
    refused(Settings(cert=str(tls.client_cert), key=str(garbage)), "--key", str(garbage), "no valid PEM private key")


def test_an_encrypted_key_is_refused_without_a_prompt(tls, tmp_path):
    encrypted = tmp_path / "enc.key"
    subprocess.run(["openssl", "ec", "-in", str(tls.client_key), "-aes256", "-passout", "pass:x",
                    "-out", str(encrypted)], check=True, capture_output=True)
    refused(Settings(cert=str(tls.client_cert), key=str(encrypted)), "--key", "encrypted")


@pytest.mark.parametrize("details, secure, expected", [
    ("Ssl handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL "
     "routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED", True,
     "TLS: the server certificate is not signed by a CA in --cacert ca.pem"),
    ("Unwrap failed (TSI_DATA_CORRUPTED)", True, "TLS: the server requires a client certificate (--cert and --key)"),
    ("Socket closed", True, None),
    ("Peer name x is not in peer certificate; hostname verification failed", True, None),  # today's message
    ("CERTIFICATE_VERIFY_FAILED", False, None),
])
def test_handshake_refusals(details, secure, expected):
    assert handshake_refusal(details, Settings(cacert="ca.pem"), secure) == expected


def test_a_refused_client_certificate_is_named():
    text = handshake_refusal("Unwrap failed (TSI_DATA_CORRUPTED)", Settings(cert="me.pem", key="me.key"), True)
    assert text == "TLS: the server refused the client certificate --cert me.pem"
    assert "system's CA" in handshake_refusal("CERTIFICATE_VERIFY_FAILED", Settings(), True)
