"""Extract the story from an article page: title, body, published date, language.

The one extraction stage of cashwatch: the pipeline, ``cashwatch extract`` and the benchmarks all
call :func:`extract`. Pure function of its input (no I/O).

How (each step measured on the public benchmark's 181 real pages with ``bench/bench_extract.py``:
F1 0.974 against 0.953 for plain ``trafilatura.extract``, at less CPU per page):

1. parse once with lxml; read title, published date and language from the page's metadata;
2. delete page furniture from the tree (captions, share / sign-up / related boxes, READ MORE link
   paragraphs: :func:`cashwatch.processors.clean.prune_tree`);
3. trafilatura's main-text extraction on that tree, comments excluded, in precision mode;
4. when that yields too little (< MIN_BODY_CHARS), a second pass tuned for recall on a fresh,
   equally pruned parse; when still nothing at all, one on the unpruned page;
5. line cleaning of what remains (:func:`cashwatch.processors.clean.clean_body`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from cashwatch.processors.clean import clean_body, prune_tree

# Below this many characters the precision pass is assumed to have missed the story: a real news
# report is longer, and a teaser-sized result usually means the wrong container was picked.
MIN_BODY_CHARS = 400


@dataclass(frozen=True)
class Extracted:
    """What :func:`extract` found: ``title`` and ``body`` are plain text ("" when absent; the body
    has one paragraph per line), ``published`` the publication day, ``language`` an ISO 639 code."""

    title: str
    body: str
    published: date | None
    language: str | None


_EMPTY = Extracted("", "", None, None)

# Publication-date metadata, most specific first. Values are ISO 8601 dates or datetimes.
_DATE_META = (
    "article:published_time", "og:article:published_time", "datepublished", "date", "dc.date",
    "dc.date.issued", "dcterms.created", "pubdate", "publishdate", "publish-date", "sailthru.date",
    "parsely-pub-date", "article.published", "published_time", "cxenseparse:recs:publishtime",
)
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TITLE_META = ("og:title", "twitter:title")


def _iso_day(value: str | None) -> date | None:
    if not value:
        return None
    m = _ISO_DAY.search(value)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _meta_map(tree: HtmlElement) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in tree.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower()
        content = m.get("content")
        if key and content and key not in out:
            out[key] = content.strip()
    return out


def _json_ld_date(tree: HtmlElement) -> date | None:
    for script in tree.iterfind('.//script[@type="application/ld+json"]'):
        text = script.text or ""
        if "datePublished" not in text:
            continue
        m = re.search(r'"datePublished"\s*:\s*"([^"]+)"', text)
        if m and (d := _iso_day(m.group(1))):
            return d
    return None


def _published(tree: HtmlElement, meta: dict[str, str], url: str | None) -> date | None:
    for key in _DATE_META:
        if d := _iso_day(meta.get(key)):
            return d
    if d := _json_ld_date(tree):
        return d
    for t in tree.iter("time"):
        if d := _iso_day(t.get("datetime")):
            return d
    # last resort: htmldate's markup search without its slow free-text scan
    try:
        found = find_date(tree, extensive_search=False, original_date=True, url=url)
    except (ValueError, TypeError):  # htmldate rejects some odd inputs; a missing date is fine
        found = None
    return _iso_day(found)


def _title(tree: HtmlElement, meta: dict[str, str]) -> str:
    h1 = tree.find(".//h1")
    if h1 is not None and (text := " ".join("".join(h1.itertext()).split())):
        return text
    for key in _TITLE_META:
        if meta.get(key):
            return " ".join(meta[key].split())
    t = tree.find(".//title")
    if t is not None and t.text:
        return " ".join(t.text.split())
    return ""


def _language(tree: HtmlElement, meta: dict[str, str]) -> str | None:
    lang = tree.get("lang") or meta.get("content-language") or meta.get("og:locale") or ""
    lang = lang.strip().replace("_", "-").split("-")[0].lower()
    return lang if re.fullmatch(r"[a-z]{2,3}", lang) else None


def _body(tree: HtmlElement, url: str | None, **options: bool) -> str:
    doc = trafilatura.bare_extraction(tree, url=url, with_metadata=False, include_comments=False,
                                      include_tables=True, **options)
    return (doc.text or "") if doc is not None else ""


def extract(html: str, url: str | None = None) -> Extracted:
    """Return the story of ``html``; an empty ``body`` means nothing usable was found.

    ``title`` is the headline (``<h1>``, else ``og:title``, else ``<title>``), ``published`` the
    publication day from metadata (``article:published_time``, JSON-LD ``datePublished``, a
    ``<time datetime>``, ...), ``language`` the page's declared language code. The body is plain
    text, one paragraph per line, without the headline, captions or promotion lines. Never raises
    for bad markup: a page that cannot be parsed as HTML gives an empty result.
    """
    if not html or not html.strip():
        return _EMPTY
    tree = load_html(html)
    if tree is None:
        return _EMPTY
    meta = _meta_map(tree)
    title = _title(tree, meta)
    published = _published(tree, meta, url)
    language = _language(tree, meta)

    body = _body(prune_tree(tree), url, favor_precision=True)
    if len(body) < MIN_BODY_CHARS:
        # too little for a report: the precision pass may have picked the wrong container.
        # Retry for recall on a fresh parse, pruned the same way, so furniture stays out
        retry = _body(prune_tree(load_html(html)), url, favor_recall=True)
        if len(retry) > len(body):
            body = retry
    if not body:
        # still nothing: the pruning itself may have hidden the story; last try on the raw page
        retry = _body(load_html(html), url, favor_recall=True)
        if len(retry) > len(body):
            body = retry
    return Extracted(title, clean_body(body), published, language)
