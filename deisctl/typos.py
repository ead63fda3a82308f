"""Did-you-mean: which known name a given one was probably meant to be. Pure functions.

`near_miss` is the strict test that refuses a write (a name that differs from a known one only by
case or by one edit is almost certainly a typo: `registrationmode`, `workerz`, `controler`);
`closest` is the looser suggestion that error messages add."""

from __future__ import annotations

from typing import Iterable, Optional


def _one_edit(a: str, b: str) -> bool:
    """a and b differ by exactly one insertion, deletion, substitution or adjacent transposition."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1:] == short:
            return True
    return False


def near_miss(name: str, known: Iterable[str]) -> Optional[str]:
    """The first known name that `name` differs from only by case or by one edit; None when `name` is
    itself known, or close to none. Short names (up to 3 characters) are never near misses: at
    that length one edit is another word."""
    known = list(dict.fromkeys(known))
    if name in known:
        return None
    lowered = name.lower()
    for candidate in known:
        if candidate.lower() == lowered:
            return candidate
    if len(name) <= 3:
        return None
    for candidate in known:  # in the order given: the caller puts the likelier names first
        if len(candidate) > 3 and _one_edit(lowered, candidate.lower()):
            return candidate
    return None


def closest(name: str, known: Iterable[str]) -> Optional[str]:
    """The most similar known name, for a did-you-mean (None when nothing is similar)."""
    import difflib

    known = [k for k in dict.fromkeys(known) if k != name]
    return near_miss(name, known) or next(iter(difflib.get_close_matches(name, known, n=1)), None)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`; did you mean 'x'?` or nothing."""
    close = closest(name, known)
    return f"; did you mean {close!r}?" if close else ""
