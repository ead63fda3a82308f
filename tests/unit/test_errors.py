"""deisctl.errors: the exit-code table and one-line errors (no servers)."""

from __future__ import annotations

from deisctl.errors import EXIT_CODE_HELP, MEANINGS, ExitCode


def test_error_render_is_one_line():
    from deisctl.errors import NotFoundError

    err = NotFoundError("key\nnot found", hint="try\nthis")
    assert err.render() == "error: key not found (try this)"
    assert err.exit_code == 3


def test_every_exit_code_has_a_meaning_in_the_help():
    assert set(MEANINGS) == set(ExitCode)
    for code, meaning in MEANINGS.items():
        assert f"{int(code)} {meaning}" in EXIT_CODE_HELP
