"""Template filters: dates and numbers in the reader's language."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from consult import i18n
from consult.i18n import DISPLAY_TIMEZONE


def date_filter(value: datetime | None) -> str:
    """A long date, e.g. « 3 mars 2027 » or “March 3, 2027”."""
    if value is None:
        return ""
    return format_date(
        value.astimezone(DISPLAY_TIMEZONE), format="long", locale=i18n.get_language()
    )


def datetime_filter(value: datetime | None) -> str:
    """A date and time in the reader's language."""
    if value is None:
        return ""
    return format_datetime(
        value.astimezone(DISPLAY_TIMEZONE), format="medium", locale=i18n.get_language()
    )


def iso_filter(value: datetime | None) -> str:
    """Machine-readable timestamp for `<time datetime=…>`."""
    return value.isoformat() if value else ""


def thousands_filter(value: int) -> str:
    """A whole number with the language's group separator, e.g. « 20 000 » or “20,000”."""
    return format_decimal(value, locale=i18n.get_language())


def prefix_filter(text: str, length: int = 28) -> str:
    """The start of a text, cut after a whole word, for a choice in a list (an alinéa in a
    `<select>`): an option as wide as a whole alinéa would widen the page on a phone."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    cut = text[:length]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


FILTERS = {
    "date": date_filter,
    "datetime": datetime_filter,
    "iso": iso_filter,
    "thousands": thousands_filter,
    "prefix": prefix_filter,
}
