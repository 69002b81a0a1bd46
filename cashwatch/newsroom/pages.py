"""Article pages of the simulated newsroom, wrapped in the boilerplate real news sites carry.

:func:`render_article_page` turns one corpus article (``id, url, source, published, title, text``;
paragraphs separated by blank lines) into a full HTML page the way a local news site would serve
it: cookie banner, navigation menus, breadcrumbs, a picture with a caption, "READ MORE: <other
headline>" links between paragraphs, a newsletter sign-up box, share prompts, tags, related and
most-read story lists, reader comments and a footer. The noise around the story is what
extraction has to drop, so ``cashwatch replay`` measures fetching + extraction against
``cashwatch analyse`` on the same corpus.

Three page templates (a regional daily, a broadcaster, a police force news page) are picked per
site, so one corpus yields differently built pages. Rendering is deterministic: the same article,
site and others always give the same page (variations are seeded by a hash of the article id,
never by ``random``). The publication date, when the article has one, is in ``<meta
property="article:published_time">``, JSON-LD ``datePublished`` and a ``<time datetime>``.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from html import escape

# What surrounds the story. Sentences are written for this project (nothing copied from real pages).
_SECTIONS = ("News", "Crime", "Local", "Sport", "What's On", "Business", "Opinion", "Weather", "Traffic")
_NAV_MORE = ("Jobs", "Property", "Announcements", "Puzzles", "Newsletters", "Contact us")
_CAPTIONS = (
    "The scene on {when} (Image: Reader picture)",
    "Picture: Emergency services at the scene",
    "Police cordoned off the area while officers examined the scene (Photo: Staff photographer)",
    "Image caption: The street was closed for several hours",
)
_COMMENTS = (
    ("RiverSideRob", "Third time this year round here. Where are the patrols?"),
    ("Maggie_L", "Glad nobody was hurt, that is what matters."),
    ("Old Timer 1956", "Cameras everywhere these days and still they get away with it."),
    ("k.hughes", "My cousin lives on that road and heard the whole thing at night."),
    ("Northern Light", "Somebody must know who these people are. Speak up."),
)
_TAGS = ("Crime", "Police", "Court", "Community", "Business", "Transport")


def _pick(seed: bytes, salt: str, n: int) -> int:
    """Stable choice in range(n) from the article id (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(seed + salt.encode()).digest()[:4], "big") % n


def _site_name(site: str) -> str:
    if " " in site.strip():  # already a display name ("Hilltop News")
        return " ".join(site.split())
    host = site.split("//")[-1].split("/")[0].removeprefix("www.")
    stem = host.split(".")[0] if host else "newsroom"
    return " ".join(part.capitalize() for part in stem.replace("_", "-").split("-")) or "Newsroom"


def _paragraphs(text: str) -> list[str]:
    """Paragraphs of an article text: blank-line separated, inner line breaks kept as spaces."""
    blocks = [" ".join(b.split()) for b in str(text or "").replace("\r\n", "\n").split("\n\n")]
    return [b for b in blocks if b]


def _day_text(published: str | None) -> tuple[str | None, str | None]:
    """(ISO datetime for markup, human date for display), or (None, None) when there is no date."""
    if not published:
        return None, None
    day = str(published)[:10]
    try:
        from datetime import date

        d = date.fromisoformat(day)
    except ValueError:
        return None, None
    return f"{day}T07:30:00+00:00", f"{d:%A} {d.day} {d:%B} {d.year}"


def _links(others: Sequence[dict], seed: bytes, salt: str, k: int) -> list[tuple[str, str]]:
    """Up to ``k`` (url, headline) pairs from the other articles, rotated by the seed."""
    usable = [(str(o.get("_url") or o.get("url") or "#"), str(o.get("title") or "").strip()) for o in others]
    usable = [(u, t) for u, t in usable if t]
    if not usable:
        return []
    start = _pick(seed, salt, len(usable))
    return [usable[(start + i) % len(usable)] for i in range(min(k, len(usable)))]


def _a(url: str, text: str) -> str:
    return f'<a href="{escape(url)}">{escape(text)}</a>'


# --- shared furniture ------------------------------------------------------------------------


