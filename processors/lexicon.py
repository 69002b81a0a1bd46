"""Compile a lexicon pattern so the regex engine skips quickly to where a match can start.

A lexicon such as ``\\b(?:jailed|sentenced|...)\\b`` is tried at every position of a text, and the
word-boundary test at each one is the costly part (it asks Unicode tables about two characters).
:func:`lexicon` puts a look-ahead for the letters a match can start with in front of the pattern
(``(?=[hjs...])``): one cheap test of one character at most positions. The look-ahead only repeats
what the pattern itself requires, so every match, group and span is the same as without it.

The letters are read off the parsed pattern; a pattern this cannot read for certain (one that may
start with any character, or match the empty string) is compiled unchanged.

Word gates: most lexicons cannot match a text unless one of its words begins with one of a few
literal beginnings ("jail", "senten", ...), read off the parsed pattern by :func:`word_starts`.
:func:`word_bits` answers that for every gated lexicon at once from the text's words (each word's
answer is remembered), which is far cheaper than a regex pass over the text: a lexicon whose
:func:`gate` bit is not in a text's bits is not run on it, and its answer is the same (no match).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from functools import reduce
from operator import or_
from typing import ClassVar

# the standard library's own regex parser (private, stable since Python 3.11): without it, patterns
# are compiled as they are
try:
    from re import _parser  # type: ignore[attr-defined]
    from re._constants import (ASSERT, ASSERT_NOT, AT, AT_BEGINNING, AT_BEGINNING_STRING, AT_BOUNDARY, BRANCH,
                               CATEGORY, CATEGORY_DIGIT, CATEGORY_NOT_WORD, CATEGORY_SPACE, CATEGORY_WORD, IN, LITERAL,
                               MAX_REPEAT, MAXREPEAT, MIN_REPEAT, RANGE, SUBPATTERN)
except ImportError:  # pragma: no cover
    _parser = None

__all__ = ["lexicon", "first_chars", "word_starts", "word_char", "gate", "found", "matches", "word_bits", "ALWAYS"]


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


def _parse(pattern: str, flags: int):
    """The parsed pattern's items, or None without the parser."""
    return _parser.parse(pattern, flags).data if _parser is not None else None


def _first_class(items) -> str | None:
    if items is None:  # pragma: no cover
        return None
    try:
        chars, empty = _first(items)
    except _Unknown:
        return None
    if empty or not chars:
        return None
    letters = sorted(chr(c) for c in chars if isinstance(c, int))
    return "[" + "".join(map(re.escape, letters)) + "".join(sorted(c for c in chars if isinstance(c, str))) + "]"


def first_chars(pattern: str, flags: int = 0) -> str | None:
    """A character class (``[...]``) holding the first character of every match of ``pattern``, or
    None when it cannot be told."""
    return _first_class(_parse(pattern, flags))


def lexicon(pattern: str, flags: int = 0) -> re.Pattern:
    """``re.compile(pattern, flags)``, led by a look-ahead for the characters a match starts with, and
    given its word gate (:func:`gate`). (The pattern is parsed once for both.)"""
    items = _parse(pattern, flags)
    first = _first_class(items)
    rx = re.compile(pattern if first is None else f"(?={first})(?:{pattern})", flags)
    _register(rx, _word_starts(items, flags))
    return rx


# -- word gates -------------------------------------------------------------------------------------
# Every match of ``\\b(?:jail|senten...)`` starts a word (a maximal run of ``\\w``) with "jail" or
# "senten": a text no word of which begins so cannot match. (``\\w`` as the regex engine reads it:
# :func:`word_char`.)

def word_char(ch: str) -> bool:
    """Whether ``ch`` is a word character as the regex engine reads ``\\w`` (and ``\\b``) in text."""
    return ch.isalnum() or ch == "_"


