"""Route permissions: every route declares one, and access is denied by default."""

from __future__ import annotations

from dataclasses import dataclass

from consult.accounts.models import Role, User


@dataclass(frozen=True)
class Permission:
    """Who may reach a route. `roles` empty and `login` False means anyone.

    `organisation`: the route acts on the consultation of its path (`{slug}`), and only its
    organisation's members (and administrators) may reach it. The role is checked here; the
    membership is checked by the routing layer once the consultation is loaded, before the
    handler runs.
    """

    name: str
    login: bool = False
    roles: tuple[Role, ...] = ()
    anonymous_only: bool = False
    organisation: bool = False
    participates: bool = False
    """Posting or voting: refused to suspended accounts (checked by the routing layer)."""

    def allows(self, user: User | None) -> bool:
        """Whether `user` (None when not logged in) may reach the route."""
        if self.anonymous_only:
            return True  # handlers redirect logged-in users; nothing to protect
        if not self.login and not self.roles:
            return True
        if user is None:
            return False
        return not self.roles or user.has_role(*self.roles)


PUBLIC = Permission("public")
ANONYMOUS = Permission("anonymous", anonymous_only=True)
AUTHENTICATED = Permission("authenticated", login=True)
PARTICIPANT = Permission("participant", login=True, participates=True)
"""A logged-in person posting, voting or reporting: a suspended account is refused."""
MODERATOR = Permission("moderator", login=True, roles=(Role.MODERATOR,))
OFFICIAL = Permission("official", login=True, roles=(Role.OFFICIAL,))
"""An official, on a route that names no consultation (creating one)."""
CONSULTATION_OFFICIAL = Permission(
    "consultation-official", login=True, roles=(Role.OFFICIAL,), organisation=True
)
"""An official of the organisation that holds the path's consultation, or an administrator."""
CONSULTATION_MODERATOR = Permission(
    "consultation-moderator",
    login=True,
    roles=(Role.MODERATOR, Role.OFFICIAL),
    organisation=True,
)
"""A moderator or an official of the organisation that holds the path's consultation, or an
administrator."""
ADMIN = Permission("admin", login=True, roles=(Role.ADMIN,))
