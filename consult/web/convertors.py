"""Path parameters that stay within what the database can be asked about."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

from consult.input import MAX_ID


class IdConvertor(Convertor[int]):
    """A row's identifier in a path (``{contribution_id:id}``): up to ten ASCII digits.

    Longer numbers do not match the route (404); a ten-digit number beyond a database integer
    names no row, so it becomes 0, which no row has: the handler answers 404 as for any unknown
    id, where asking the database about it would fail.
    """

    regex = "[0-9]{1,10}"

    def convert(self, value: str) -> int:
        number = int(value)
        return number if number <= MAX_ID else 0

    def to_string(self, value: int) -> str:
        return str(int(value))


def register_convertors() -> None:
    """Make ``:id`` available to route paths (Starlette keeps convertors in one table)."""
    register_url_convertor("id", IdConvertor())
