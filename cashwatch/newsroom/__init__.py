"""The simulated newsroom and webhook receiver: real local HTTP servers for tests, the demo and benchmarks.

- :mod:`cashwatch.newsroom.server`: :class:`~cashwatch.newsroom.server.Newsroom` serves a JSONL corpus as
  one RSS feed per source plus one HTML page per article, with switches to misbehave;
  :class:`~cashwatch.newsroom.server.NewsroomThread` runs it for sync code.
- :mod:`cashwatch.newsroom.pages`: the article page renderer (real-world boilerplate around the story).
- :mod:`cashwatch.newsroom.receiver`: a webhook receiver that checks signatures and idempotency keys.

Import the submodules directly; this package imports nothing itself so that each stays optional.
"""
