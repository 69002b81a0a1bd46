"""The analyst's web page: incidents, one incident with its evidence and history, a map, feeds' health,
alerts, and corrections. Served by the embedded monitor beside ``/healthz`` and ``/metrics`` and by
``cashwatch web`` on an existing store (see :mod:`cashwatch.web.app`)."""
