"""Preparing and publishing the next version of a bill, and reading how versions differ.

An official picks accepted amendments (those whose answer, published or in draft, accepts
them in whole or in part), decides between competing ones, may then edit the text by hand,
and publishes. Publishing stores the new version, the provenance of every changed word, and
where each annotation and amendment of the previous version now sits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.answers.models import Answer, AnswerState, ContributionOutcome
from consult.audit.models import AuditEvent
from consult.audit.services import record_event
from consult.bills.diff import AlineaDiff, article_diff
from consult.bills.models import BillVersion
from consult.bills.parser import BillParseError, ParsedBill, parse_bill
from consult.bills.services import (
    article_alineas,
    bill_of_version,
    get_version,
    latest_version,
    list_versions,
    publish_version,
)
from consult.bills.writer import write_bill
from consult.consultations.models import Consultation
from consult.consultations.services import accepts_contributions
from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.contributions.writing import footprint_of, operation_of
from consult.db import lock_row
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.revisions.builder import Built, Conflict, Proposal, build_next
from consult.revisions.models import (
    AnchorStatus,
    ArticleRedline,
    ContributionAnchor,
    VersionChange,
    VersionDraft,
)
from consult.revisions.reanchor import reattach
from consult.revisions.redline import MINISTRY, Redline, as_rows, changes

ACCEPTING = (AnswerState.ACCEPTED, AnswerState.PARTIALLY_ACCEPTED)
MAX_SOURCE = 2_000_000


@dataclass(frozen=True)
class Candidate:
    """An amendment the next version can take, with the answer that accepts it."""

    contribution: Contribution
    answer: Answer

    @property
    def individual(self) -> bool:
        """Accepted by an answer of its own. An amendment accepted only by the answer to its
        group or campaign is offered, never counted as accepted: the group's answer says what
        became of an idea, not that each of its amendments' wording goes into the text."""
        return self.answer.contribution_id == self.contribution.id


