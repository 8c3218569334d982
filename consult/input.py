"""Reading values that arrive as text from outside (addresses, forms, files)."""

from __future__ import annotations

# Nine digits always fit a database integer (2**31 - 1 has ten).
ID_DIGITS = 9
# The largest identifier a database integer column holds.
MAX_ID = 2**31 - 1


def whole_number(raw: str | None, digits: int = ID_DIGITS) -> int | None:
    """`raw` as a whole number if it is one written in at most `digits` ASCII digits, else
    None: no sign, no exotic digit (« ² » passes `str.isdigit` but not `int`), and nothing
    beyond what a database integer holds."""
    if not raw or len(raw) > digits or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw)
