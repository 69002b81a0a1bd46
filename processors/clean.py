"""Cleaning rules that remove what is not the story from a news page.

Two layers, both pure functions without I/O:

* :func:`prune_tree` works on the parsed page *before* the main-text extractor sees it and deletes
  whole blocks that are furniture around the story: picture captions, sign-up and share boxes,
  related-story lists, "READ MORE: <other headline>" link paragraphs, cookie banners, comments.
* :func:`clean_body` works on the extracted text *after* the extractor and drops the lines that
  slipped through anyway: promotion prefixes ("READ MORE:", "Related:", "Sign up to ..."), share
  and subscription prompts, picture credits.

Every rule is named in :data:`TREE_RULES` / :data:`LINE_RULES` so tests can address them one by one.
The rules are generic (no site names): they describe how news pages are built, not one page.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from lxml.html import HtmlElement

# --- tree rules -------------------------------------------------------------------------------

# Words that, as a whole token of an element's class or id (split on space, "-", "_"), mark a block
# that is page furniture rather than story. Matching whole tokens keeps "shared" or "relatedness"
# from firing, and leaves "article-body" or "story__content" alone.
_BOILERPLATE_TOKENS = frozenset({
    "related", "relatedstories", "newsletter", "newsletters", "signup", "subscribe", "subscription",
    "share", "sharing", "sharebar", "social", "promo", "readmore", "recommended", "recommendations",
    "outbrain", "taboola", "cookie", "cookies", "consent", "gdpr", "caption", "figcaption", "credit",
    "comments", "comment", "trending", "mostread", "most", "popular", "breadcrumb", "breadcrumbs",
    "byline", "author", "authors", "contributor", "dateline", "timestamp", "meta", "metadata",
    "ad", "ads", "advert", "adverts", "advertisement", "adslot", "sponsored", "tags", "topics",
    "masthead", "logo", "sidebar", "widget", "banner", "callout", "cta", "posted",
})
# Two-word furniture names written with a separator ("read-more", "sign-up", "most-read").
_BOILERPLATE_PAIRS = frozenset({
    ("read", "more"), ("sign", "up"), ("most", "read"), ("most", "popular"), ("more", "stories"),
    ("also", "like"), ("you", "may"), ("more", "from"), ("top", "stories"),
})
# Never removed by class/id: the containers a whole article lives in, where a wrong token match
# (e.g. class="post has-comments") would throw the story away.
_PROTECTED_TAGS = frozenset({"html", "body", "main", "article"})
# A block with this much text in sentence-length paragraphs is story, whatever its class says.
STORY_PROSE_CHARS = 400
_TOKEN_SPLIT = re.compile(r"[\s_\-]+")
# Furniture words hiding inside run-together class names ("relatedLinks", "shareButtons").
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")

# Lead-ins of a paragraph that only points at another story.
_PROMO_LEADIN = re.compile(
    r"^\s*(?:read|see|watch|listen|click)\s+(?:more|also|next|here)\b|^\s*(?:related|more|also read|"
    r"don'?t miss|recommended|trending|most read|latest|top stories?)\s*(?:stories|articles|news|post|"
    r"content|video)?\s*[:|>\-–—]",
    re.IGNORECASE,
)


def _class_tokens(elem: HtmlElement) -> list[str]:
    raw = f"{elem.get('class') or ''} {elem.get('id') or ''}"
    if not raw.strip():
        return []
    return [t.lower() for t in _TOKEN_SPLIT.split(_CAMEL.sub(" ", raw)) if t]


def _holds_story(elem: HtmlElement) -> bool:
    """True when ``elem`` contains running prose: several sentence-length paragraphs.

    Sites name article containers after features attached to them ("entry-content-read-more",
    an id of "share-target" on the story wrapper); furniture never holds this much prose.
    """
    prose = 0
    for p in elem.iter("p"):
        n = _text_len(p)
        if n >= 80:
            prose += n
            if prose >= STORY_PROSE_CHARS:
                return True
    return False


def is_boilerplate_block(elem: HtmlElement) -> bool:
    """True when the element's class or id names page furniture (sharing, sign-up, related, ...)
    and it does not hold the story's prose (see :data:`STORY_PROSE_CHARS`)."""
    if elem.tag in _PROTECTED_TAGS:
        return False
    tokens = _class_tokens(elem)
    if not tokens:
        return False
    named = any(t in _BOILERPLATE_TOKENS for t in tokens) or any(
        pair in _BOILERPLATE_PAIRS for pair in zip(tokens, tokens[1:]))
    return named and not _holds_story(elem)


