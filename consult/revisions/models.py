"""The draft of a bill's next version, the provenance of its changes, and re-attached passages."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consult.db import Base, UTCDateTime, utcnow


class VersionDraft(Base):
    """The next version an official is preparing from the current one.

    It holds the amendments picked, the choice made for each conflict and, once the official
    has edited it by hand, the text itself; until then the text is rebuilt from the picks.
    """

    __tablename__ = "version_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    base_version_id: Mapped[int] = mapped_column(ForeignKey("bill_versions.id", ondelete="CASCADE"))
    amendment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    choices: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    source_text: Mapped[str] = mapped_column(Text, default="")
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("bill_versions.id", ondelete="SET NULL")
    )


class ArticleRedline(Base):
    """How one article changed from the previous version, every change with its origin.

    ``lines`` holds one list per alinéa of the new text, of ``[kind, text, origin]`` pieces:
    kind "equal", "insert" or "delete"; origin the contribution id of the amendment, 0 for
    the ministry's own edit, None for text kept.
    """

    __tablename__ = "article_redlines"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("bill_versions.id", ondelete="CASCADE"), primary_key=True
    )
    article_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    lines: Mapped[list[Any]] = mapped_column(JSON, default=list)


class VersionChange(Base):
    """One inserted or deleted run of words of a version, and where it came from.

    ``contribution_id`` is the amendment that wrote it (None: the ministry's own edit) and
    ``answer_id`` the decision that accepted it, so that each citizen can see the words their
    amendment changed.
    """

    __tablename__ = "version_changes"
    __table_args__ = (Index("ix_version_changes_version_article", "version_id", "article_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("bill_versions.id", ondelete="CASCADE"))
    article_key: Mapped[str] = mapped_column(String(120))
    alinea: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    contribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="SET NULL"), index=True
    )
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id", ondelete="SET NULL"))


class AnchorStatus(enum.StrEnum):
    """Where a contribution's passage stands in a later version."""

    EXACT = "exact"  # the same words, found once
    FUZZY = "fuzzy"  # nearly the same words, found once within the similarity bound
    APPLIED = "applied"  # the amendment itself changed the passage
    OUTDATED = "outdated"  # the passage changed (or is ambiguous): shown as it was


class ContributionAnchor(Base):
    """Where an annotation's or amendment's passage is in a version after the one it was
    written on."""

    __tablename__ = "contribution_anchors"

    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("bill_versions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    article_key: Mapped[str] = mapped_column(String(120))
    status: Mapped[AnchorStatus] = mapped_column(
        Enum(
            AnchorStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    alinea: Mapped[int | None] = mapped_column(Integer)
    start: Mapped[int | None] = mapped_column(Integer)
    end: Mapped[int | None] = mapped_column(Integer)
