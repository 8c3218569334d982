"""A person's own data: taking it away (an archive) and closing the account."""

from __future__ import annotations

from starlette.responses import Response

from consult.accounts.erasure import close_account
from consult.accounts.export import export_my_data
from consult.errors import FormError
from consult.pages.accounts import AccountClosedPage, CloseAccountForm
from consult.web.auth import log_out
from consult.web.context import RequestContext
from consult.web.forms import read_form
from consult.web.permissions import AUTHENTICATED
from consult.web.routing import route


async def export(ctx: RequestContext) -> Response:
    """Everything stored about the account, as JSON files in a zip archive."""
    archive = await export_my_data(ctx.db, ctx.member, ctx.now)
    name = f"consult-my-data-{ctx.now:%Y-%m-%d}.zip"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(archive, media_type="application/zip", headers=headers)


async def close_form(ctx: RequestContext) -> Response:
    """What closing the account does, and the form to do it."""
    return ctx.render("accounts/close.html", CloseAccountForm())


async def close(ctx: RequestContext) -> Response:
    """Close the account: personal data erased, sessions ended, in one transaction."""
    form = await read_form(ctx.request)
    delete_contributions = form.text("contributions") == "delete"
    try:
        closed = await close_account(
            ctx.db, ctx.member, form.text("password"), delete_contributions, ctx.now
        )
    except FormError as error:
        page = CloseAccountForm(error.fields, delete_contributions)
        return ctx.render("accounts/close.html", page, status_code=422)
    response = ctx.render("accounts/closed.html", AccountClosedPage(closed.kept, closed.deleted))
    await log_out(ctx, response)
    return response


routes = [
    route("/account/export", export, AUTHENTICATED),
    route("/account/close", close_form, AUTHENTICATED),
    route("/account/close", close, AUTHENTICATED, ["POST"], rate_limit="login"),
]
