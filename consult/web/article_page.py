"""The article page as a response: shown on its own, or again around a participation form.

Read on its own, the page is kept for every reader under the article's stamp
(consult.stamps): the database counts every write to what the page shows, so one query tells
whether a kept page is still the page; the reader's own parts (their votes, the forms' token,
the report forms not shown on their own contributions) are filled in for each request
(consult.web.fragments). See docs/decisions/0036-page-stamps.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from jinja2_fragments import render_block
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse, Response

from consult import i18n
from consult.accounts.models import Role, User
from consult.bills.services import ArticleInBill
from consult.consultations.models import Consultation
from consult.consultations.services import accepts_contributions
from consult.contributions.article_context import ArticleContext
from consult.input import whole_number
from consult.pages.articles import (
    ArticleForm,
    ListingOptions,
    article_page,
    find_article,
    stamp_and_votes,
)
from consult.web.antispam import form_token
from consult.web.context import RequestContext, page_context
from consult.web.fragments import MARKERS, CardRenderer, Reader, renderer_of
from consult.web.templating import layout_context

VARY = "HX-Request, HX-Request-Type, Cookie, Accept-Language"


async def render_article_page(
    ctx: RequestContext,
    context: ArticleContext,
    *,
    in_bill: ArticleInBill | None = None,
    form: ArticleForm | None = None,
    status_code: int = 200,
    block: str = "article",
) -> Response:
    """The article page (or one of its regions), optionally with a form shown again."""
    page = await article_page(
        ctx.db,
        context,
        in_bill=in_bill,
        viewer=ctx.user,
        now=ctx.now,
        options=ListingOptions.parse(ctx.query),
        form_token=form_token(ctx.settings, ctx.now),
        form=form,
        posted=whole_number(ctx.query.get("posted")),
    )
    return ctx.render("articles/show.html", page, block=block, status_code=status_code)


@dataclass(frozen=True)
class KindOfReader:
    """Who a kept page is rendered for: somebody logged in, who may take part or not (the
    page's forms or a notice). It has nothing else of a person, so a kept page cannot show
    anything else of one (the templates' undefined is strict)."""

    verification_level: int


async def show_article_page(
    ctx: RequestContext,
    consultation: Consultation,
    key: str,
    version_number: int | None,
    block: str,
) -> Response:
    """The article page as read: kept for every reader, filled in for this one."""
    if ctx.query.get("posted") is not None:
        # "Your contribution is published", for its author alone: rendered for them.
        in_bill, context = await find_article(ctx.db, consultation, key, version_number)
        return await render_article_page(ctx, context, in_bill=in_bill, block=block)
    user, now = ctx.user, ctx.now
    region = block if ctx.is_partial else None
    is_open = accepts_contributions(consultation, now)
    takes_part = None
    if user is not None:
        takes_part = user.verification_level >= consultation.participation_requires
    options = ListingOptions.parse(ctx.query)
    lang = i18n.get_language()
    # Read first: whatever is read after it is at least as new as the stamp says.
    stamp, my_votes = await stamp_and_votes(ctx.db, consultation, key, user)
    renderer = renderer_of(ctx.services.templates)
    phase = consultation.phase_at(now)
    page_key = (
        "article",
        consultation.id,
        consultation.slug,
        key,
        version_number,
        stamp,
        lang,
        options,
        is_open,
        phase,
        takes_part,
        region,
    )
    kept = renderer.pages.get(page_key)
    if kept is None:
        in_bill, context = await find_article(ctx.db, consultation, key, version_number)
        page = await article_page(
            ctx.db,
            context,
            in_bill=in_bill,
            viewer=None,
            now=now,
            options=options,
            form_token=MARKERS["token"],
            public=True,
        )
        reader = None
        if takes_part is not None:
            level = consultation.participation_requires if takes_part else -1
            reader = KindOfReader(level)
        variables = {
            **page_context(page),
            "user": reader,
            "lang": lang,
            "url_for": ctx.services.url_for,
        }
        templates = ctx.services.templates
        html = render_block(templates, "articles/show.html", region or "article", **variables)
        title = render_block(templates, "articles/show.html", "title", **variables)
        kept = renderer.keep_page(page_key, title, html)
    body = renderer.fill_page(
        kept,
        Reader(
            user=user,
            slug=consultation.slug,
            article_key=key,
            is_open=is_open,
            my_votes=my_votes,
            form_token=form_token(ctx.settings, now),
            url_for=ctx.services.url_for,
            lang=lang,
        ),
    )
    if region is not None:
        return HTMLResponse(body, headers={"Vary": VARY})
    title = Markup(renderer.page_title(kept))  # noqa: S704  (rendered, escaped, by the template)
    page_body = Markup(body)  # noqa: S704  (rendered, escaped, by the template)
    if ctx.query.get("welcome") is not None:
        # The newcomer is greeted by name: their layout is rendered for them alone.
        return ctx.render("articles/page.html", {"title": title, "body": page_body})
    return HTMLResponse(_in_layout(ctx, renderer, title, page_body), headers={"Vary": VARY})


@dataclass(frozen=True)
class MenuViewer:
    """Who the layout's menu is rendered for: a role, and nothing else of a person."""

    role: Role

    def has_role(self, *roles: Role) -> bool:
        """As `User.has_role`."""
        return self.role is Role.ADMIN or self.role in roles


_LAYOUT_SLOTS = {name: Markup(f"<consult-layout:{name}>") for name in ("nonce", "title", "body")}  # noqa: S704  (constants)
_LAYOUT_RE = re.compile("<consult-layout:(nonce|title|body)>")


def _in_layout(ctx: RequestContext, renderer: CardRenderer, title: Markup, body: Markup) -> str:
    """The page's layout (header, menu, footer) around `body`, kept per language, address and
    role of the reader, with the request's own nonce put in."""
    request, user = ctx.request, ctx.user
    current_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    role = None if user is None else user.role
    key = ("layout", "articles/page.html", i18n.get_language(), current_path, role)
    parts = renderer.cache.get(key)
    if parts is None:
        variables = {
            # A stand-in with the menu's one question (the templates' undefined is strict).
            **layout_context(request, None if role is None else cast(User, MenuViewer(role))),
            "csp_nonce": _LAYOUT_SLOTS["nonce"],
            "title": _LAYOUT_SLOTS["title"],
            "body": _LAYOUT_SLOTS["body"],
        }
        html = ctx.services.templates.get_template("articles/page.html").render(variables)
        parts = renderer.cache.keep(key, tuple(_LAYOUT_RE.split(html)))
    nonce = str(escape(request.scope.get("state", {}).get("csp_nonce", "")))
    values = {"nonce": nonce, "title": title, "body": body}
    return "".join(part if index % 2 == 0 else values[part] for index, part in enumerate(parts))