def _head(title: str, name: str, article: dict, iso: str | None, description: str) -> str:
    page_title = f"{title} | {name}" if title else name
    meta = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(page_title)}</title>",
        f'<meta name="description" content="{escape(description)}">',
        f'<meta property="og:site_name" content="{escape(name)}">',
        '<meta property="og:type" content="article">',
        f'<link rel="canonical" href="{escape(str(article.get("url") or ""))}">',
    ]
    if title:
        meta.append(f'<meta property="og:title" content="{escape(title)}">')
    ld: dict = {"@context": "https://schema.org", "@type": "NewsArticle",
                "publisher": {"@type": "Organization", "name": name}}
    if title:
        ld["headline"] = title
    if iso:
        meta.append(f'<meta property="article:published_time" content="{iso}">')
        ld["datePublished"] = iso
        ld["dateModified"] = iso
    # "</" cannot end the script early: json.dumps escapes no slashes, so do it here
    ld_json = json.dumps(ld).replace("</", "<\\/")
    meta.append(f'<script type="application/ld+json">{ld_json}</script>')
    meta.append("<style>.cookie-banner{position:fixed;bottom:0}.ad-slot{min-height:250px}</style>")
    meta.append("<script>window.dataLayer=window.dataLayer||[];dataLayer.push({pageType:'article'});</script>")
    return "<head>" + "".join(meta) + "</head>"


def _cookie_banner(name: str) -> str:
    return (
        '<div class="cookie-banner" role="dialog" aria-label="Cookie consent">'
        f"<p>We and our partners use cookies to improve {escape(name)}, to show you personalised adverts and to "
        "measure how the site is used. You can change your choices at any time.</p>"
        '<button type="button">Accept all</button> <button type="button">Manage preferences</button></div>'
    )


def _nav(name: str) -> str:
    items = "".join(f'<li><a href="/{s.lower().replace(" ", "-").replace(chr(39), "")}">{escape(s)}</a></li>'
                    for s in _SECTIONS)
    more = "".join(f'<li><a href="/{s.lower().replace(" ", "-")}">{escape(s)}</a></li>' for s in _NAV_MORE)
    return (
        f'<header class="masthead"><a class="logo" href="/">{escape(name)}</a>'
        '<form class="search" action="/search"><input name="q" placeholder="Search"></form>'
        f'<nav class="primary-nav"><ul>{items}</ul></nav>'
        f'<nav class="secondary-nav"><ul>{more}</ul></nav></header>'
    )


def _signup(name: str) -> str:
    return (
        '<div class="newsletter-signup"><h3>Get the headlines in your inbox</h3>'
        f"<p>Sign up to the {escape(name)} daily newsletter for the stories that matter where you live.</p>"
        '<form><input type="email" placeholder="Enter your email"><button>Sign up</button></form>'
        "<p>We use your sign-up to provide content in ways you have consented to. Read our privacy notice.</p></div>"
    )


def _share() -> str:
    return (
        '<div class="share-tools"><span>Share this article</span> '
        '<a href="#">Facebook</a> <a href="#">X</a> <a href="#">WhatsApp</a> <a href="#">Email</a></div>'
    )


def _related(links: list[tuple[str, str]], heading: str, cls: str) -> str:
    if not links:
        return ""
    items = "".join(f"<li>{_a(u, t)}</li>" for u, t in links)
    return f'<aside class="{cls}"><h2>{escape(heading)}</h2><ul>{items}</ul></aside>'


def _comments(seed: bytes) -> str:
    n = 2 + _pick(seed, "ncomments", 3)
    start = _pick(seed, "comments", len(_COMMENTS))
    rows = []
    for i in range(n):
        user, text = _COMMENTS[(start + i) % len(_COMMENTS)]
        rows.append(f'<li class="comment"><span class="comment-author">{escape(user)}</span>'
                    f'<p>{escape(text)}</p><a href="#">Reply</a> <a href="#">Report</a></li>')
    return (f'<section id="comments" class="comments"><h2>Comments ({n})</h2>'
            '<p>Have your say. Comments are moderated and must follow our community rules.</p>'
            f'<ol>{"".join(rows)}</ol></section>')


