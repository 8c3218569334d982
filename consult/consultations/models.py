"""Consultation and phase tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.db import Base, UTCDateTime, utcnow


class Phase(enum.StrEnum):
    """The life of a consultation, in order."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ANSWERED = "answered"
    PUBLISHED = "published"


PHASE_ORDER = tuple(Phase)


class ConsultationKind(enum.StrEnum):
    """What the public is consulted on."""

    BILL = "bill"
    """A draft bill, article by article."""
    QUESTIONNAIRE = "questionnaire"
    """A questionnaire the ministry writes: open and closed questions (docs/questionnaires.md)."""


class Consultation(Base):
    """A draft bill or a questionnaire submitted to the public by a ministry."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[ConsultationKind] = mapped_column(
        Enum(
            ConsultationKind,
            name="consultation_kind",
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ConsultationKind.BILL,
        server_default="bill",
    )
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    ministry: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    """The organisation (ministry) that holds it: only its officials act on it."""
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["fr"])
    participation_requires: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """What an account must have shown to post or vote (a `VerificationLevel`: nothing, a
    confirmed email address, an identity verified by the identity provider)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    phases: Mapped[list[ConsultationPhase]] = relationship(
        back_populates="consultation",
        cascade="all, delete-orphan",
        order_by="ConsultationPhase.starts_at",
        lazy="selectin",
    )

    @property
    def is_questionnaire(self) -> bool:
        """Consulted on a questionnaire rather than a bill."""
        return self.kind is ConsultationKind.QUESTIONNAIRE

    def phase_at(self, now: datetime) -> Phase:
        """The phase in force at `now`: the latest one that has started, else draft."""
        current = Phase.DRAFT
        for scheduled in sorted(self.phases, key=lambda p: PHASE_ORDER.index(p.phase)):
            if scheduled.starts_at <= now:
                current = scheduled.phase
        return current

    def start_of(self, phase: Phase | str) -> datetime | None:
        """When `phase` starts, if scheduled."""
        return next((p.starts_at for p in self.phases if p.phase == phase), None)


class ConsultationPhase(Base):
    """The scheduled start of one phase of a consultation."""

    __tablename__ = "consultation_phases"
    __table_args__ = (UniqueConstraint("consultation_id", "phase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    phase: Mapped[Phase] = mapped_column(
        Enum(Phase, name="consultation_phase", values_callable=lambda e: [m.value for m in e])
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)

    consultation: Mapped[Consultation] = relationship(back_populates="phases")
