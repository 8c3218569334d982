"""Reading and writing the legal pages."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.audit.services import record_event
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.legal.models import LegalPage

# Markdown an administrator may write on one page, per language.
MAX_BODY = 50_000
LANGUAGES = ("fr", "en")


class LegalPageKey(enum.StrEnum):
    """The legal pages every site has, linked from every page's footer."""

    LEGAL_NOTICE = "legal-notice"
    PRIVACY = "privacy"
    ACCESSIBILITY = "accessibility"
    TERMS = "terms"


def page_title(key: LegalPageKey) -> str:
    """The page's title in the current language."""
    return {
        LegalPageKey.LEGAL_NOTICE: _("Legal notice"),
        LegalPageKey.PRIVACY: _("Personal data"),
        LegalPageKey.ACCESSIBILITY: _("Accessibility"),
        LegalPageKey.TERMS: _("Terms of use"),
    }[key]


async def written_text(db: AsyncSession, key: LegalPageKey, language: str) -> LegalPage | None:
    """The text the administrators wrote for this page, in this language or else in French
    (None: the site shows its default text)."""
    rows = {
        page.language: page
        for page in await db.scalars(select(LegalPage).where(LegalPage.key == key.value))
        if page.body.strip()
    }
    return rows.get(language) or rows.get("fr")


async def texts_by_language(db: AsyncSession, key: LegalPageKey) -> dict[str, str]:
    """What the administrators wrote for this page, per language ("" where nothing)."""
    rows = await db.scalars(select(LegalPage).where(LegalPage.key == key.value))
    written = {page.language: page.body for page in rows}
    return {language: written.get(language, "") for language in LANGUAGES}


async def write_page(
    db: AsyncSession, key: LegalPageKey, bodies: dict[str, str], actor_id: int, now: datetime
) -> None:
    """Save the page's text in each language (empty: back to the default text)."""
    too_long = {
        f"body_{language}": _("At most {count} characters.").format(count=MAX_BODY)
        for language, body in bodies.items()
        if len(body) > MAX_BODY
    }
    if too_long:
        raise FormError(too_long)
    for language in LANGUAGES:
        body = bodies.get(language, "").strip()
        page = await db.get(LegalPage, (key.value, language))
        if page is None:
            page = LegalPage(key=key.value, language=language)
            db.add(page)
        page.body, page.updated_at, page.updated_by_id = body, now, actor_id
    changed = [language for language in LANGUAGES if bodies.get(language, "").strip()]
    await record_event(db, actor_id, "legal_page.written", key.value, {"languages": changed})
