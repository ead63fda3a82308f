"""Did-you-mean: which known name a given one was probably meant to be. Pure functions.

`near_miss` is the strict test that refuses a write (a name that differs from a known one only by
case or by one edit is almost certainly a typo: `registrationmode`, `workerz`, `controler`);
`closest` is the looser suggestion that error messages add."""

from __future__ import annotations

from typing import Iterable, Optional


def _one_edit(a: str, b: str) -> bool:
    """a and b differ by exactly one insertion, deletion, substitution or adjacent transposition
    of a character that is not a digit: `item7` beside `item6` or `item10` is the next of a
    series, not a typo."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return not (a[diff[0]].isdigit() or b[diff[0]].isdigit())
        return (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
                and not a[diff[0]].isdigit() and not a[diff[1]].isdigit())
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1:] == short:
            return not long_[i].isdigit()
    return False


class NearMisses:
    """The near-miss test against many known names at once (a component's thousands of keys):
    an index of each name's one-character deletions finds the few candidates within one edit,
    which are then checked exactly, instead of comparing against every name."""

    def __init__(self, known: Iterable[str]):
        self.order = {name: index for index, name in enumerate(dict.fromkeys(known))}
        self.lowered: dict[str, str] = {}
        self.deletions: dict[str, list[str]] = {}
        for name in self.order:
            low = name.lower()
            self.lowered.setdefault(low, name)
            if len(name) > 3:
                for variant in {low, *_deletions(low)}:
                    self.deletions.setdefault(variant, []).append(name)

    def of(self, name: str) -> Optional[str]:
        """The first known name (in the order given) that `name` differs from only by case or by
        one edit; None when `name` is itself known, or close to none. Short names (up to 3
        characters) are never near misses: at that length one edit is another word."""
        if name in self.order:
            return None
        low = name.lower()
        if low in self.lowered:
            return self.lowered[low]
        if len(name) <= 3:
            return None
        found = {candidate for variant in {low, *_deletions(low)} for candidate in self.deletions.get(variant, ())}
        close = [c for c in found if _one_edit(low, c.lower())]
        return min(close, key=self.order.__getitem__) if close else None


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def near_miss(name: str, known: Iterable[str]) -> Optional[str]:
    """NearMisses(known).of(name), for one name."""
    return NearMisses(known).of(name)


def closest(name: str, known: Iterable[str]) -> Optional[str]:
    """The most similar known name, for a did-you-mean (None when nothing is similar)."""
    import difflib

    known = [k for k in dict.fromkeys(known) if k != name]
    return near_miss(name, known) or next(iter(difflib.get_close_matches(name, known, n=1)), None)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`; did you mean 'x'?` or nothing."""
    close = closest(name, known)
    return f"; did you mean {close!r}?" if close else ""