def _text_len(elem: HtmlElement) -> int:
    return len("".join(elem.itertext()).strip())


def _link_text_len(elem: HtmlElement) -> int:
    return sum(len("".join(a.itertext()).strip()) for a in elem.iter("a"))


def is_link_paragraph(elem: HtmlElement) -> bool:
    """True for a short paragraph or list item that is mostly a link to another page.

    "READ MORE: Man charged after ..." between story paragraphs, or a related-story list item.
    Story paragraphs carry links inside running text, so their link share stays well below this.
    """
    text_len = _text_len(elem)
    if text_len == 0 or text_len > 250:
        return False
    link_len = _link_text_len(elem)
    if link_len == 0:
        return False
    if link_len >= 0.8 * text_len:
        return True
    return bool(_PROMO_LEADIN.match("".join(elem.itertext())))


def _drop(elem: HtmlElement) -> None:
    """Remove ``elem`` but keep its tail text, which belongs to the parent."""
    parent = elem.getparent()
    if parent is None:
        return
    tail = elem.tail
    if tail and tail.strip():
        prev = elem.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(elem)


def _rule_figure_captions(tree: HtmlElement) -> Iterable[HtmlElement]:
    # Picture captions and credits are descriptions of images, not story text.
    return tree.iter("figcaption", "figure")


def _rule_furniture_blocks(tree: HtmlElement) -> Iterable[HtmlElement]:
    # Share bars, newsletter sign-ups, related-story boxes, cookie banners, comment threads.
    tags = ("div", "section", "aside", "header", "ul", "ol", "p", "span", "form", "nav", "footer")
    return [e for e in tree.iter(*tags) if is_boilerplate_block(e)]


def _rule_link_paragraphs(tree: HtmlElement) -> Iterable[HtmlElement]:
    # "READ MORE: <other headline>" paragraphs and related-story list items.
    return [e for e in tree.iter("p", "li", "h2", "h3", "h4") if is_link_paragraph(e)]


def _rule_headline(tree: HtmlElement) -> Iterable[HtmlElement]:
    # The page's main headline (its first <h1>) is returned as the title, never as body text.
    # Its text is emptied here and the element kept (nothing to delete): extractors use where
    # the <h1> sits to find the story, and deleting it made them miss the story on real pages.
    first = tree.find(".//h1")
    if first is not None:
        tail = first.tail
        first.clear()
        first.tail = tail
    return []


def _rule_site_chrome(tree: HtmlElement) -> Iterable[HtmlElement]:
    # The site's menus and footer, outside the article: the same on every page. (<header> is
    # left alone: many sites put the headline and the story's opening paragraph in one.)
    return [e for e in tree.iter("nav", "footer")
            if not any(a.tag == "article" for a in e.iterancestors()) and not _holds_story(e)]


TREE_RULES = {
    "site_chrome": _rule_site_chrome,
    "headline": _rule_headline,
    "figure_captions": _rule_figure_captions,
    "furniture_blocks": _rule_furniture_blocks,
    "link_paragraphs": _rule_link_paragraphs,
}


def prune_tree(tree: HtmlElement, rules: Iterable[str] | None = None) -> HtmlElement:
    """Delete non-story blocks from ``tree`` in place (and return it) by the named tree rules.

    Blocks inside an already deleted block are skipped; the tree's root is never deleted; the
    ``headline`` rule empties the first ``<h1>`` rather than deleting it.
    """
    for name in rules if rules is not None else TREE_RULES:
        doomed = list(TREE_RULES[name](tree))
        for elem in doomed:
            # an ancestor may be gone already; dropping from a detached subtree is harmless
            if elem.getparent() is not None:
                _drop(elem)
    return tree


# --- line rules -------------------------------------------------------------------------------

