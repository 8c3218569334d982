"""Recording audit events."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from consult.audit.models import AuditEvent


async def record_event(
    session: AsyncSession,
    actor_id: int | None,
    action: str,
    target: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event; `details` must hold identifiers, never personal data or secrets."""
    event = AuditEvent(actor_id=actor_id, action=action, target=target, details=details or {})
    session.add(event)
    await session.flush()
    return event
