"""Account pages: registering, logging in, the account itself, the password, emails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RegisterForm:
    """The registration form, empty or shown again (`form["next"]`: where to go after)."""

    form: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoginForm:
    """The login form, and the local page to go back to after logging in."""

    next: str = ""
    form: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


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
