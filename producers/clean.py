"""Pure helpers for feed items: markup to plain text, and canonical URLs.

Titles and summaries leave the producers as plain text: every tag is dropped, the content of
``script``/``style``/``template``-like elements is dropped with it, entities are decoded and
whitespace collapsed. Markup that was escaped in the feed (``&lt;script&gt;``) decodes to markup,
so stripping repeats until the text is stable: nothing tag-like survives to be rendered later in a
search page or a dashboard.

Canonical URLs drop the fragment and tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ...),
lower-case scheme and host and drop default ports, so the same story reached through a newsletter
link and through the feed gets the same article id.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Elements whose content is code or chrome, never text.
_DROP_CONTENT = {"script", "style", "noscript", "template", "iframe", "object", "embed", "applet",
                 "svg", "math", "head", "title", "frameset", "frame", "xml", "select", "textarea", "button"}
_BLOCK = {"p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5", "h6",
          "blockquote", "section", "article", "header", "footer", "hr", "dd", "dt", "pre", "figure", "figcaption"}
_TAGLIKE = re.compile(r"</?[A-Za-z!?][^<>]*>?|<!--.*?(-->|$)", re.S)
_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _DROP_CONTENT:
            self.skip += 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in _DROP_CONTENT:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)

    # Comments, processing instructions, declarations: dropped.
    def handle_comment(self, data):
        pass

    def handle_pi(self, data):
        pass

    def handle_decl(self, decl):
        pass

    def unknown_decl(self, data):
        pass


def _strip_once(text: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(text)
        parser.close()
        out = "".join(parser.parts)
    except Exception:  # HTMLParser is lenient, but never let one odd string stop a feed
        out = html.unescape(_TAGLIKE.sub(" ", text))
    return out


def plain_text(value: str | None, max_chars: int = 10_000) -> str:
    """Markup (or escaped markup) to plain, single-spaced text (see module docstring)."""
    if not value:
        return ""
    text = value
    for _ in range(4):
        if "<" not in text and "&" not in text:
            break
        stripped = _strip_once(text)
        if stripped == text:
            break
        text = stripped
    # Whatever still looks like a tag after repeated parsing (e.g. a tag cut in half) goes too.
    text = _TAGLIKE.sub(" ", text)
    text = _CONTROL.sub("", text)
    text = _WS.sub(" ", text).strip()
    return text[:max_chars]


TRACKING_PARAMS = {
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
    "li_fat_id", "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id",
    "oly_enc_id", "vero_id", "rb_clickid", "s_cid", "cmpid", "cmp", "ito", "at_medium", "at_campaign",
    "at_custom1", "at_custom2", "at_custom3", "at_custom4", "ns_mchannel", "ns_source", "ns_campaign",
    "ns_linkname", "ns_fee", "ocid", "ref_src", "ref_url", "__twitter_impression", "spm", "wt.mc_id", "wt.mc_ev", "wt.tsrc",
}
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")


def _is_tracking(name: str) -> bool:
    n = name.lower()
    return n in TRACKING_PARAMS or n.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The canonical form of an http(s) URL (see module docstring). Unparseable input is returned
    stripped of whitespace and fragment, never raised on."""
    url = url.strip()
    try:
        p = urlsplit(url)
        scheme = p.scheme.lower()
        host = (p.hostname or "").rstrip(".")
        port = p.port
    except ValueError:
        return url.split("#", 1)[0]
    if scheme not in ("http", "https") or not host:
        return url.split("#", 1)[0]
    netloc = host
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc += f":{port}"
    if p.username or p.password:
        netloc = p.netloc.rsplit("@", 1)[0] + "@" + netloc
    query = [(k, v) for k, v in parse_qsl(p.query, keep_blank_values=True) if not _is_tracking(k)]
    path = p.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))