class ConflictsUnresolved(FormError):
    """Publishing is refused while competing amendments wait for a decision."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        super().__init__(
            {
                "conflicts": _(
                    "Choose between the competing amendments listed below before publishing."
                )
            }
        )
        self.conflicts = list(conflicts)


async def accepted_amendments(
    db: AsyncSession, consultation: Consultation, version: BillVersion
) -> list[Candidate]:
    """Amendments written on ``version`` that an answer accepts, in whole or in part.

    The standing published answer counts first; an amendment without one counts when its own
    draft answer accepts it, so the official can prepare the text before publishing answers.
    Those accepted by a group's or a campaign's answer only are not :attr:`Candidate.individual`:
    the draft offers them apart, and they go into the text only when picked one by one.
    """
    published = await db.execute(
        select(Contribution, Answer)
        .join(ContributionOutcome, ContributionOutcome.contribution_id == Contribution.id)
        .join(Answer, Answer.id == ContributionOutcome.answer_id)
        .where(
            Contribution.consultation_id == consultation.id,
            Contribution.version_id == version.id,
            Contribution.kind == ContributionKind.AMENDMENT,
            Contribution.visibility == Visibility.VISIBLE,
        )
    )
    candidates = {c.id: Candidate(c, a) for c, a in published if a.state in ACCEPTING}
    decided = {c.id for c, _answer in published}
    drafts = await db.execute(
        select(Contribution, Answer)
        .join(Answer, Answer.contribution_id == Contribution.id)
        .where(
            Contribution.consultation_id == consultation.id,
            Contribution.version_id == version.id,
            Contribution.kind == ContributionKind.AMENDMENT,
            Contribution.visibility == Visibility.VISIBLE,
            Answer.published_at.is_(None),
            Answer.state.in_(ACCEPTING),
        )
    )
    for contribution, answer in drafts:
        if contribution.id not in decided:
            candidates[contribution.id] = Candidate(contribution, answer)
    return sorted(candidates.values(), key=lambda c: (c.contribution.created_at, c.contribution.id))


async def find_draft(
    db: AsyncSession, consultation: Consultation, user: User, now: datetime
) -> tuple[VersionDraft, BillVersion]:
    """The draft of the next version of the current one; a new, unsaved one if none is open
    (reading a draft saves nothing: the first choice an official records saves it)."""
    version = await latest_version(db, consultation)
    if version is None:
        raise FormError({"form": _("Import the bill before preparing its next version.")})
    draft = await db.scalar(
        select(VersionDraft).where(
            VersionDraft.consultation_id == consultation.id,
            VersionDraft.base_version_id == version.id,
            VersionDraft.published_version_id.is_(None),
        )
    )
    if draft is None:
        draft = VersionDraft(
            consultation_id=consultation.id,
            base_version_id=version.id,
            amendment_ids=[],
            choices={},
            source_text="",
            edited=False,
            created_by_id=user.id,
            created_at=now,
            updated_at=now,
        )
    return draft, version


async def open_draft(
    db: AsyncSession, consultation: Consultation, user: User, now: datetime
) -> tuple[VersionDraft, BillVersion]:
    """The draft of the next version of the current one, saved (a new one if none is open)."""
    draft, version = await find_draft(db, consultation, user, now)
    if draft.id is None:
        db.add(draft)
        await db.flush()
    return draft, version


def _proposals(candidates: Sequence[Candidate], chosen: Sequence[int]) -> list[Proposal]:
    by_id = {c.contribution.id: c.contribution for c in candidates}
    return [
        Proposal(i, by_id[i].article_key, operation_of(by_id[i]), footprint_of(by_id[i]))
        for i in chosen
        if i in by_id
    ]


async def build_draft(
    db: AsyncSession, consultation: Consultation, draft: VersionDraft, version: BillVersion
) -> tuple[ParsedBill, Built, list[Candidate]]:
    """The current version's tree, the draft's text built from its picks, and the candidates."""
    base = await bill_of_version(db, version)
    candidates = await accepted_amendments(db, consultation, version)
    built = build_next(base, _proposals(candidates, draft.amendment_ids), draft.choices)
    return base, built, candidates


async def choose_amendments(
    db: AsyncSession,
    consultation: Consultation,
    user: User,
    now: datetime,
    picked: Sequence[int],
    choices: dict[str, int],
) -> VersionDraft:
    """Record the accepted amendments an official picks for the next version, and the choice
    made in each conflict (FormError before the bill is imported)."""
    draft, version = await open_draft(db, consultation, user, now)
    candidates = await accepted_amendments(db, consultation, version)
    select_amendments(draft, candidates, picked, choices, now)
    return draft


def select_amendments(
    draft: VersionDraft,
    candidates: Sequence[Candidate],
    picked: Sequence[int],
    choices: dict[str, int],
    now: datetime,
) -> None:
    """Record the official's picks and choices; hand edits are dropped when the picks change
    (the text is rebuilt from them)."""
    allowed = {c.contribution.id for c in candidates}
    chosen = [i for i in dict.fromkeys(picked) if i in allowed]
    if chosen != draft.amendment_ids:
        draft.edited = False
        draft.source_text = ""
    draft.amendment_ids = chosen
    # A choice made earlier stays until the official makes another one in the same conflict:
    # a form that did not show the conflict (or left it untouched) does not undo it.
    draft.choices = {**(draft.choices or {}), **choices}
    draft.updated_at = now


def draft_text(draft: VersionDraft, built: Built) -> str:
    """The text the draft would publish: the official's, or the one built from the picks."""
    return draft.source_text if draft.edited else write_bill(built.bill)


async def edit_draft_text(
    db: AsyncSession, consultation: Consultation, user: User, now: datetime, source: str
) -> VersionDraft:
    """Keep an official's hand edit of the next version's text (FormError naming the line
    the bill reader stopped at)."""
    draft, _version = await open_draft(db, consultation, user, now)
    edit_text(draft, source, now)
    return draft


def edit_text(draft: VersionDraft, source: str, now: datetime) -> None:
    """Keep the official's hand edit, once it reads as a bill (FormError naming the line)."""
    if len(source) > MAX_SOURCE:
        raise FormError({"source": _("The text is too long.")})
    try:
        parse_bill(source, format="markdown")
    except BillParseError as error:
        raise FormError({"source": str(error)}) from error
    draft.source_text = source
    draft.edited = True
    draft.updated_at = now


class AlreadyPublished(Exception):
    """The version a request meant to publish was published meanwhile (a second click on the
    button, a colleague's publication): nothing is published twice."""

    def __init__(self, version: BillVersion) -> None:
        super().__init__(f"version {version.number} is already published")
        self.version = version