def _non_word_class(av) -> bool:
    """A character class (``IN``) that only holds non-word characters (``[- ]``, ``\\s``)."""
    for item, value in av:
        if item is LITERAL:
            if word_char(chr(value)):
                return False
        elif item is CATEGORY:
            if value not in (CATEGORY_SPACE, CATEGORY_NOT_WORD):
                return False
        else:  # a negated class, a range: may hold word characters
            return False
    return True


# words that begin a word of nearly every news sentence, or of every sentence of an ATM or cash-in-transit
# story: a gate on them lets almost everything through, so another part of the pattern is chosen
_COMMON = frozenset("a an and are as at back be been by during each for from had has have he her his in is it "
                    "last made of on or police said since that the their they this to was were which who with year "
                    "years th wh "
                    "atm atms cash machine machines money bank security officers".split())


def _cost(starts: frozenset[str]) -> float:
    """How often some word of a text begins with one of ``starts``, roughly (for choosing among gates):
    a short beginning ("a", "th") begins very many words."""
    return sum(4.0 if len(s) == 1 else 2.0 if len(s) == 2 or s in _COMMON else 1 / len(s) for s in starts)


def _sequence(items, at: bool) -> tuple[frozenset[str] | None, bool]:
    """(word beginnings one of which every match of the item sequence has, or None; whether the position
    after it is a word start when a word character follows). ``at``: the same for the position before."""
    options: list[frozenset[str]] = []  # each: beginnings one of which every match has
    run: list[str] = []  # literal word characters read since a word start
    run_ok = False

    def close() -> None:
        if run and run_ok:
            options.append(frozenset(["".join(run)]))
        run.clear()

    for op, av in items:
        if op is LITERAL and word_char(chr(av)):
            if not run:
                run_ok = at
            run.append(chr(av))
            at = False
            continue
        close()
        if op is LITERAL:
            at = True  # after a non-word character
        elif op is IN:
            at = _non_word_class(av)
        elif op is AT:
            at = av is AT_BOUNDARY or av is AT_BEGINNING or av is AT_BEGINNING_STRING
        elif op is ASSERT or op is ASSERT_NOT:
            pass  # consumes nothing
        elif op is SUBPATTERN:
            if av[1] or av[2]:  # its own flags ((?i:...)): not read
                at = False
                continue
            sub, at = _sequence(av[3], at)
            if sub is not None:
                options.append(sub)
        elif op is BRANCH:
            subs = [_sequence(alternative, at) for alternative in av[1]]
            if all(sub is not None for sub, _ in subs):
                options.append(frozenset().union(*(sub for sub, _ in subs)))  # type: ignore[arg-type]
            at = all(after for _, after in subs)
        elif op is MAX_REPEAT or op is MIN_REPEAT:
            low, high, body = av
            sub, first = _sequence(body, at)
            if low >= 1 and sub is not None:
                options.append(sub)
            if high is MAXREPEAT or high > 1:
                first = first and _sequence(body, False)[1]  # later rounds start after the last
            at = first if low >= 1 else at and first
        else:  # any character, a back-reference, ...
            at = False
    close()
    return (min(options, key=_cost) if options else None), at


