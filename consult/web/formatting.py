"""Template filters: dates in the reader's language."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date, format_datetime

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


FILTERS = {"date": date_filter, "datetime": datetime_filter, "iso": iso_filter}