def _footer(name: str) -> str:
    links = "".join(f'<li><a href="/{x.lower().replace(" ", "-")}">{x}</a></li>' for x in
                    ("About us", "Contact us", "Advertise", "Privacy notice", "Cookie policy", "Terms"))
    return (f'<footer class="site-footer"><ul>{links}</ul>'
            f"<p>&copy; {escape(name)} Ltd. All rights reserved. Registered in England and Wales.</p></footer>")


def _figure(seed: bytes, display_day: str | None) -> str:
    caption = _CAPTIONS[_pick(seed, "caption", len(_CAPTIONS))].format(when=display_day or "the day")
    return (f'<figure class="lead-image"><img src="/images/{seed.hex()[:12]}.jpg" alt="" width="640" height="360">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


# --- templates -------------------------------------------------------------------------------
#
# The three sites differ the way real ones do: where the furniture sits and what it is called in
# the markup. The regional daily puts "READ MORE" link paragraphs between the story paragraphs with
# no class at all; the broadcaster uses its own class names; the police page is plain.


def _regional(article: dict, name: str, others: Sequence[dict], seed: bytes) -> str:
    title = str(article.get("title") or "")
    iso, day = _day_text(article.get("published"))
    paras = _paragraphs(article.get("text", ""))
    read_more = _links(others, seed, "readmore", 3)
    every = 2 + _pick(seed, "every", 2)
    body: list[str] = []
    for i, p in enumerate(paras):
        body.append(f"<p>{escape(p)}</p>")
        if i == 0:
            body.append('<div class="ad-slot"><span>Advertisement</span></div>')
        if read_more and (i + 1) % every == 0 and i + 1 < len(paras):
            url, headline = read_more.pop(0)
            body.append(f"<p><strong>READ MORE:</strong> {_a(url, headline)}</p>")
        if i == 2:
            body.append(_signup(name))
    byline = '<div class="byline"><span class="author">By Newsdesk</span>'
    if iso:
        byline += f' <time datetime="{iso}">{escape(day or "")}</time>'
    byline += "</div>"
    head_html = f"<h1>{escape(title)}</h1>" if title else ""
    return (
        '<body class="article-page">' + _cookie_banner(name) + _nav(name)
        + '<nav class="breadcrumbs"><a href="/">Home</a> &gt; <a href="/news">News</a> &gt; '
        '<a href="/crime">Crime</a></nav>'
        + '<main><article class="article">' + head_html + byline + _share() + _figure(seed, day)
        + '<div class="article-body">' + "".join(body) + "</div>"
        + '<div class="tags">' + "".join(f'<a href="/tag/{t.lower()}">{t}</a>' for t in _TAGS[:3]) + "</div>"
        + _share() + "</article>"
        + _related(_links(others, seed, "related", 4), "More on this story", "related-articles")
        + _comments(seed) + "</main>"
        + _related(_links(others, seed, "mostread", 5), "Most read", "most-read")
        + _footer(name) + "</body>"
    )


def _broadcaster(article: dict, name: str, others: Sequence[dict], seed: bytes) -> str:
    title = str(article.get("title") or "")
    iso, day = _day_text(article.get("published"))
    paras = _paragraphs(article.get("text", ""))
    inline = _links(others, seed, "inline", 2)
    body: list[str] = []
    for i, p in enumerate(paras):
        body.append(f'<div class="text-block" data-component="text-block"><p>{escape(p)}</p></div>')
        if i == 1 and inline:
            items = "".join(f"<li>{_a(u, t)}</li>" for u, t in inline)
            body.append(f'<div class="links-block" data-component="links-block"><ul>{items}</ul></div>')
        if i == 2 and len(paras) > 4 and (more := _links(others, seed, "readmore", 1)):
            body.append(f'<div class="text-block"><p><b>Read more:</b> {_a(*more[0])}</p></div>')
        if i == 3:
            body.append('<div class="media-block"><p>Watch: Footage from the scene shared on social media</p></div>')
        if i == 4:
            body.append('<div class="inline-promo"><h3>Get news alerts</h3><p>Sign up for breaking news '
                        f'alerts from {escape(name)} on your phone.</p><a href="/alerts">Sign up</a></div>')
    stamp = f'<time datetime="{iso}">{escape(day or "")}</time>' if iso else ""
    head_html = f'<h1 id="main-heading">{escape(title)}</h1>' if title else ""
    return (
        "<body>" + _cookie_banner(name)
        + f'<div class="orb-banner"><a href="/">{escape(name)}</a> <a href="/account">Sign in</a></div>'
        + _nav(name)
        + '<main id="main-content"><div class="story-wrapper"><article>' + head_html
        + f'<div class="metadata-block">{stamp} <span class="contributor">Reporting team</span></div>'
        + _share() + _figure(seed, day) + "".join(body)
        + '<div class="related-topics"><h2>Related Topics</h2><ul>'
        + "".join(f'<li><a href="/topics/{t.lower()}">{t}</a></li>' for t in _TAGS[1:4]) + "</ul></div>"
        + "</article>"
        + _related(_links(others, seed, "more", 4), "More on this story", "story-more")
        + _comments(seed) + "</div>"
        + _related(_links(others, seed, "top", 5), "Top Stories", "top-stories-promo")
        + "</main>" + _footer(name) + "</body>"
    )


def _police(article: dict, name: str, others: Sequence[dict], seed: bytes) -> str:
    title = str(article.get("title") or "")
    iso, day = _day_text(article.get("published"))
    paras = _paragraphs(article.get("text", ""))
    posted = f'<p class="posted">Posted on <time datetime="{iso}">{escape(day or "")}</time></p>' if iso else ""
    head_html = f"<h1>{escape(title)}</h1>" if title else ""
    latest = _links(others, seed, "latest", 5)
    latest_html = ""
    if latest:
        latest_html = ('<div class="sidebar"><h2>Latest news</h2><ul>'
                       + "".join(f"<li>{_a(u, t)}</li>" for u, t in latest) + "</ul></div>")
    return (
        "<body>" + _cookie_banner(name)
        + '<div class="alert-banner">In an emergency always call 999. To report a crime call 101 or use the '
        'online form.</div>'
        + _nav(name)
        + '<div id="content"><div class="news-item">' + head_html + posted
        + "".join(f"<p>{escape(p)}</p>" for p in paras)
        + _share() + "</div>"
        + '<div class="callout"><h3>Can you help?</h3><p>If you have information, contact us online or call 101. '
        "You can also contact Crimestoppers anonymously on 0800 555 111.</p></div>"
        + latest_html + "</div>" + _footer(name) + "</body>"
    )


TEMPLATES: dict[str, Callable[[dict, str, Sequence[dict], bytes], str]] = {
    "regional": _regional, "broadcaster": _broadcaster, "police": _police,
}


def template_for(site: str) -> str:
    """Name of the template a site uses: police force sites get the police one, others by hash."""
    host = site.lower()
    if "police" in host or "constabulary" in host:
        return "police"
    return ("regional", "broadcaster")[_pick(host.encode(), "template", 2)]


def render_article_page(article: dict, site: str, others: list[dict], template: str | None = None) -> str:
    """Render ``article`` as a full news-site HTML page of ``site``.

    ``article``: a corpus record (``id``, ``url``, ``source``, ``published`` ISO date or None,
    ``title``, ``text`` with paragraphs separated by blank lines). ``site``: the host or source
    name the page belongs to (picks the template and the site name shown). ``others``: other
    articles of the corpus; their ``title`` and ``_url`` (else ``url``) feed the READ MORE links
    and the related / most-read lists (articles without a title are skipped). The story itself
    appears once, as the ``<h1>`` and one ``<p>`` per paragraph, HTML-escaped; missing fields give
    a page without that part (no title: no ``<h1>``; no date: no date markup), never an error.
    ``template`` forces one of :data:`TEMPLATES` (default: :func:`template_for` the site).
    """
    seed = str(article.get("id") or article.get("url") or article.get("title") or "").encode()
    name = _site_name(site or str(article.get("source") or ""))
    title = str(article.get("title") or "")
    paras = _paragraphs(article.get("text", ""))
    description = (paras[0][:157] + "...") if paras and len(paras[0]) > 160 else (paras[0] if paras else title)
    iso, _day = _day_text(article.get("published"))
    body = TEMPLATES[template or template_for(site or "")](article, name, others, seed)
    return ("<!DOCTYPE html>\n" f'<html lang="en-GB">{_head(title, name, article, iso, description)}{body}</html>\n')