MAX_REASON = 2000


def check_open_reason(consultation: Consultation, now: datetime, reason: str) -> str:
    """The reason for publishing a version while contributions are open, required then
    (FormError), limited in length; "" once they are closed."""
    reason = " ".join(reason.split())
    if not accepts_contributions(consultation, now):
        return ""
    if not reason:
        raise FormError(
            {
                "reason": _(
                    "The consultation is still open to contributions: say why this version "
                    "is published before it closes."
                )
            }
        )
    if len(reason) > MAX_REASON:
        raise FormError(
            {
                "reason": _("The reason must have at most {count} characters.").format(
                    count=MAX_REASON
                )
            }
        )
    return reason


async def publish_next_version(
    db: AsyncSession,
    consultation: Consultation,
    user: User,
    now: datetime,
    number: int | None,
    reason: str = "",
) -> BillVersion:
    """Publish the open draft as version `number`, the number the official saw on the button
    (see `publish_draft`); while contributions are open, only with `reason` (kept in the
    audit log and shown with the version's changes).

    Publications of one consultation take turns: the first publishes, those that come after it
    find that version published (:class:`AlreadyPublished`) rather than a copy of it.
    """
    await lock_row(db, Consultation, consultation.id)
    latest = await latest_version(db, consultation)
    if latest is not None and number is not None and 1 <= number <= latest.number:
        raise AlreadyPublished(await get_version(db, consultation, number))
    if latest is not None and number != latest.number + 1:
        raise FormError({"form": _("Reload the page to see the draft, then publish it again.")})
    kept_reason = check_open_reason(consultation, now, reason)
    draft, version = await open_draft(db, consultation, user, now)
    return await publish_draft(db, consultation, draft, version, user, now, kept_reason)


async def publish_draft(
    db: AsyncSession,
    consultation: Consultation,
    draft: VersionDraft,
    version: BillVersion,
    user: User,
    now: datetime,
    reason: str = "",
) -> BillVersion:
    """Publish the draft as the next version, with the provenance of every change.

    Refused (:class:`ConflictsUnresolved`) while competing amendments wait for a decision,
    and (FormError) when the edited text does not read as a bill.
    """
    base, built, candidates = await build_draft(db, consultation, draft, version)
    if built.unresolved:
        raise ConflictsUnresolved(built.unresolved)
    source = draft_text(draft, built)
    try:
        final = parse_bill(source, format="markdown")
    except BillParseError as error:
        raise FormError({"source": str(error)}) from error
    new_version = await publish_version(
        db, consultation, final, source_text=source, source_format="markdown", published_by=user
    )
    answers = {c.contribution.id: c.answer.id for c in candidates}
    await _store_provenance(db, new_version, base, final, built, answers)
    await reanchor_contributions(db, consultation, version, new_version, base, final, built)
    draft.published_version_id = new_version.id
    draft.updated_at = now
    await record_event(
        db,
        user.id,
        "version.publish",
        target=f"consultation:{consultation.id}",
        details={
            "version": new_version.number,
            "applied": built.applied,
            "not_applied": sorted(built.failed),
            "edited_by_hand": draft.edited,
            "lost_conflicts": {str(k): v for k, v in lost_conflicts(built, candidates).items()},
            "reason_while_open": reason,
        },
    )
    return new_version


def lost_conflicts(built: Built, candidates: Sequence[Candidate]) -> dict[int, int]:
    """Amendments answered accepted (in whole or part) that a choice between competing
    amendments left out -> the amendment kept instead (0: none of them was kept)."""
    accepted = {c.contribution.id for c in candidates if c.answer.state in ACCEPTING}
    applied = set(built.applied)
    lost: dict[int, int] = {}
    for conflict in built.conflicts:
        if conflict in built.unresolved:
            continue
        kept = next((i for i in conflict.contribution_ids if i in applied), 0)
        for contribution_id in conflict.contribution_ids:
            if contribution_id != kept and contribution_id in accepted:
                lost[contribution_id] = kept
    return lost


async def publication_of(
    db: AsyncSession, consultation: Consultation, number: int
) -> dict[str, Any]:
    """What the audit log kept of the publication of version `number` (its reason while
    contributions were open, the accepted amendments a conflict left out), {} if none."""
    events = await db.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action == "version.publish",
            AuditEvent.target == f"consultation:{consultation.id}",
        )
        .order_by(AuditEvent.id.desc())
    )
    return next((dict(e.details) for e in events if e.details.get("version") == number), {})


