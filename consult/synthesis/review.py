"""Officials review a synthesis before the public sees it: they summarise the consultation and
each group, correct the groups (:mod:`consult.synthesis.edits`), then publish.

Everything here is kept: summaries are part of the run's history of edits, publication is in
the audit log, and the machine's original titles stay beside the ministry's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.audit.services import record_event
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.synthesis.edits import remember
from consult.synthesis.models import RunStatus, SynthesisCluster, SynthesisRun

MAX_SUMMARY = 5_000


def _summary(raw: str) -> str:
    text = raw.strip()
    if len(text) > MAX_SUMMARY:
        message = _("The summary must have at most %(count)s characters.") % {"count": MAX_SUMMARY}
        raise FormError({"summary": message})
    return text


async def summarise_run(
    db: AsyncSession, run: SynthesisRun, text: str, actor: User, now: datetime
) -> None:
    """The ministry's summary of the whole consultation (empty: none)."""
    before, run.summary = run.summary, _summary(text)
    await db.flush()
    await record_event(
        db,
        actor.id,
        "synthesis.summary",
        target=f"synthesis_run:{run.id}",
        details={"length_before": len(before), "length_after": len(run.summary)},
    )


async def summarise_group(
    db: AsyncSession, group: SynthesisCluster, text: str, actor: User, now: datetime
) -> None:
    """The ministry's summary of one group (empty: none)."""
    if group.is_other:
        raise FormError({"summary": _("The contributions in no group have no summary.")})
    before, group.summary = group.summary, _summary(text)
    await db.flush()
    await remember(db, group, "summary", {"before": before, "after": group.summary}, actor, now)


async def publish_run(db: AsyncSession, run: SynthesisRun, actor: User, now: datetime) -> None:
    """Make a reviewed run the consultation's public synthesis (republishing changes nothing)."""
    if run.status is not RunStatus.SUCCEEDED:
        raise FormError({"form": _("Only a complete synthesis can be published.")})
    if run.published_at is not None:
        return
    run.published_at = now
    run.published_by_id = actor.id
    await db.flush()
    await record_event(
        db,
        actor.id,
        "synthesis.publish",
        target=f"synthesis_run:{run.id}",
        details={"consultation_id": run.consultation_id},
    )
