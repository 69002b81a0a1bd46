"""cashwatch: watch UK police and local-news feeds for ATM attacks and cash-in-transit robberies."""

__version__ = "0.1.0"
