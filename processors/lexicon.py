"""Compile a lexicon pattern so the regex engine skips quickly to where a match can start.

A lexicon such as ``\\b(?:jailed|sentenced|...)\\b`` is tried at every position of a text, and the
word-boundary test at each one is the costly part (it asks Unicode tables about two characters).
:func:`lexicon` puts a look-ahead for the letters a match can start with in front of the pattern
(``(?=[hjs...])``): one cheap test of one character at most positions. The look-ahead only repeats
what the pattern itself requires, so every match, group and span is the same as without it.

The letters are read off the parsed pattern; a pattern this cannot read for certain (one that may
start with any character, or match the empty string) is compiled unchanged.
"""
from __future__ import annotations

import re

# the standard library's own regex parser (private, stable since Python 3.11): without it, patterns
# are compiled as they are
try:
    from re import _parser
    from re._constants import (ASSERT, ASSERT_NOT, AT, BRANCH, CATEGORY, CATEGORY_DIGIT, CATEGORY_SPACE, CATEGORY_WORD,
                               IN, LITERAL, MAX_REPEAT, MAXREPEAT, MIN_REPEAT, RANGE, SUBPATTERN)
except ImportError:  # pragma: no cover
    _parser = None

__all__ = ["lexicon", "first_chars"]


class _Unknown(Exception):
    """The pattern may start with a character we cannot list."""


_CATEGORIES = {CATEGORY_DIGIT: r"\d", CATEGORY_SPACE: r"\s", CATEGORY_WORD: r"\w"} if _parser else {}


def _first(items) -> tuple[set, bool]:
    """(what a match of the item sequence can start with: code points and class escapes such as
    ``\\d``, whether it can match empty)."""
    chars: set = set()
    for op, av in items:
        if op is LITERAL:
            chars.add(av)
            return chars, False
        if op is IN:
            for item, value in av:
                if item is LITERAL:
                    chars.add(value)
                elif item is RANGE and value[1] - value[0] <= 512:
                    chars.update(range(value[0], value[1] + 1))
                elif item is CATEGORY and value in _CATEGORIES:
                    chars.add(_CATEGORIES[value])
                else:  # a negated class, a large range
                    raise _Unknown
            return chars, False
        if op is AT or op is ASSERT or op is ASSERT_NOT:
            continue  # consumes nothing: the first character comes later
        if op is SUBPATTERN:
            if av[1] or av[2]:  # (?i:...) and the like: the group's own flags
                raise _Unknown
            sub, empty = _first(av[3])
        elif op is BRANCH:
            sub, empty = set(), False
            for alternative in av[1]:
                alt_chars, alt_empty = _first(alternative)
                sub |= alt_chars
                empty = empty or alt_empty
        elif op is MAX_REPEAT or op is MIN_REPEAT:
            low, high, body = av
            sub, empty = _first(body)
            empty = empty or low == 0
            if high is not MAXREPEAT and high == 0:
                sub, empty = set(), True
        else:  # any character, a back-reference, ...
            raise _Unknown
        chars |= sub
        if not empty:
            return chars, False
    return chars, True


def first_chars(pattern: str, flags: int = 0) -> str | None:
    """A character class (``[...]``) holding the first character of every match of ``pattern``, or
    None when it cannot be told."""
    if _parser is None:  # pragma: no cover
        return None
    try:
        chars, empty = _first(_parser.parse(pattern, flags).data)
    except _Unknown:
        return None
    if empty or not chars:
        return None
    letters = sorted(chr(c) for c in chars if isinstance(c, int))
    return "[" + "".join(map(re.escape, letters)) + "".join(sorted(c for c in chars if isinstance(c, str))) + "]"


def lexicon(pattern: str, flags: int = 0) -> re.Pattern:
    """``re.compile(pattern, flags)``, led by a look-ahead for the characters a match starts with."""
    first = first_chars(pattern, flags)
    if first is None:
        return re.compile(pattern, flags)
    return re.compile(f"(?={first})(?:{pattern})", flags)
