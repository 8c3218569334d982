"""Account pages: registering, logging in, the account itself, the password, emails."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from consult.errors import FormError
from consult.i18n import gettext as _
from consult.i18n import ngettext
from consult.moderation.models import Suspension
from consult.protection.logins import LoginRefused


@dataclass(frozen=True)
class RegisterForm:
    """The registration form, empty or shown again (`form["next"]`: where to go after)."""

    form: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    form_token: str = ""
    """When the form was shown, signed (see `consult.web.antispam`)."""
    by_email: bool = False
    """Whether the address is confirmed by a link before the account can be used."""


@dataclass(frozen=True)
class RegisteredPage:
    """After registering on a site that sends email: a message is on its way to the address
    (the same page whether the address already had an account or not)."""

    email: str


@dataclass(frozen=True)
class LoginForm:
    """The login form, and the local page to go back to after logging in."""

    next: str = ""
    form: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    form_token: str = ""
    password_reset: bool = False
    """Reached after choosing a new password from a link."""
    email_confirmed: bool = False
    """Reached after confirming an address from a link, not logged in."""


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
    email_confirmed: bool = False
    confirmation_sent: bool = False
    sends_email: bool = False
    """Whether the site sends email (else no confirmation link can be sent)."""
    suspension: Suspension | None = None
    """The account's suspension in force, if any (with its review request)."""
    review_sent: bool = False


@dataclass(frozen=True)
class PasswordForm:
    """The password change form."""

    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnsubscribePage:
    """Stopping the emails about answers from a link: the confirmation, then the outcome."""

    action: str
    done: bool = False


@dataclass(frozen=True)
class ForgotForm:
    """Asking for a link to choose a new password (`sent`: the answer, the same whether an
    account has this address or not; `by_email`: whether this site sends email at all)."""

    by_email: bool
    form_token: str = ""
    email: str = ""
    errors: Mapping[str, str] = field(default_factory=dict)
    sent: bool = False


@dataclass(frozen=True)
class ResetForm:
    """Choosing a new password from a link sent by email (`action`: where the form posts)."""

    action: str
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConfirmEmailPage:
    """Confirming an address from a link sent by email (a button: opening a link in an email
    changes nothing by itself, as mail scanners open links; `needs_password`: finishing a
    registration, the password chosen then is asked)."""

    action: str
    needs_password: bool = False
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CloseAccountForm:
    """Closing one's account (`delete_contributions`: the choice made, shown again)."""

    errors: Mapping[str, str] = field(default_factory=dict)
    delete_contributions: bool = False


@dataclass(frozen=True)
class AccountClosedPage:
    """After closing an account: what stays public and what went."""

    kept: int
    deleted: int


@dataclass(frozen=True)
class TwoFactorPage:
    """The second factor of the account: on (with the recovery codes left), being set up
    (the secret, as a QR code and as text), or off."""

    enabled: bool
    required: bool
    """The account's role requires one (it cannot be turned off)."""
    secret: str | None = None
    qr_code: str = ""
    """An SVG drawing of the `otpauth://` address, made here from the secret alone."""
    remaining_codes: int = 0
    next: str = ""
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecoveryCodesPage:
    """The recovery codes, shown once when the second factor is turned on."""

    codes: list[str]
    next: str = ""


@dataclass(frozen=True)
class LoginCodeForm:
    """The second step of logging in: the code of the app (or a recovery code)."""

    token: str
    next: str = ""
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentityConfirmPage:
    """Back from the identity provider: who it says the person is, and the button to go on
    (`new_account`: no account has this identity yet, so the terms are to be accepted)."""

    provider: str
    public_name: str
    email: str | None
    new_account: bool
    linking: bool
    """A person logged in adds this verified identity to their account."""
    next: str = ""
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentityFailedPage:
    """The provider could not be reached, or its answer could not be trusted."""

    provider: str
