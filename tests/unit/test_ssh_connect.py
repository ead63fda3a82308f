"""Key loading: an encrypted key's passphrase comes from the injected prompt (None: no terminal)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from deisctl.errors import AuthError, UsageError
from deisctl.ssh.connect import load_key

pytestmark = pytest.mark.skipif(not shutil.which("ssh-keygen"), reason="needs ssh-keygen (openssh-client)")


@pytest.fixture(scope="module")
def locked(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret", "-f", str(path)], check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)
    return str(path)


def test_passphrase_is_asked_through_the_prompt(locked):
    asked = []
    key = load_key(locked, "--ssh-key", lambda question: asked.append(question) or "s3cret")
    assert key.get_name() == "ssh-ed25519"
    assert asked == [f"passphrase for {locked}: "]


def test_wrong_passphrase_and_no_terminal_are_refused(locked):
    with pytest.raises(AuthError, match="wrong passphrase"):
        load_key(locked, "--ssh-key", lambda _: "nope")
    with pytest.raises(AuthError, match="no terminal") as err:
        load_key(locked, "--ssh-key", None)
    assert "ssh-agent" in err.value.hint


def test_missing_or_garbage_key_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_key(str(tmp_path / "nope"), "--ssh-key")
    garbage = tmp_path / "garbage"
    garbage.write_text("not a key\n")
    with pytest.raises(UsageError, match="not a private key that deisctl can read"):
        load_key(str(garbage), "--ssh-key")


def test_a_public_key_names_the_private_one_beside_it(tmp_path):
    import subprocess

    key = tmp_path / "id key"  # a space: the hint quotes it
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    with pytest.raises(UsageError) as err:
        load_key(f"{key}.pub", "--ssh-key")
    assert err.value.message == f"--ssh-key file '{key}.pub' is a public key; SSH logs in with the private one"
    assert err.value.hint == f"pass --ssh-key '{key}'"
    alone = tmp_path / "alone.pub"
    alone.write_text((tmp_path / "id key.pub").read_text())
    with pytest.raises(UsageError) as err:
        load_key(str(alone), "--ssh-key")
    assert err.value.hint == "give the private key file instead"


def test_the_encrypted_key_hint_undoes_the_key_where_it_was_set(locked):
    from deisctl.ssh.options import Naming

    for origin, advice in (("flag", "omit --ssh-key"), ("env", "unset DEISCTL_SSH_KEY"),
                           ("context", "remove ssh_key from the context")):
        with pytest.raises(AuthError) as err:
            load_key(locked, "--ssh-key", None, Naming(origins=(("ssh_key", origin),)))
        assert err.value.hint == f"load it into ssh-agent and {advice}"
