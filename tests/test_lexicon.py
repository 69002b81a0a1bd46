"""cashwatch.processors.lexicon: the look-ahead for first letters must change no match, and a word gate
must hold for every text its lexicon matches (a lexicon is skipped on a text whose word bits lack its
gate). Checked on hand-written sentences, on generated texts built from the lexicons' own words, and on
the shared corpora when they are present."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from cashwatch.processors import analyse as A
from cashwatch.processors import classify as C
from cashwatch.processors import dates as D
from cashwatch.processors import places as P
from cashwatch.processors import lexicon as L
from cashwatch.processors.lexicon import ALWAYS, first_chars, found, gate, lexicon, word_bits, word_starts

SHARED = Path(__file__).resolve().parents[2] / "shared"

_SENTENCES = [
    "Thieves used a stolen digger to rip the cash machine from the wall of a Tesco Express on Mill Road, Yaxley.",
    "A G4S guard, 52, of Leigh was robbed at knifepoint on Tuesday 3 March 2020; quote log 604 of 11/04/20.",
    "In a separate incident the raid in Newport happened between Sunday and Monday, police said.",
    "Two men were jailed for 12 years at Preston Crown Court after a spate of gas attacks across the county.",
    "CASH MACHINE BLOWN UP IN VILLAGE: Det Sgt Smith said no-one was hurt. Ça va, Ångström Ōsaka!",
    "the atm was ripped out ... ‘Appeal for witnesses’ at 3.30am — “it was struck twice” (overnight into Friday).",
    "", " ", "x", "1", "£200", "Mr. St. Ives", "ſecurity Kelvin K ATMs",
]
# and for the word gates: words run together, hyphens, quotes, other whitespace
_MORE = [
    "Officers urge businesses to be vigilant; figures show a rise in cash-in-transit robberies (per cent).",
    "An explosion was heard at 2am and the cashpoint was blown open; the gang fled empty-handed.",
    "The security van crew were threatened by men armed with a machete outside Lloyds Bank in Hinckley.",
    "He previously admitted conspiracy to steal and was remanded in custody until his trial next month.",
    "cash\u00a0machine\tstolen\nyesterday", "(ATM)", "'raid'", "ram-raid", "ramraid", "hole-in-the-wall",
    "cashmachine", "re-attacked", "un-stolen",
]


def _texts(sentences):
    for text in sentences:
        yield text
        yield text.lower()
        yield text.upper()


def _generated(n: int, seed: int = 7):
    """Texts made of the lexicons' own word beginnings, whole words and separators, shuffled."""
    words = sorted({w for rx in L._GATED for w in (word_starts(rx.pattern, rx.flags) or ())})
    words += ["cash", "machine", "in", "the", "last", "year", "same", "store", "per", "cent", "of", "a", "at",
              "gas", "cs", "pm", "am", "3", "2019", "to", "over", "up", "open", "off", "with", "s", "ing", "ed"]
    seps = [" ", "  ", "-", "\t", ", ", ". ", "'", "’", "(", ")", "", "\n", "/", "\u00a0"]
    rnd = random.Random(seed)
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(1, 12)):
            parts.append(rnd.choice(words))
            parts.append(rnd.choice(seps))
        yield "".join(parts)


def _assert_gates(texts):
    """Every gated lexicon that matches a text, or the text in lower case, has its gate in the text's bits."""
    checked = 0
    for text in texts:
        bits = word_bits(text)
        for rx in L._GATED:
            for read in (text, text.lower()):
                m = rx.search(read)
                if m is not None:
                    checked += 1
                    assert bits & gate(rx), (rx.pattern[:80], read)
                    assert word_bits(read[m.start():]) & gate(rx), (rx.pattern[:80], read)
                assert found(rx, read, bits) is (m is not None)
    return checked


