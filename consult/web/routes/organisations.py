"""Administrators manage organisations (ministries) and the officials who act for them."""

from __future__ import annotations

from starlette.responses import Response

from consult.errors import FormError
from consult.organisations.services import (
    add_member,
    create_organisation,
    get_organisation,
    remove_member,
)
from consult.pages.organisations import organisation_page, organisations_page
from consult.web.context import RequestContext
from consult.web.forms import read_form, with_query
from consult.web.permissions import ADMIN
from consult.web.routing import route

NOTICES = ("added", "removed")


async def index(ctx: RequestContext) -> Response:
    """Every organisation, and the form that creates one."""
    page = await organisations_page(ctx.db)
    return ctx.render("organisations/list.html", page)


async def create(ctx: RequestContext) -> Response:
    """Create an organisation (recorded in the audit log), then show its members."""
    form = await read_form(ctx.request)
    values = {k: form.text(k) for k in ("name", "slug")}
    try:
        organisation = await create_organisation(ctx.db, values["name"], values["slug"], ctx.member)
    except FormError as error:
        page = await organisations_page(ctx.db, values, error.fields)
        return ctx.render(
            "organisations/list.html", page, block="organisation_form", status_code=422
        )
    url = ctx.url_for("organisation", organisation=organisation.slug)
    return ctx.redirect(with_query(url, done="created"))


async def show(ctx: RequestContext) -> Response:
    """An organisation's members, the form that adds one and a button to remove each."""
    organisation = await get_organisation(ctx.db, ctx.path("organisation"))
    done = ctx.query.get("done")
    notice = done if done in (*NOTICES, "created") else None
    page = await organisation_page(ctx.db, organisation, notice=notice)
    return ctx.render("organisations/show.html", page)


async def add(ctx: RequestContext) -> Response:
    """Add the official or moderator with this email as a member (audit log)."""
    organisation = await get_organisation(ctx.db, ctx.path("organisation"))
    email = (await read_form(ctx.request)).text("email")
    try:
        await add_member(ctx.db, organisation, email, ctx.member)
    except FormError as error:
        page = await organisation_page(ctx.db, organisation, {"email": email}, error.fields)
        return ctx.render("organisations/show.html", page, block="member_form", status_code=422)
    url = ctx.url_for("organisation", organisation=organisation.slug)
    return ctx.redirect(with_query(url, done="added"))


async def remove(ctx: RequestContext) -> Response:
    """The member stops acting for the organisation (audit log)."""
    organisation = await get_organisation(ctx.db, ctx.path("organisation"))
    await remove_member(ctx.db, organisation, ctx.path_id("user_id"), ctx.member)
    url = ctx.url_for("organisation", organisation=organisation.slug)
    return ctx.redirect(with_query(url, done="removed"))


ONE = "/admin/organisations/{organisation}"

routes = [
    route("/admin/organisations", index, ADMIN, name="organisations"),
    route(
        "/admin/organisations",
        create,
        ADMIN,
        ["POST"],
        name="organisation_create",
        rate_limit="post",
    ),
    route(ONE, show, ADMIN, name="organisation"),
    route(f"{ONE}/members", add, ADMIN, ["POST"], name="organisation_add", rate_limit="post"),
    route(
        f"{ONE}/members/{{user_id:id}}/remove",
        remove,
        ADMIN,
        ["POST"],
        name="organisation_remove",
        rate_limit="post",
    ),
]
