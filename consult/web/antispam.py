"""Anti-automation for forms: a honeypot field and a minimum time to fill the form."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from consult.input import whole_number
from consult.settings import Settings

FORM_TOKEN_FIELD = "form_started"  # noqa: S105  (a field name, not a secret)
MAX_FORM_AGE_SECONDS = 24 * 3600


def form_token(settings: Settings, now: datetime) -> str:
    """A signed timestamp put in each form when the page is rendered."""
    stamp = str(int(now.timestamp()))
    return f"{stamp}.{_sign(settings, stamp)}"


def _sign(settings: Settings, stamp: str) -> str:
    digest = hmac.new(settings.secret_key.encode(), f"form:{stamp}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def filled_by_a_person(settings: Settings, token: str, now: datetime) -> bool:
    """The form was shown by us, long enough ago for a person to fill it, and not stale."""
    if settings.form_min_seconds <= 0:
        return True
    stamp, _, signature = token.partition(".")
    # Compared as bytes: a forged token may hold any character, which a str comparison refuses.
    expected = _sign(settings, stamp).encode()
    if whole_number(stamp, 12) is None or not hmac.compare_digest(signature.encode(), expected):
        return False
    age = now.timestamp() - int(stamp)
    return settings.form_min_seconds <= age <= MAX_FORM_AGE_SECONDS