def test_every_project_lexicon_that_can_be_gated_is():
    # the hot lexicons all have gates (a change that made one ungated would silently slow analysis)
    for rx in (C.ATM, C.CIT, C.ATTACK, C.CAMPAIGN, C.PAST, A._GENERAL, *(rx for _, rx in C.MO_TAGS),
               *(rx for _, rx in C.COURT_STAGES), *(rx for _, _, rx in C.ATM_TYPES)):
        assert gate(rx) > ALWAYS, rx.pattern[:60]
    assert len(L._GATED) >= 40


def test_gates_hold_for_written_sentences():
    assert _assert_gates(_texts(_SENTENCES + _MORE)) > 30


def test_word_char_is_the_regex_word_character():
    # the one definition of a word character the gates, the target-word check and the town check share
    from cashwatch.processors.lexicon import word_char

    for code in range(0x3000):
        ch = chr(code)
        assert word_char(ch) is (re.fullmatch(r"\w", ch) is not None), hex(code)


def test_target_words_are_found_by_their_beginnings():
    # a sentence that contains none of the target words' beginnings is never read for an attack
    texts = list(_texts(_SENTENCES + _MORE)) + list(_generated(2000, seed=11))
    article = " ".join(texts).lower()
    starts = C.target_starts(article)
    named = 0
    for text in texts:
        low = text.lower()
        if C.ATM.search(low) or C.CIT.search(low) or C.CIT_STRONG.search(low):
            named += 1
            assert C.may_name_target(low) and C.may_name_target(low, starts), text
            assert C.target_starts(low), text  # (the analyser reads no article without one)
        if not C.may_name_target(low, starts):
            assert C.attack_sentence(text) is None and not C.names_target(text)
    assert named > 100
    assert C.target_starts("a story about the weather") == ()
    # a beginning counts where it begins a word: after a space, punctuation or at the very start
    assert C.target_starts("the whole treatment was unbanked and excited") == ()
    assert C.target_starts("the city's citizens") == ("cit",)  # a beginning only: "CIT" is a whole word
    assert C.target_starts("atm-like (cash) 'money'") == ("atm", "cash", "money")
    assert C.target_starts("an ex-security man, x_guard") == ("security",)  # "_" is a word character


def test_gates_hold_for_generated_texts():
    assert _assert_gates(_generated(3000)) > 1000


def test_gates_hold_on_shared_corpora():
    dev = SHARED / "eval" / "dev.jsonl"
    truth = SHARED / "realworld" / "extraction" / "ground-truth.json"
    if not dev.exists() or not truth.exists():
        pytest.skip("../shared (dev articles, real-world pages) is not here: a user's clone has no ../shared/")
    texts = []
    for line in dev.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        texts += A.split_sentences(A.clean_lines(r.get("text") or "")) + [r.get("title") or ""]
    for body in json.loads(truth.read_text(encoding="utf-8")).values():
        texts += A.split_sentences(A.clean_lines(body.get("articleBody") or ""))
    assert _assert_gates(t.lower() for t in texts) > 1000
    assert _assert_gates(texts) > 1000


@pytest.mark.parametrize("pattern, starts", [
    (r"\b(?:jail|senten\w+)\b", {"jail", "senten"}),
    # "cashmachine" is one word: "machine" need not begin one
    (r"\b(?:cash\s*machines?|atm)\b", {"cash", "atm"}),
    (r"\b(?:ram[- ]?raid\w*)\b", {"ram"}),
    (r"\b(?:(?<!cs )gas(?:sed)?)\b", {"gas"}),
    # the rarer words of a phrase, not "the"
    (r"\b(?:the|a)\s+(?:same|previous)\s+(?:store|shop)\b", ({"same", "previous"}, {"store", "shop"})),
    # a word after optional ones still begins a word
    (r"\b(?:in|since)\s+(?:(?:early|late)[- ])?(?:19|20)\d\d\b", ({"19", "20"}, {"in", "since"})),
    (r"\b(?:the)\s+(?:(?:early|late)[- ])?(?:1999|2000)\d\d\b", {"1999", "2000"}),
])
def test_word_starts(pattern, starts):
    assert word_starts(pattern) in (starts if isinstance(starts, tuple) else (starts,))


