"""Register, log in, log out, change password, profile."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from consult.accounts.services import authenticate, change_password, create_user
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.web.auth import log_in, log_out
from consult.web.forms import looks_automated, read_form, redirect_after_post, safe_next
from consult.web.permissions import ANONYMOUS, AUTHENTICATED
from consult.web.routing import route
from consult.web.templating import render


def _already_logged_in(request: Request) -> Response | None:
    if request.state.user is not None:
        return redirect_after_post(request, safe_next(request.query_params.get("next")))
    return None


async def register_form(request: Request) -> Response:
    """The registration form."""
    if (done := _already_logged_in(request)) is not None:
        return done
    return render(request, "accounts/register.html", {"form": {}, "errors": {}})


async def register(request: Request) -> Response:
    """Create a citizen account and log it in."""
    form = await read_form(request)
    values = {k: form.text(k) for k in ("email", "display_name", "next")}
    if looks_automated(form):
        errors = {"form": _("Your submission could not be accepted. Please try again.")}
        return _register_page(request, values, errors)
    try:
        user = await create_user(
            request.state.db, form.text("email"), form.text("display_name"), form.text("password")
        )
    except FormError as error:
        return _register_page(request, values, error.fields)
    response = redirect_after_post(request, safe_next(form.text("next")))
    await log_in(request, request.state.db, user, response)
    return response


def _register_page(request: Request, values: dict[str, str], errors: dict[str, str]) -> Response:
    return render(
        request,
        "accounts/register.html",
        {"form": values, "errors": errors},
        block="register_form",
        status_code=422,
    )


async def login_form(request: Request) -> Response:
    """The login form."""
    if (done := _already_logged_in(request)) is not None:
        return done
    return render(
        request,
        "accounts/login.html",
        {"form": {}, "errors": {}, "next": safe_next(request.query_params.get("next"), "")},
    )


async def login(request: Request) -> Response:
    """Check the credentials and open a session."""
    form = await read_form(request)
    next_url = safe_next(form.text("next"), "")
    user = await authenticate(request.state.db, form.text("email"), form.text("password"))
    if user is None:
        return render(
            request,
            "accounts/login.html",
            {
                "form": {"email": form.text("email")},
                "errors": {"form": _("Wrong email or password.")},
                "next": next_url,
            },
            block="login_form",
            status_code=422,
        )
    response = redirect_after_post(request, next_url or "/")
    await log_in(request, request.state.db, user, response)
    return response


async def logout(request: Request) -> Response:
    """End the session."""
    response = redirect_after_post(request, "/")
    await log_out(request, request.state.db, response)
    return response


async def profile(request: Request) -> Response:
    """The account page."""
    return render(request, "accounts/profile.html", {"password_changed": False})


async def password_form(request: Request) -> Response:
    """The password change form."""
    return render(request, "accounts/password.html", {"errors": {}})


async def password_change(request: Request) -> Response:
    """Change the password; every other session ends, this one is renewed."""
    form = await read_form(request)
    user = request.state.user
    try:
        await change_password(
            request.state.db, user, form.text("current_password"), form.text("new_password")
        )
    except FormError as error:
        return render(
            request,
            "accounts/password.html",
            {"errors": error.fields},
            block="password_form",
            status_code=422,
        )
    response = redirect_after_post(request, str(request.app.url_path_for("profile")) + "?changed=1")
    await log_in(request, request.state.db, user, response)
    return response


routes = [
    route("/account/register", register_form, ANONYMOUS),
    route("/account/register", register, ANONYMOUS, methods=["POST"], rate_limit="login"),
    route("/account/login", login_form, ANONYMOUS),
    route("/account/login", login, ANONYMOUS, methods=["POST"], rate_limit="login"),
    route("/account/logout", logout, AUTHENTICATED, methods=["POST"]),
    route("/account", profile, AUTHENTICATED),
    route("/account/password", password_form, AUTHENTICATED),
    route(
        "/account/password", password_change, AUTHENTICATED, methods=["POST"], rate_limit="login"
    ),
]
