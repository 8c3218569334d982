"""What an amendment looks like to a reader: its wording, its diff, the text it would give."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from consult.bills.diff import AlineaDiff, article_diff
from consult.bills.footprints import Footprint, touches
from consult.bills.models import BillVersion
from consult.bills.operations import AmendmentError, Operation, OperationKind, apply_operation
from consult.bills.services import get_article_in_bill
from consult.bills.wording import formal_wording
from consult.contributions.article_context import ArticleContext
from consult.contributions.models import Contribution
from consult.contributions.writing import footprint_of, operation_of
from consult.errors import NotFound


@dataclass(frozen=True)
class AmendmentView:
    """An amendment shown three ways: formal wording, word-level diff, resulting text."""

    contribution: Contribution
    operation: Operation
    wording: str
    diff: list[AlineaDiff]
    after: list[str]
    is_new_article: bool
    applies: bool

    @property
    def changed(self) -> list[AlineaDiff]:
        """Only the alinéas the amendment touches."""
        return [d for d in self.diff if d.status != "unchanged"]


def describe_amendment(
    contribution: Contribution,
    alineas: list[str],
    article_number: str,
    language: str,
) -> AmendmentView:
    """Build the reader's view of an amendment on the article text it was made on
    (``alineas``: that version's text, which later versions may have changed)."""
    operation = operation_of(contribution)
    try:
        wording = formal_wording(operation, article_number, alineas, language)
        after = apply_operation(operation, alineas)
        applies = True
    except AmendmentError:
        # Only a text other than the one it was written on can refuse it: say nothing more.
        wording, after, applies = "", [], False
    is_new_article = operation.kind is OperationKind.NEW_ARTICLE
    if is_new_article:
        diff = article_diff([], after)
    elif applies:
        diff = article_diff(alineas, after)
    else:
        diff = []
    return AmendmentView(contribution, operation, wording, diff, after, is_new_article, applies)


def overlapping_groups(
    shown: list[Contribution], footprints: list[tuple[int, Footprint]]
) -> dict[int, list[int]]:
    """For each amendment shown, the other amendments of the article touching its passage."""
    by_alinea: dict[int, list[tuple[int, Footprint]]] = {}
    everywhere: list[tuple[int, Footprint]] = []
    for entry in footprints:
        if entry[1].scope in ("article", "new_article"):
            everywhere.append(entry)
        else:
            by_alinea.setdefault(entry[1].number, []).append(entry)
    groups: dict[int, list[int]] = {}
    for amendment in shown:
        mine = footprint_of(amendment)
        if mine.scope in ("article", "new_article"):
            candidates = footprints
        else:
            candidates = by_alinea.get(mine.number, []) + everywhere
        groups[amendment.id] = sorted(
            other_id
            for other_id, other in candidates
            if other_id != amendment.id and touches(mine, other)
        )
    return groups


async def texts_written_on(
    db: AsyncSession, context: ArticleContext, amendments: list[Contribution]
) -> dict[int, tuple[list[str], str]]:
    """Per version id, the alinéas and number of the article as the amendments read it.

    An amendment written on an earlier version is shown against that version's text: its
    words may be gone from the current one. An article missing from that version (it cannot
    be, short of a broken import) falls back on the current text.
    """
    texts = {context.version.id: (context.alineas, context.article.number)}
    for version_id in {a.version_id for a in amendments} - set(texts):
        earlier = await db.get(BillVersion, version_id)
        if earlier is None:
            texts[version_id] = texts[context.version.id]
            continue
        try:
            found = await get_article_in_bill(db, earlier, context.article.key)
        except NotFound:
            texts[version_id] = texts[context.version.id]
            continue
        texts[version_id] = ([a.text for a in found.alineas], found.article.number)
    return texts
