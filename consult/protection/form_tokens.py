"""Each form is accepted once: its token is spent with what the form saved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from consult.db import upsert_into
from consult.protection.models import SpentFormToken


async def spend_form_token(db: AsyncSession, token_id: str, expires_at: datetime) -> bool:
    """Spend the token in this transaction; False when it was spent already.

    Two requests carrying one token at once both insert it: the second waits for the first's
    transaction and finds it spent. Rolled back with a refused form, the token can be sent
    again with the corrected form.
    """
    result = await db.execute(
        upsert_into(db, SpentFormToken)
        .values(token_id=token_id, expires_at=expires_at)
        .on_conflict_do_nothing()
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def purge_spent_form_tokens(db: AsyncSession, now: datetime) -> int:
    """Forget tokens past their expiry (no form carrying them is accepted any more)."""
    result = await db.execute(delete(SpentFormToken).where(SpentFormToken.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