def word_starts(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Literal beginnings such that every match of ``pattern`` has a word beginning with one of them,
    or None when that cannot be told (a pattern that may start anywhere). A case-insensitive pattern's
    beginnings are given in lower case (and must be ASCII: "K" also matches the Kelvin sign)."""
    return _word_starts(_parse(pattern, flags), flags)


def _word_starts(items, flags: int) -> frozenset[str] | None:
    if items is None or flags & (re.ASCII | re.LOCALE):  # pragma: no cover
        return None
    try:
        starts, _ = _sequence(items, False)  # a search may begin anywhere
    except Exception:  # pragma: no cover - a parser change: no gate
        return None
    if starts and flags & re.IGNORECASE:
        starts = frozenset(s.lower() for s in starts)
        if not all(s.isascii() for s in starts):
            return None
    return starts


ALWAYS = 1  # the bit of lexicons without a gate: set in every text's bits
_BITS: dict[int, int] = {}  # id of a lexicon -> its bit (a pattern's own hash reads its whole code)
_GATED: list[re.Pattern] = []  # the lexicons of _BITS, kept alive so that their ids stay theirs
_STARTS: dict[str, int] = {}  # word beginning -> bits of the lexicons it lets through
_CASELESS = 0  # bits of the case-insensitive lexicons
_HEADS: set[str] = set()  # every beginning of a word beginning in _STARTS ("j", "ja", "jai", "jail")
_WORD = re.compile(r"\w+")


def _register(rx: re.Pattern, starts: frozenset[str] | None) -> None:
    global _CASELESS
    if not starts or id(rx) in _BITS:
        return
    bit = _BITS[id(rx)] = 1 << (1 + len(_BITS))
    _GATED.append(rx)
    if rx.flags & re.IGNORECASE:
        _CASELESS |= bit
    for start in starts:
        _STARTS[start] = _STARTS.get(start, 0) | bit
        _HEADS.update(start[:n] for n in range(1, len(start) + 1))
    _WORDS.clear()  # answers given before this lexicon came lack its bit


def gate(rx: re.Pattern) -> int:
    """The bit of lexicon ``rx`` in :func:`word_bits`: :data:`ALWAYS` for a pattern without a gate (one
    not made by :func:`lexicon`, or that may begin anywhere). Lexicons get their bits when they are
    compiled, as the modules that hold them are imported: before any text's bits are taken."""
    return _BITS.get(id(rx), ALWAYS)


def found(rx: re.Pattern, text: str, bits: int) -> bool:
    """Whether ``rx`` matches ``text``, where ``bits`` are the :func:`word_bits` of ``text`` or of the
    text it is the lower case of: a lexicon whose gate is not among them cannot match, and is not run."""
    return bool(bits & _BITS.get(id(rx), ALWAYS)) and rx.search(text) is not None


def matches(rx: re.Pattern, text: str, bits: int) -> Iterator[re.Match]:
    """``rx.finditer(text)``, where ``bits`` are as for :func:`found`: nothing, without running ``rx``, when
    its gate is not among them."""
    return rx.finditer(text) if bits & _BITS.get(id(rx), ALWAYS) else iter(())


def _token_bits(token: str) -> int:
    """The bits of one whitespace-separated token: of its words and of its words in lower case (0: none,
    as for most words)."""
    bits = 0
    low = token.lower()
    words = _WORD.findall(token)
    if low != token:
        words += _WORD.findall(low)
    if not token.isascii() and any(not c.isascii() and word_char(c) for c in token):
        bits |= _CASELESS  # a letter outside ASCII may match an ASCII one without case ("ſ", "K")
    for word in words:
        for n in range(1, len(word) + 1):
            head = word[:n]
            if head not in _HEADS:
                break  # no longer beginning of this word is a word beginning either
            bits |= _STARTS.get(head, 0)
    return bits


class _Words(dict):
    """Whitespace-separated token -> its bits, remembered. Up to a bound: when full it starts again, so a
    monitor running for months remembers the words of the news it reads now, not only of its first weeks.
    (Read through ``[]`` only: compiled by mypyc, a dict subclass's ``get``, ``in`` and ``len`` are dict's.)"""

    LIMIT: ClassVar[int] = 200_000

    def __missing__(self, token: str) -> int:
        bits = _token_bits(token)
        if len(self) >= self.LIMIT:
            self.clear()
        self[token] = bits
        return bits


_WORDS = _Words()


def word_bits(text: str) -> int:
    """The bits (:func:`gate`) of every lexicon that may match ``text`` or ``text.lower()``: a lexicon
    whose bit is not set matches neither. (Every word lies inside one whitespace-separated token, so
    tokens are looked up; a token's lower case is the lower-cased text's token.)"""
    # (most tokens have no bits: they are dropped before the ORs)
    return reduce(or_, filter(None, map(_WORDS.__getitem__, text.split())), ALWAYS)
