"""Stored embeddings and synthesis runs with their clusters and campaigns."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import false

from consult.db import Base, UTCDateTime, utcnow


class Embedding(Base):
    """The vector of one text under one model.

    Keyed by (model, hash of the text as embedded), so identical texts, such as the
    copies of a campaign letter, are embedded once, and nothing is ever recomputed
    unless the model changes.
    """

    __tablename__ = "embeddings"

    model_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dimension: Mapped[int] = mapped_column(Integer)
    # float32, little-endian, L2-normalised
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RunStatus(enum.StrEnum):
    """Where a synthesis run stands."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RunStage(enum.StrEnum):
    """The pipeline stages, in the order they run."""

    QUEUED = "queued"
    LOADING = "loading"
    OPINIONS = "opinions"
    EMBEDDING = "embedding"
    CAMPAIGNS = "campaigns"
    CLUSTERING = "clustering"
    SAVING = "saving"
    DONE = "done"


ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class CopyKind(enum.StrEnum):
    """What a group of copies of one text is, as a ministry reads it."""

    CAMPAIGN = "campaign"
    """Many authors (three or more by default), one text."""
    REPOST = "repost"
    """One author (or fewer than a campaign needs) posting the same text again."""


def _values(enum_class: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in enum_class]


class SynthesisRun(Base):
    """One computation of a consultation's synthesis, with what it was computed from.

    A run records its model, parameters, seed and a hash of its input, so a report can say
    exactly what produced it, and the same input reproduces the same report. Progress is
    stored so every web process and the command line can show it; the last successful run
    stays the published report until a newer one succeeds.
    """

    __tablename__ = "synthesis_runs"
    __table_args__ = (Index("ix_synthesis_runs_consultation_status", "consultation_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Stored as text (not a database enum type): stages may be added without a type migration.
    status: Mapped[RunStatus] = mapped_column(
        Enum(RunStatus, native_enum=False, length=16, values_callable=_values),
        default=RunStatus.QUEUED,
    )
    stage: Mapped[RunStage] = mapped_column(
        Enum(RunStage, native_enum=False, length=16, values_callable=_values),
        default=RunStage.QUEUED,
    )
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    model_id: Mapped[str] = mapped_column(String(200), default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    input_hash: Mapped[str] = mapped_column(String(64), default="")
    contribution_count: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stages: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    """Every stage's name and settings, as the report's method section states them."""
    summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    """The ministry's summary of the whole consultation, written before publishing."""
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When officials published the reviewed synthesis; until then only they see it."""
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    input_ids: Mapped[list[list[int]] | None] = mapped_column(JSON)
    """The contributions the run synthesises, fixed when it first starts, as ``[first, last]``
    ranges of ids: a resumed run reads exactly these, and later contributions wait for the next
    run. None until the run has started."""
    input_fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the input was fixed: contributions posted since are not in this run."""

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE_STATUSES

    @property
    def published(self) -> bool:
        """Reviewed and published by officials: the public sees it."""
        return self.published_at is not None


class SynthesisCluster(Base):
    """A group of contributions in one scope of a run.

    The scope is an article's key for an article group (the unit officials answer), or ``""``
    for a theme of the whole consultation (for reading; it gathers article groups, which point
    at it through ``theme_id``). Position ``-1`` is the scope's "other" group (contributions
    that fit no group), so that every contribution of a scope is in exactly one row and the
    sizes add up to the scope's total.
    """

    __tablename__ = "synthesis_clusters"
    __table_args__ = (
        UniqueConstraint("run_id", "scope", "position"),
        Index("ix_synthesis_clusters_run_scope", "run_id", "scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("synthesis_runs.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300), default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    items: Mapped[int] = mapped_column(Integer, default=0)
    """Texts clustered: a campaign counts once."""
    contributions: Mapped[int] = mapped_column(Integer, default=0)
    """Contributions behind them: every copy of a campaign counts."""
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    """The group's arguments per target: ``{"target": contribution id or null (the article
    itself), "stances": {"pour": n, ...}}``; never added across targets."""
    discussion_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="SET NULL")
    )
    """For a discussion: the contribution discussed (a proposal and its arguments)."""
    theme_id: Mapped[int | None] = mapped_column(
        ForeignKey("synthesis_clusters.id", ondelete="SET NULL")
    )
    """For an article group: the theme that gathers it."""
    summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    """The ministry's summary of the group, written while reviewing."""
    generic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A group of brief reactions ("d'accord", "doublon"...) rather than a topic."""
    kinds: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    quotes: Mapped[list[int]] = mapped_column(JSON, default=list)
    """Ids of the representative contributions, most central first."""
    amendments: Mapped[list[int]] = mapped_column(JSON, default=list)
    x: Mapped[float] = mapped_column(Float, default=0.0)
    y: Mapped[float] = mapped_column(Float, default=0.0)
    original_title: Mapped[str] = mapped_column(String(300), default="", server_default="")
    """The computed title, once an official has renamed the cluster."""
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("synthesis_clusters.id", ondelete="SET NULL")
    )
    """Set when an official merged this cluster into another: it is no longer shown."""

    @property
    def is_other(self) -> bool:
        """The scope's "other" group."""
        return self.position < 0

    @property
    def is_theme(self) -> bool:
        """A theme of the consultation, rather than a group of one article."""
        return self.scope == ""


class ClusterEdit(Base):
    """One hand edit of a run's clusters (rename, merge, split), kept as the run's history."""

    __tablename__ = "cluster_edits"
    __table_args__ = (Index("ix_cluster_edits_run_scope", "run_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("synthesis_runs.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(120), default="")
    cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("synthesis_clusters.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SynthesisMembership(Base):
    """Which cluster of a scope a contribution belongs to, and where it sits on the map."""

    __tablename__ = "synthesis_memberships"
    __table_args__ = (
        Index("ix_synthesis_memberships_run_contribution", "run_id", "contribution_id"),
    )

    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("synthesis_clusters.id", ondelete="CASCADE"), primary_key=True
    )
    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True
    )
    run_id: Mapped[int] = mapped_column(ForeignKey("synthesis_runs.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(120), default="")
    x: Mapped[float] = mapped_column(Float, default=0.0)
    y: Mapped[float] = mapped_column(Float, default=0.0)


class SynthesisCampaign(Base):
    """A group of copies of one text found by a run, every copy kept: a copy-paste campaign
    (one letter, many signatures) or a repost group (one author posting it again), by
    ``kind``. A run numbers its campaigns first, largest first, then its repost groups."""

    __tablename__ = "synthesis_campaigns"
    __table_args__ = (UniqueConstraint("run_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("synthesis_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[CopyKind] = mapped_column(
        Enum(CopyKind, native_enum=False, length=16, values_callable=_values),
        default=CopyKind.CAMPAIGN,
        server_default=CopyKind.CAMPAIGN.value,
    )
    representative_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE")
    )
    copies: Mapped[int] = mapped_column(Integer)
    exact_copies: Mapped[int] = mapped_column(Integer)
    distinct_authors: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    article_keys: Mapped[list[str]] = mapped_column(JSON, default=list)


class SynthesisCampaignMember(Base):
    """One copy of a campaign (a signature) or of a repost group."""

    __tablename__ = "synthesis_campaign_members"
    __table_args__ = (Index("ix_synthesis_campaign_members_contribution", "contribution_id"),)

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("synthesis_campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True
    )


class SynthesisOpinions(Base):
    """A run's opinion groups, computed from the votes when the run fixed its input: the number
    of people grouped, each group's size and what it supports and rejects most distinctly.
    Counts only: who is in which group is never stored. ``groups`` is empty when too few people
    voted to form groups (the report then shows none)."""

    __tablename__ = "synthesis_opinions"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("synthesis_runs.id", ondelete="CASCADE"), primary_key=True
    )
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    votes: Mapped[int] = mapped_column(Integer, default=0)
    """Votes read (those on hidden contributions left out)."""
    voters: Mapped[int] = mapped_column(Integer, default=0)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    targets: Mapped[int] = mapped_column(Integer, default=0)
    """Articles and contributions ranked (one row each in ``synthesis_opinion_targets``)."""
    silhouette: Mapped[float] = mapped_column(Float, default=0.0)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    min_participant_votes: Mapped[int] = mapped_column(Integer, default=0)
    min_target_votes: Mapped[int] = mapped_column(Integer, default=0)
    groups: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """``{"number", "participants", "supports": [[kind, key], ...], "rejects": [...]}``, group 1
    (the largest) first."""


class SynthesisOpinionTarget(Base):
    """How a run's opinion groups voted on one article or contribution, and its ranks."""

    __tablename__ = "synthesis_opinion_targets"
    __table_args__ = (
        Index("ix_synthesis_opinion_targets_contribution", "run_id", "contribution_id"),
        Index("ix_synthesis_opinion_targets_division", "run_id", "division_rank"),
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("synthesis_runs.id", ondelete="CASCADE"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    """Bridging rank, from 1: highest consensus across the groups first."""
    division_rank: Mapped[int] = mapped_column(Integer)
    """From 1: the target on which the groups differ most first."""
    kind: Mapped[str] = mapped_column(String(16))
    """"article" or "contribution"."""
    key: Mapped[str] = mapped_column(String(120))
    """The article key, or the contribution id as text."""
    # No foreign key: the figures are those of the run, as its votes were counted.
    contribution_id: Mapped[int | None] = mapped_column(Integer)
    votes: Mapped[int] = mapped_column(Integer)
    agrees: Mapped[int] = mapped_column(Integer)
    disagrees: Mapped[int] = mapped_column(Integer)
    consensus: Mapped[float] = mapped_column(Float)
    rejection: Mapped[float] = mapped_column(Float)
    division: Mapped[float] = mapped_column(Float)
    group_votes: Mapped[list[int]] = mapped_column(JSON)
    """Votes cast in each group, group 1 first."""
    group_agrees: Mapped[list[int]] = mapped_column(JSON)
    """Of those, pour, per group."""
    group_disagrees: Mapped[list[int]] = mapped_column(JSON)
    """Of those, contre, per group."""
