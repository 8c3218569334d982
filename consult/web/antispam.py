"""Anti-automation for forms: a honeypot field, a minimum time to fill the form, and each form
accepted once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from consult.input import whole_number
from consult.protection.form_tokens import spend_form_token
from consult.settings import Settings
from consult.web.forms import FormData, looks_automated

FORM_TOKEN_FIELD = "form_started"  # noqa: S105  (a field name, not a secret)
MAX_FORM_AGE = timedelta(hours=24)


def form_token(settings: Settings, now: datetime) -> str:
    """Put in each form when the page is rendered: when, a random id, and our signature."""
    stamp, token_id = str(int(now.timestamp())), secrets.token_hex(8)
    return f"{stamp}.{token_id}.{_sign(settings, stamp, token_id)}"


def _sign(settings: Settings, stamp: str, token_id: str) -> str:
    message = f"form:{stamp}.{token_id}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class FormTicket:
    """A valid token: its id, and when a form carrying it stops being accepted anyway."""

    token_id: str
    expires_at: datetime


def read_form_token(settings: Settings, token: str, now: datetime) -> FormTicket | None:
    """The token's ticket when we signed it, long enough ago for a person to fill the form,
    and not stale; else None."""
    stamp, _, rest = token.partition(".")
    token_id, _, signature = rest.partition(".")
    if whole_number(stamp, 12) is None or len(token_id) != 16:
        return None
    # Compared as bytes: a forged token may hold any character, which a str comparison refuses.
    expected = _sign(settings, stamp, token_id).encode()
    if not hmac.compare_digest(signature.encode(), expected):
        return None
    shown_at = datetime.fromtimestamp(int(stamp), UTC)
    if not timedelta(seconds=settings.form_min_seconds) <= now - shown_at <= MAX_FORM_AGE:
        return None
    return FormTicket(token_id, shown_at + MAX_FORM_AGE)


async def sent_by_a_person(
    db: AsyncSession, settings: Settings, form: FormData, now: datetime
) -> bool:
    """The honeypot is empty, the form is ours, filled in a person's time, and sent for the
    first time (its token is spent in `db`'s transaction). `form_min_seconds = 0` turns the
    token checks off (scripted clients, tests)."""
    if looks_automated(form):
        return False
    if settings.form_min_seconds <= 0:
        return True
    ticket = read_form_token(settings, form.text(FORM_TOKEN_FIELD), now)
    return ticket is not None and await spend_form_token(db, ticket.token_id, ticket.expires_at)
