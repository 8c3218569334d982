"""Translations shared by the domain, the web layer and the command line.

The active language lives in a context variable so that one request (or one
command) can set it once and every layer below translates accordingly,
without threading a locale argument through every function.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "fr"
SUPPORTED_LANGUAGES = ("fr", "en")
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
# Consultations are run by French institutions: dates are shown, and typed, in Paris time.
DISPLAY_TIMEZONE = ZoneInfo("Europe/Paris")

_active_language: ContextVar[str] = ContextVar("consult_language", default=DEFAULT_LANGUAGE)


@cache
def translations_for(language: str) -> _gettext.NullTranslations:
    """Load the compiled catalogue for a language (cached for the process)."""
    return _gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)


def set_language(language: str) -> None:
    """Make `language` the active language of the current context."""
    _active_language.set(language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE)


@contextmanager
def language(code: str) -> Iterator[None]:
    """Translate into ``code`` inside the block (an email in its reader's language), then
    back to the language that was active."""
    token = _active_language.set(code if code in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _active_language.reset(token)


def get_language() -> str:
    """The active language of the current context."""
    return _active_language.get()


def gettext(message: str) -> str:
    """Translate `message` into the active language."""
    return translations_for(get_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message whose form depends on the count `n`."""
    return translations_for(get_language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Translate `message` with a disambiguating context."""
    return translations_for(get_language()).pgettext(context, message)


def negotiate_language(accept_language: str | None) -> str:
    """Pick the best supported language from an Accept-Language header."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in SUPPORTED_LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