async def _store_provenance(
    db: AsyncSession,
    new_version: BillVersion,
    base: ParsedBill,
    final: ParsedBill,
    built: Built,
    answers: dict[int, int],
) -> None:
    before = article_alineas(base)
    after = article_alineas(final)
    for key in [*after, *(k for k in before if k not in after)]:
        redline = built.redlines.get(key) or Redline(before.get(key, []))
        redline.edit(after.get(key, []), MINISTRY)
        if not redline.changed:
            continue
        lines = redline.lines()
        db.add(
            ArticleRedline(
                version_id=new_version.id,
                article_key=key,
                lines=as_rows(lines),
            )
        )
        for number, piece in changes(lines):
            origin = piece.origin or None
            db.add(
                VersionChange(
                    version_id=new_version.id,
                    article_key=key,
                    alinea=number,
                    kind=piece.kind,
                    text=piece.text,
                    contribution_id=origin,
                    answer_id=answers.get(origin) if origin else None,
                )
            )
    await db.flush()


async def reanchor_contributions(
    db: AsyncSession,
    consultation: Consultation,
    old_version: BillVersion,
    new_version: BillVersion,
    base: ParsedBill,
    final: ParsedBill,
    built: Built,
) -> None:
    """Place every quoted passage of the old version in the new one, or mark it outdated.

    The passages are those of annotations and amendments written on the old version, and
    those written earlier that the old version still held.
    """
    before, after = article_alineas(base), article_alineas(final)
    applied = set(built.applied)
    carried = {
        anchor.contribution_id: anchor
        for anchor in (
            await db.scalars(
                select(ContributionAnchor).where(
                    ContributionAnchor.version_id == old_version.id,
                    ContributionAnchor.status.in_((AnchorStatus.EXACT, AnchorStatus.FUZZY)),
                )
            )
        ).all()
    }
    contributions = (
        await db.scalars(
            select(Contribution).where(
                Contribution.consultation_id == consultation.id,
                Contribution.kind.in_((ContributionKind.ANNOTATION, ContributionKind.AMENDMENT)),
                (Contribution.version_id == old_version.id)
                | Contribution.id.in_(list(carried) or [0]),
            )
        )
    ).all()
    await db.execute(
        delete(ContributionAnchor).where(ContributionAnchor.version_id == new_version.id)
    )
    for contribution in contributions:
        anchor = carried.get(contribution.id)
        alinea = anchor.alinea if anchor is not None else contribution.alinea
        quote = _quote_of(contribution)
        key = contribution.article_key
        where: tuple[int | None, int | None, int | None] = (None, None, None)
        if contribution.id in applied:
            placement_status = AnchorStatus.APPLIED
        elif not quote or key not in after:
            placement_status = AnchorStatus.OUTDATED
        else:
            old_alineas = before.get(key, [])
            prefix, suffix = contribution.quote_prefix, contribution.quote_suffix
            if anchor is not None and anchor.alinea and anchor.start is not None:
                text = old_alineas[anchor.alinea - 1] if anchor.alinea <= len(old_alineas) else ""
                prefix = text[max(0, anchor.start - 32) : anchor.start]
                suffix = text[(anchor.end or 0) : (anchor.end or 0) + 32]
                quote = text[anchor.start : anchor.end or 0] or quote
            placement = reattach(
                quote,
                prefix=prefix,
                suffix=suffix,
                old_alinea=alinea,
                old_alineas=old_alineas,
                new_alineas=after[key],
            )
            placement_status = placement.status
            where = (placement.alinea, placement.start, placement.end)
        db.add(
            ContributionAnchor(
                contribution_id=contribution.id,
                version_id=new_version.id,
                article_key=key,
                status=placement_status,
                alinea=where[0],
                start=where[1],
                end=where[2],
            )
        )
    await db.flush()


def _quote_of(contribution: Contribution) -> str:
    """The words a contribution is about: its quote, or the words an amendment changes."""
    if contribution.quote_exact:
        return contribution.quote_exact
    if contribution.old_text:
        return contribution.old_text
    return ""


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ArticleComparison:
    """One article compared between two versions."""

    key: str
    status: str
    """"changed", "added", "removed" or "unchanged"."""
    number: str
    heading: str
    diff: list[AlineaDiff]


