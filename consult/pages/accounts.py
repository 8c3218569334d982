"""Account pages: registering, logging in, the account itself, the password, emails."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from consult.errors import FormError
from consult.i18n import gettext as _
from consult.i18n import ngettext
from consult.protection.logins import LoginRefused


@dataclass(frozen=True)
class RegisterForm:
    """The registration form, empty or shown again (`form["next"]`: where to go after)."""

    form: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    form_token: str = ""
    """When the form was shown, signed (see `consult.web.antispam`)."""


@dataclass(frozen=True)
class LoginForm:
    """The login form, and the local page to go back to after logging in."""

    next: str = ""
    form: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    form_token: str = ""


def refused_login(
    refusal: FormError | LoginRefused, next_url: str, email: str, token: str, now: datetime
) -> LoginForm:
    """The login form shown again with why it was refused (the password is never kept)."""
    if isinstance(refusal, FormError):
        return LoginForm(next_url, {"email": email}, refusal.fields, token)
    if refusal.paused_until is None:
        return LoginForm(next_url, {"email": email}, {"form": _("Wrong email or password.")}, token)
    minutes = max(1, math.ceil((refusal.paused_until - now).total_seconds() / 60))
    message = (
        _("Too many wrong passwords were given for this address: logins to it are paused.")
        + " "
        + ngettext("Try again in %(num)s minute.", "Try again in %(num)s minutes.", minutes)
        % {"num": minutes}
    )
    return LoginForm(next_url, {"email": email}, {"form": message}, token)


@dataclass(frozen=True)
class ProfilePage:
    """The account page, with the confirmation of what was just changed."""

    password_changed: bool = False
    preferences_saved: bool = False


@dataclass(frozen=True)
class PasswordForm:
    """The password change form."""

    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnsubscribePage:
    """Stopping the emails about answers from a link: the confirmation, then the outcome."""

    action: str
    done: bool = False
