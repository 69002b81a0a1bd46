"""The one exception tree of cashwatch. Always ``raise NewError(...) from exc``.

::

    CashwatchError
    ├── ConfigError            the configuration file or an override is invalid (names file and field)
    ├── InputError             one input record cannot be processed (bad JSON line, broken page)
    │   ├── FeedError          a feed document cannot be parsed or fetched (carries error_code)
    │   ├── PageError          an article page cannot be fetched or is not a usable HTML page
    │   └── CorrectionError    an analyst's correction cannot be applied (unknown incident, ...)
    ├── BlockedURLError        a URL resolves to a private/loopback/link-local address not allow-listed
    ├── StoreError             the local SQLite store failed
    ├── DeliveryError          a webhook delivery failed (retryable or not)
    └── MissingExtraError      an optional dependency group is not installed (says what to install)

``InputError`` and its children are *data* errors: the record is dead-lettered or counted with its
``error_code`` and never retried. Everything else is an infrastructure error and is retried by the
caller or propagates.
"""
from __future__ import annotations


class CashwatchError(Exception):
    """Base class of all cashwatch errors."""


class ConfigError(CashwatchError):
    """Invalid configuration; the message names the file, the field and what is wrong."""


class InputError(CashwatchError):
    """A single input record cannot be processed; ``error_code`` is a short bounded reason."""

    def __init__(self, message: str, error_code: str = "invalid_input") -> None:
        super().__init__(message)
        self.error_code = error_code


class FeedError(InputError):
    """A feed could not be fetched or parsed."""


class PageError(InputError):
    """An article page could not be fetched or is not usable HTML."""


class CorrectionError(InputError):
    """An analyst's correction cannot be applied: the message says why (no such incident, the report
    is not one of its reports, an incident cannot be merged with itself, ...)."""

    def __init__(self, message: str, error_code: str = "invalid_correction") -> None:
        super().__init__(message, error_code)


class BlockedURLError(InputError):
    """The URL's host resolves to an address that is not allowed (SSRF guard)."""

    def __init__(self, message: str, error_code: str = "blocked_address") -> None:
        super().__init__(message, error_code)


class StoreError(CashwatchError):
    """The local store failed."""


class DeliveryError(CashwatchError):
    """A webhook delivery failed; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class MissingExtraError(CashwatchError):
    """An optional part was used without its extra installed."""

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(
            f"{module} is not installed: install it with  pip install 'cashwatch[{extra}]'"
        )