async def compare_versions(
    db: AsyncSession, older: BillVersion, newer: BillVersion
) -> list[ArticleComparison]:
    """Every article of either version, in the newer version's order, compared word by word."""
    old_bill, new_bill = await bill_of_version(db, older), await bill_of_version(db, newer)
    old_articles = {a.key: a for a in old_bill.articles()}
    new_articles = {a.key: a for a in new_bill.articles()}
    comparisons: list[ArticleComparison] = []
    for key in [*new_articles, *(k for k in old_articles if k not in new_articles)]:
        old, new = old_articles.get(key), new_articles.get(key)
        before = [c.text for c in old.children] if old else []
        after = [c.text for c in new.children] if new else []
        shown = new or old
        assert shown is not None
        if old is None:
            status = "added"
        elif new is None:
            status = "removed"
        else:
            status = "unchanged" if before == after and old.heading == new.heading else "changed"
        comparisons.append(
            ArticleComparison(key, status, shown.number, shown.heading, article_diff(before, after))
        )
    return comparisons


async def redlines_of(db: AsyncSession, version: BillVersion) -> dict[str, list[Any]]:
    """Article key -> the stored redline of the version's changes (with their origins)."""
    rows = (
        await db.scalars(select(ArticleRedline).where(ArticleRedline.version_id == version.id))
    ).all()
    return {row.article_key: row.lines for row in rows}


async def changes_by_contribution(
    db: AsyncSession, contribution_ids: Sequence[int]
) -> dict[int, list[tuple[VersionChange, BillVersion]]]:
    """For each amendment, the changes it made to later versions (with the version)."""
    if not contribution_ids:
        return {}
    rows = await db.execute(
        select(VersionChange, BillVersion)
        .join(BillVersion, BillVersion.id == VersionChange.version_id)
        .where(VersionChange.contribution_id.in_(list(contribution_ids)))
        .order_by(VersionChange.id)
    )
    found: dict[int, list[tuple[VersionChange, BillVersion]]] = {}
    for change, version in rows:
        assert change.contribution_id is not None
        found.setdefault(change.contribution_id, []).append((change, version))
    return found


async def anchors_on(
    db: AsyncSession, version: BillVersion, contribution_ids: Sequence[int]
) -> dict[int, ContributionAnchor]:
    """Where these contributions of earlier versions sit in ``version``."""
    if not contribution_ids:
        return {}
    rows = (
        await db.scalars(
            select(ContributionAnchor).where(
                ContributionAnchor.version_id == version.id,
                ContributionAnchor.contribution_id.in_(list(contribution_ids)),
            )
        )
    ).all()
    return {row.contribution_id: row for row in rows}


async def reattached_passages(
    db: AsyncSession, version: BillVersion, article_key: str
) -> list[ContributionAnchor]:
    """Passages of earlier contributions found again in this version of the article."""
    return list(
        (
            await db.scalars(
                select(ContributionAnchor).where(
                    ContributionAnchor.version_id == version.id,
                    ContributionAnchor.article_key == article_key,
                    ContributionAnchor.status.in_((AnchorStatus.EXACT, AnchorStatus.FUZZY)),
                )
            )
        ).all()
    )


@dataclass(frozen=True)
class PassageFate:
    """Where a contribution written on an earlier version stands in the one shown."""

    status: str
    written_on: int
    """The number of the version it was written on."""


async def passage_fates(
    db: AsyncSession, consultation: Consultation, version: BillVersion, shown: list[Contribution]
) -> dict[int, PassageFate]:
    """How the passages of the shown contributions written on earlier versions fare here."""
    earlier = [c for c in shown if c.version_id != version.id and c.kind.value != "reply"]
    if not earlier:
        return {}
    numbers = {v.id: v.number for v in await list_versions(db, consultation)}
    anchors = await anchors_on(db, version, [c.id for c in earlier])
    return {
        c.id: PassageFate(
            anchors[c.id].status.value if c.id in anchors else "outdated",
            numbers.get(c.version_id, 0),
        )
        for c in earlier
        if c.quote_exact or c.kind.value == "amendment"
    }
