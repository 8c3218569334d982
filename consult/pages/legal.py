"""The legal pages as readers and administrators see them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class LegalPageView:
    """A legal page: what the administrators wrote (Markdown), else the site's default text
    (`default_template`), which states the site's own settings."""

    key: str
    title: str
    written: str | None
    updated_at: datetime | None
    default_template: str
    session_days: int
    inactive_account_days: int
    sends_email: bool


@dataclass(frozen=True)
class LegalPageForm:
    """An administrator writing a legal page in each language."""

    key: str
    title: str
    bodies: Mapping[str, str]
    errors: Mapping[str, str] = field(default_factory=dict)
    saved: bool = False
