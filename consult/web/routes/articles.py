"""Article pages: numbered alinéas with highlighted passages, and the participation beside them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from consult import i18n
from consult.bills.diff import article_diff
from consult.bills.models import BillVersion
from consult.bills.operations import Operation, apply_operation
from consult.bills.services import ArticlePage, get_article_page, get_version, list_versions
from consult.bills.wording import formal_wording
from consult.consultations.models import Consultation
from consult.consultations.services import accepts_contributions, get_consultation
from consult.contributions.anchors import highlight
from consult.contributions.article_context import ArticleContext
from consult.contributions.listing import (
    SORTS,
    amendment_footprints,
    anchored_on_version,
    list_contributions,
)
from consult.contributions.models import Contribution, ContributionKind
from consult.contributions.views import describe_amendment, overlapping_groups
from consult.contributions.votes import article_tally, votes_of
from consult.errors import NotFound
from consult.revisions.services import anchors_on, reattached_passages
from consult.web.antispam import form_token
from consult.web.permissions import PUBLIC
from consult.web.routing import route
from consult.web.templating import render

KIND_FILTERS = [kind.value for kind in ContributionKind if kind is not ContributionKind.REPLY]


async def show(request: Request) -> Response:
    """One article of the latest version, or of `?version=N`."""
    db, now = request.state.db, request.app.state.clock()
    consultation = await get_consultation(db, request.path_params["slug"], request.state.user, now)
    raw_version = request.query_params.get("version")
    if raw_version is not None and not raw_version.isdigit():
        raise HTTPException(404)
    version = await get_version(db, consultation, int(raw_version) if raw_version else None)
    page = await get_article_page(db, version, request.path_params["key"])
    context = ArticleContext(consultation, version, page.article, [a.text for a in page.alineas])
    # The region is one of this handler's own blocks; the parameter only picks between them.
    block = "contributions" if request.query_params.get("region") == "contributions" else "article"
    return await render_article(request, context, block=block, page=page)


def _listing_options(request: Request) -> dict[str, Any]:
    params = request.query_params
    sort = params.get("sort", "supported")
    kind = params.get("kind") or None
    alinea = params.get("alinea", "")
    page = params.get("page", "1")
    return {
        "sort": sort if sort in SORTS else "supported",
        "kind": kind if kind in KIND_FILTERS else None,
        "alinea": int(alinea) if alinea.isdigit() else None,
        "page": int(page) if page.isdigit() and int(page) > 0 else 1,
    }


async def render_article(
    request: Request,
    context: ArticleContext,
    *,
    form_name: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    preview: Operation | None = None,
    status_code: int = 200,
    block: str = "article",
    page: ArticlePage | None = None,
) -> Response:
    """The article page (or one of its regions), optionally with a form re-shown."""
    db, now, user = request.state.db, request.app.state.clock(), request.state.user
    consultation, version = context.consultation, context.version
    language = i18n.get_language()
    page = page or await get_article_page(db, version, context.article.key)
    options = _listing_options(request)
    listing = await list_contributions(db, consultation, context.article.key, **options)
    shown = listing.items + [c for thread in listing.children.values() for c in thread]
    anchored = await anchored_on_version(db, version, context.article.key)
    spans: dict[int, list[tuple[int, int, int]]] = {}
    for contribution in anchored:
        if contribution.alinea and contribution.quote_start is not None:
            spans.setdefault(contribution.alinea, []).append(
                (contribution.quote_start, contribution.quote_end or 0, contribution.id)
            )
    # Passages quoted on an earlier version and found again in this one.
    for anchor in await reattached_passages(db, version, context.article.key):
        if anchor.alinea and anchor.start is not None:
            spans.setdefault(anchor.alinea, []).append(
                (anchor.start, anchor.end or 0, anchor.contribution_id)
            )
    placements = await _placements(db, consultation, version, shown)
    footprints = await amendment_footprints(db, consultation, context.article.key)
    shown_amendments = [c for c in shown if c.kind is ContributionKind.AMENDMENT]
    texts = await texts_written_on(db, context, shown_amendments)
    views = {a.id: describe_amendment(a, *texts[a.version_id], language) for a in shown_amendments}
    preview_view = None
    if preview is not None:
        after = apply_operation(preview, context.alineas)
        preview_view = {
            "wording": formal_wording(preview, context.article.number, context.alineas, language),
            "diff": article_diff([] if preview.kind == "new_article" else context.alineas, after),
            "after": after,
        }
    return render(
        request,
        "articles/show.html",
        {
            "consultation": consultation,
            "page": page,
            "context": context,
            "is_open": accepts_contributions(consultation, now),
            "phase": consultation.phase_at(now),
            "segments": {
                number: highlight(text, spans.get(number, []))
                for number, text in enumerate(context.alineas, start=1)
            },
            "listing": listing,
            "options": options,
            "kind_filters": KIND_FILTERS,
            "amendment_views": views,
            "overlaps": overlapping_groups(shown_amendments, footprints),
            "amendment_ids": [amendment_id for amendment_id, _ in footprints],
            "article_tally": await article_tally(db, consultation, context.article.key),
            "my_votes": await votes_of(
                db, user, consultation, [c.id for c in shown], context.article.key
            ),
            "placements": placements,
            "form_name": form_name,
            "values": values or {},
            "errors": errors or {},
            "preview": preview_view,
            "form_token": form_token(request.app.state.settings, now),
            "posted": int(posted)
            if (posted := request.query_params.get("posted", "")).isdigit()
            else None,
        },
        block=block,
        status_code=status_code,
    )


async def texts_written_on(
    db: Any, context: ArticleContext, amendments: list[Contribution]
) -> dict[int, tuple[list[str], str]]:
    """Per version id, the alinéas and number of the article as the amendments read it.

    An amendment written on an earlier version is shown against that version's text: its
    words may be gone from the current one. An article missing from that version (it cannot
    be, short of a broken import) falls back on the current text.
    """
    texts = {context.version.id: (context.alineas, context.article.number)}
    for version_id in {a.version_id for a in amendments} - set(texts):
        earlier = await db.get(BillVersion, version_id)
        try:
            page = await get_article_page(db, earlier, context.article.key)
        except NotFound:
            texts[version_id] = texts[context.version.id]
            continue
        texts[version_id] = ([a.text for a in page.alineas], page.article.number)
    return texts


@dataclass(frozen=True)
class PassageFate:
    """Where a contribution written on an earlier version stands in the one shown."""

    status: str
    written_on: int
    """The number of the version it was written on."""


async def _placements(
    db: Any, consultation: Consultation, version: BillVersion, shown: list[Contribution]
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


routes = [route("/consultations/{slug}/articles/{key}", show, PUBLIC, name="article", cache=True)]