# Prompts, promotions and credits are one short line; longer lines are story paragraphs.
MAX_RULE_LINE_CHARS = 200

# A line that only points elsewhere: "READ MORE: ...", "Related: ...", "SEE ALSO ...".
_LINE_PROMO = re.compile(
    r"^\s*(?:[-–—•*]\s*)?(?:read|see|watch|listen to)\s+(?:more|also|next)\b\s*[:|>\-–—.]?"
    r"|^\s*(?:watch|video|listen|gallery|in pictures)\s*:"
    r"|^\s*(?:related|also read|more on this|more from|recommended|don'?t miss|most read|most popular|"
    r"popular on|trending|you may also like|you might also like|more stories|top stories|latest news)"
    r"(?:\s+(?:stories|articles|posts?|content|videos?|news|reading|on \S+(?: \S+)?|in \S+(?: \S+)?))?"
    r"\s*(?:[:|>\-–—.]|\.\.\.|…|$)",
    re.IGNORECASE,
)
# Calls to act that are never part of a report.
_LINE_PROMPT = re.compile(
    r"^\s*(?:sign up\b|subscribe\b|click here\b|tap here\b|get the .{1,40} app\b|download (?:the|our) app\b|"
    r"share (?:this|on|via)\b|follow us\b|like us on\b|join (?:us|the conversation)\b|"
    r"thanks? (?:you )?for signing up|thank you for subscribing|there was an error processing your subscription|"
    r"enter your email\b|we use cookies\b|this site uses cookies\b|accept (?:all )?cookies\b|"
    r"comments?(?: \(\d+\))?\s*$|\d+ comments?\s*$|have your say\b|leave a comment\b|"
    r"advertisement\s*$|story continues below\b|"
    r"follow\b.{0,80}\bon (?:facebook|twitter|instagram|x|youtube|tiktok)\b|tell us what you think\b|"
    r"like this (?:story|article)\?|(?:tags|topics|filed under|more)\s*:?\s*$|filed under\s*:|"
    r"additional reporting by\b|.{0,80}\bcontributed (?:to this report|reporting)\b)",
    re.IGNORECASE,
)
# Picture captions and credits that survive as text: "Picture: Jane Smith", "(Image: PA)",
# "Photo by ...", "Image copyright ...", "Pictured: ...".
_LINE_CREDIT = re.compile(
    r"^\s*[(\[]?\s*(?:picture|pictured|photo|photograph|image|credit|photo credit|image copyright|"
    r"image caption|media caption|copyright)\s*(?:[:|]|by\b)",
    re.IGNORECASE,
)


# "Posted on Friday 20 November 2026", "Updated: 10:42 GMT", "Published 3 hours ago": the page's
# dateline. Only short lines that go on with a date or time (a story sentence may start "Posted on
# social media ...").
_LINE_DATELINE = re.compile(
    r"^\s*(?:posted|published|updated|last updated|first published|date)\s*(?:on|at|:)?\s*"
    r"(?:\d|(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|$)",
    re.IGNORECASE,
)


LINE_RULES = {
    "dateline_lines": lambda line: len(line) <= 80 and bool(_LINE_DATELINE.match(line)),
    "promo_lines": lambda line: bool(_LINE_PROMO.match(line)),
    "prompt_lines": lambda line: bool(_LINE_PROMPT.match(line)),
    "credit_lines": lambda line: bool(_LINE_CREDIT.match(line)),
}


def line_rule_for(line: str) -> str | None:
    """Name of the first line rule that marks ``line`` as not story, else None."""
    for name, rule in LINE_RULES.items():
        if rule(line):
            return name
    return None


def clean_body(text: str) -> str:
    """Drop non-story lines from extracted ``text``; keeps the order and wording of the rest.

    Long lines (> MAX_RULE_LINE_CHARS) are never dropped by a line rule: a paragraph that merely
    starts with "Subscribe" or "Related" is story text; prompts and promotions are short.
    Leading and trailing blank lines go too.
    """
    kept = [ln for ln in text.split("\n") if len(ln) > MAX_RULE_LINE_CHARS or line_rule_for(ln) is None]
    return "\n".join(kept).strip()
