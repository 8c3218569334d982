"""Errors that services raise for the edge (web or command line) to report."""

from __future__ import annotations


class FormError(ValueError):
    """Input a person typed is not acceptable; `fields` maps a field name to its message.

    The web layer re-renders the form with these messages and a 422 status;
    the command line prints them.
    """

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in fields.items()))
        self.fields = fields

    @property
    def first_message(self) -> str:
        """The message of the first field at fault (for a form that shows only one)."""
        return next(iter(self.fields.values()), "")


class NotFound(LookupError):
    """The thing asked for does not exist (or is not visible to this person)."""


class Forbidden(PermissionError):
    """The person is known but may not do this."""
