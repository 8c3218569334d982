"""Bill versions and their provision tree."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.db import Base, UTCDateTime, utcnow


class ProvisionKind(enum.StrEnum):
    """Levels of the French legislative hierarchy, from the top."""

    TITRE = "titre"
    CHAPITRE = "chapitre"
    SECTION = "section"
    SOUS_SECTION = "sous-section"
    ARTICLE = "article"
    ALINEA = "alinea"


class BillVersion(Base):
    """One published state of a consultation's bill; versions are never edited."""

    __tablename__ = "bill_versions"
    __table_args__ = (UniqueConstraint("consultation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    explanatory_memorandum: Mapped[str] = mapped_column(Text, default="")
    source_text: Mapped[str] = mapped_column(Text, default="")
    source_format: Mapped[str] = mapped_column(String(16), default="markdown")
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    provisions: Mapped[list[Provision]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="Provision.position"
    )


class Provision(Base):
    """A node of the bill tree: a division, an article or an alinéa.

    `key` is stable across versions (`art-3`, `titre-1-chap-2`) so that
    contributions can follow an article from one version to the next.
    """

    __tablename__ = "provisions"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("bill_versions.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("provisions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ProvisionKind] = mapped_column(
        Enum(
            ProvisionKind,
            name="provision_kind",
            values_callable=lambda e: [m.value for m in e],
        )
    )
    key: Mapped[str] = mapped_column(String(120))
    number: Mapped[str] = mapped_column(String(40), default="")
    label: Mapped[str] = mapped_column(String(20), default="")
    heading: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    # Document order across the whole version; children follow their parent.
    position: Mapped[int] = mapped_column(Integer)
    depth: Mapped[int] = mapped_column(Integer, default=0)

    version: Mapped[BillVersion] = relationship(back_populates="provisions")
    parent: Mapped[Provision | None] = relationship(remote_side=[id])
