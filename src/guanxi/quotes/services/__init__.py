"""Every write to quotes: prepare (quotes), edit the lines (lines), send / accept / reject (outcome)."""

from guanxi.quotes.services._common import (
    QuoteClosed,
    QuoteEmpty,
    QuoteExpired,
    QuoteNotCurrent,
    QuoteNotEditable,
)
from guanxi.quotes.services.lines import quote_line_add, quote_line_remove, quote_line_update
from guanxi.quotes.services.outcome import quote_accept, quote_reject, quote_send, send_defaults
from guanxi.quotes.services.quotes import default_valid_until, quote_create, quote_new_version, quote_update

__all__ = [
    "QuoteClosed",
    "QuoteEmpty",
    "QuoteExpired",
    "QuoteNotCurrent",
    "QuoteNotEditable",
    "default_valid_until",
    "quote_accept",
    "quote_create",
    "quote_line_add",
    "quote_line_remove",
    "quote_line_update",
    "quote_new_version",
    "quote_reject",
    "quote_send",
    "quote_update",
    "send_defaults",
]