@pytest.mark.parametrize("pattern", [
    r"(?:a|b)?c",          # "ac": c need not begin a word
    r"\d{1,2}\s*(?:am|pm)",  # "3am": no literal begins the word
    r"cash",               # no word boundary: "petty-cash" ... "minicash"
    r"\b(?i:atm)",         # its own flags
    r".\bx",
])
def test_no_word_starts_when_unsure(pattern):
    starts = word_starts(pattern)
    assert starts is None or all(re.fullmatch(r"\w+", s) for s in starts)
    if pattern == r"cash":
        assert starts is None
    if pattern in (r"(?:a|b)?c", r"\d{1,2}\s*(?:am|pm)", r"\b(?i:atm)"):
        assert starts is None


@pytest.mark.parametrize("text", ["the RAID", "Raid", "raid", "ſecurity guard", "the ſecurity van", "KELVIN",
                                  "\u212aelvin", "Ça raid", "no match here", "braid", "ＲＡＩＤ"])
def test_case_insensitive_lexicons(text):
    # a letter outside ASCII may match an ASCII one without case ("ſ" is "s", the Kelvin sign is "K")
    rx = lexicon(r"\b(?:raid|security|kelvin)\b", re.I)
    assert gate(rx) > ALWAYS
    for read in (text, text.lower()):
        assert found(rx, read, word_bits(text)) is (rx.search(read) is not None), read


def test_matches_runs_a_lexicon_only_when_its_gate_is_set():
    from cashwatch.processors.lexicon import matches

    text = "a digger ripped out the atm; a tractor dragged the other cash machine away"
    spans = [m.span() for m in C.ATM.finditer(text)]
    assert len(spans) == 2
    assert [m.span() for m in matches(C.ATM, text, word_bits(text))] == spans
    assert list(matches(C.ATM, text, word_bits(text) & ~gate(C.ATM))) == []  # gate missing: not run


def test_remembered_words_are_bounded(monkeypatch):
    monkeypatch.setattr(L._Words, "LIMIT", 3)
    L._WORDS.clear()
    text = "thieves stole a cash machine in the early hours"
    assert word_bits(text) & gate(C.ATM) and word_bits(text) & gate(C.ATTACK)
    assert len(L._WORDS) <= 3 and "hours" in L._WORDS  # full, it started again: the latest words are kept
    assert word_bits("nothing here") & gate(C.ATM) == 0
    assert word_bits(text) & gate(C.ATM)  # words forgotten are worked out again, the same


# -- look-aheads for first letters ----------------------------------------------------------------
def _guarded():
    for module in (C, A, D, P):
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and value.pattern.startswith("(?=["):
                yield f"{module.__name__}.{name}", value
    for kind, rx in D._PATTERNS:
        yield f"dates.{kind}", rx
    for tag, rx in C.MO_TAGS:
        yield f"mo.{tag}", rx


@pytest.mark.parametrize("name, rx", list(_guarded()))
def test_lexicon_look_ahead_changes_no_match(name, rx):
    plain = re.compile(rx.pattern[rx.pattern.index("(?:"):][3:-1], rx.flags)
    assert lexicon(plain.pattern, plain.flags).pattern == rx.pattern
    for text in _texts(_SENTENCES):
        assert [(m.span(), m.groups()) for m in rx.finditer(text)] == \
            [(m.span(), m.groups()) for m in plain.finditer(text)], (name, text)
        for pos in range(0, len(text), 7):
            assert bool(rx.match(text, pos)) == bool(plain.match(text, pos))


def test_first_chars_only_when_certain():
    assert first_chars(r"\b(?:ab|c[de]|(?:x\s+)?y)") == "[acxy]"
    assert first_chars(r"\b(?:a|\d+)") == r"[a\d]"
    assert first_chars(r"(?:a|b)?c*") is None  # may match nothing
    assert first_chars(r"[^a]b") is None and first_chars(r".b") is None
    assert first_chars(r"(?i:a)b") is None  # its own flags
    assert lexicon(r"(?:a|b)?c*").pattern == r"(?:a|b)?c*"
