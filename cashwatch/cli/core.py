"""Core commands: analyse, extract, run, replay, demo, search, incidents."""
from __future__ import annotations

import sys
from datetime import date
from typing import Optional

import typer

from cashwatch.cli import app
from cashwatch.jsonl import open_in, open_out, read_records, write_record
from cashwatch.models import Article, article_id_for

ConfigOpt = typer.Option(None, "--config", "-c", envvar="CASHWATCH_CONFIG", help="YAML configuration file.")


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _parse_date(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def article_from_record(rec: dict) -> Article:
    """An :class:`Article` from a corpus record ``{id, url, source, published, title, text}``."""
    url = rec.get("url") or ""
    aid = rec.get("id") or article_id_for(url)
    if not isinstance(rec.get("text", ""), str):
        raise ValueError("'text' must be a string")
    return Article(article_id=str(aid), url=url, source=rec.get("source") or "",
                   published=_parse_date(rec.get("published")), title=rec.get("title") or "",
                   text=rec.get("text") or "", place_hint=rec.get("place_hint"))


def analysis_to_result(article_id: str, analysis) -> dict:
    """The ``cashwatch analyse`` output record for one analysed article."""
    out = analysis.model_dump(mode="json", include={"kind", "stage"})
    out["id"] = article_id
    out["incidents"] = [m.model_dump(mode="json") for m in analysis.incidents]
    return {"id": article_id, **{k: v for k, v in out.items() if k != "id"}}


@app.command()
def analyse(
    input: Optional[str] = typer.Argument(None, help="JSONL articles (default: stdin)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="JSONL results (default: stdout)."),
) -> None:
    """Analyse JSONL articles {id,url,source,published,title,text}: kind, incidents, place, date, links."""
    from cashwatch.processors.pipeline import AnalysisPipeline

    pipeline = AnalysisPipeline()
    failures = 0
    with open_in(input) as fin, open_out(output) as fout:
        for n, rec, error in read_records(fin, input or "<stdin>"):
            if error:
                _err(error)
                failures += 1
                continue
            try:
                article = article_from_record(rec)
            except (ValueError, TypeError) as exc:
                _err(f"{input or '<stdin>'}:{n}: not a valid article: {exc}")
                failures += 1
                continue
            analysis, _events = pipeline.process(article)
            write_record(fout, analysis_to_result(article.article_id, analysis))
    if failures:
        _err(f"{failures} input line(s) could not be analysed (see above)")


@app.command()
def extract(
    input: Optional[str] = typer.Argument(None, help="JSONL pages {id,url,html} (default: stdin)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="JSONL results (default: stdout)."),
) -> None:
    """Extract title, body, published date and language from JSONL HTML pages (the pipeline's own stage)."""
    from cashwatch.processors.extract import extract as do_extract

    with open_in(input) as fin, open_out(output) as fout:
        for n, rec, error in read_records(fin, input or "<stdin>"):
            if error:
                _err(error)
                continue
            html = rec.get("html")
            if not isinstance(html, str):
                _err(f"{input or '<stdin>'}:{n}: 'html' must be a string")
                continue
            ex = do_extract(html, rec.get("url"))
            write_record(fout, {"id": rec.get("id"), "title": ex.title, "body": ex.body,
                                "published": ex.published.isoformat() if ex.published else None,
                                "language": ex.language})
