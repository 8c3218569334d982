"""Stored embeddings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

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
