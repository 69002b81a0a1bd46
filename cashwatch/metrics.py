"""Every Prometheus metric of cashwatch, declared in one place. Label values are bounded
(feed ids from config, stage names, error codes from a fixed vocabulary)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

FEED_POLLS = Counter("cashwatch_feed_polls_total", "Feed polls by outcome", ["feed", "outcome"], registry=REGISTRY)
FEED_NOT_MODIFIED = Counter("cashwatch_feed_not_modified_total", "Feed polls answered 304", ["feed"], registry=REGISTRY)
ERRORS = Counter("cashwatch_errors_total", "Errors by stage and bounded reason", ["stage", "error_code"], registry=REGISTRY)
ITEMS_NEW = Counter("cashwatch_feed_items_new_total", "New feed items seen", ["feed"], registry=REGISTRY)
PAGES_FETCHED = Counter("cashwatch_pages_fetched_total", "Article pages fetched by outcome", ["outcome"], registry=REGISTRY)
ARTICLES = Counter("cashwatch_articles_total", "Articles analysed by kind", ["kind"], registry=REGISTRY)
INCIDENT_EVENTS = Counter("cashwatch_incident_events_total", "Incident events by event type", ["event"], registry=REGISTRY)
ALERTS = Counter("cashwatch_alerts_total", "Webhook deliveries by outcome", ["outcome"], registry=REGISTRY)
QUEUE_DEPTH = Gauge("cashwatch_queue_depth", "Items waiting between stages", ["queue"], registry=REGISTRY)
STAGE_SECONDS = Histogram(
    "cashwatch_stage_seconds", "Time spent per record in a stage", ["stage"], registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
FEED_ERRORS = Counter("cashwatch_feed_errors_total", "Feed poll errors by feed and bounded reason", ["feed", "error_code"], registry=REGISTRY)
PAGE_ERRORS = Counter("cashwatch_page_errors_total", "Article page fetch errors by feed and bounded reason", ["feed", "error_code"], registry=REGISTRY)
FEEDS_BACKING_OFF = Gauge("cashwatch_feeds_backing_off", "Feeds currently in backoff", registry=REGISTRY)
ALERT_ATTEMPTS = Counter(
    "cashwatch_alert_attempts_total", "Webhook HTTP attempts by bounded outcome (ok, http_5xx, timeout, ...)",
    ["outcome"], registry=REGISTRY,
)
ALERT_DELIVERY_SECONDS = Histogram(
    "cashwatch_alert_delivery_seconds", "Time from an alert being queued to the receiver accepting it",
    registry=REGISTRY, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
ALERTS_PENDING = Gauge("cashwatch_alerts_pending", "Alert deliveries queued and not yet delivered or dead", registry=REGISTRY)
# Distributed runtime (Kafka, faust, Elasticsearch).
ES_DOCS = Counter("cashwatch_es_docs_total", "Elasticsearch bulk items by outcome", ["outcome"], registry=REGISTRY)
ES_RETRIES = Counter("cashwatch_es_retries_total", "Elasticsearch retries by bounded reason", ["error_code"], registry=REGISTRY)
KAFKA_PUBLISHED = Counter("cashwatch_kafka_published_total", "Records published to Kafka by topic and outcome", ["topic", "outcome"], registry=REGISTRY)
DEAD_LETTERS = Counter("cashwatch_dead_letters_total", "Records dead-lettered by stage and bounded reason", ["stage", "error_code"], registry=REGISTRY)
# Linking (processors/link.py): outcome is one of created, linked, replayed, ambiguous_created,
# reference_linked, reference_unmatched; store look-ups of incidents no longer in memory.
LINK_MENTIONS = Counter("cashwatch_link_mentions_total", "Incident mentions by linking outcome", ["outcome"], registry=REGISTRY)
LINK_LOOKUPS = Counter("cashwatch_link_lookups_total", "Linker look-ups in the store by kind (window, id)", ["kind"], registry=REGISTRY)
LINK_MEMORY = Gauge("cashwatch_link_incidents_in_memory", "Incidents held in the linker's memory", registry=REGISTRY)
# Health (cashwatch/health.py): feeds by state, force areas by coverage, the verdict of /healthz.
FEEDS_BY_STATUS = Gauge("cashwatch_feeds", "Configured feeds by health state (ok, failing, late, pending, disabled)", ["status"], registry=REGISTRY)
FEEDS_SILENT = Gauge("cashwatch_feeds_silent", "Working feeds with no new item for much longer than usual", registry=REGISTRY)
FEED_LAST_SUCCESS = Gauge("cashwatch_feed_last_success_timestamp_seconds", "Unix time of the feed's last successful poll", ["feed"], registry=REGISTRY)
FORCES_BY_COVERAGE = Gauge("cashwatch_force_areas", "Police force areas by feed coverage (ok, silent, no_working_feed, no_feed)", ["coverage"], registry=REGISTRY)
HEALTHY = Gauge("cashwatch_healthy", "1 when /healthz says ok or starting, 0 when degraded", registry=REGISTRY)
# an analyst's corrections (merge, split, dismiss, edit) by outcome (applied, rejected)
CORRECTIONS = Counter("cashwatch_corrections_total", "Analyst corrections by action and outcome", ["action", "outcome"], registry=REGISTRY)
WEB_REQUESTS = Counter("cashwatch_web_requests_total", "Web page requests by page and bounded status", ["page", "status"], registry=REGISTRY)
