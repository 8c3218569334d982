"""The embedding backlog: contributions whose text has no vector yet under the current model.

Vectors are keyed by the hash of a contribution's prepared text, not by the contribution, so
counting what is missing means hashing texts (a fraction of a millisecond each).
:class:`EmbeddingBacklog` does it once per contribution, off the event loop and for at most a
couple of seconds per count: each count reads only the contributions added since the last one
and checks again the ones still missing then. Until it has read them all (the first counts of
a process on a large database), the contributions it has not read yet count as missing, so the
figure only ever errs on the side of work left.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.contributions.models import Contribution
from consult.nlp.embed import content_hash
from consult.synthesis.embeddings import text_of_parts
from consult.synthesis.models import Embedding

_CHUNK = 900  # stay under SQLite's bound-parameter limit


async def _embedded(session: AsyncSession, model_id: str, hashes: set[str]) -> set[str]:
    known: set[str] = set()
    wanted = sorted(hashes)
    for start in range(0, len(wanted), _CHUNK):
        rows = await session.scalars(
            select(Embedding.content_hash).where(
                Embedding.model_id == model_id,
                Embedding.content_hash.in_(wanted[start : start + _CHUNK]),
            )
        )
        known.update(rows.all())
    return known


@dataclass
class EmbeddingBacklog:
    """Counts the contributions without a vector under `model_id`, incrementally."""

    model_id: str
    seen_up_to: int = 0
    missing: dict[int, str] = field(default_factory=dict)  # contribution id → text hash

    async def count(
        self, session: AsyncSession, batch: int = 2000, budget_seconds: float = 2.0
    ) -> int:
        """Contributions not embedded yet (texts that are empty once prepared never are)."""
        deadline = time.monotonic() + budget_seconds
        unread = 0
        while True:
            rows = (
                await session.execute(
                    select(Contribution.id, Contribution.body, Contribution.new_text)
                    .where(Contribution.id > self.seen_up_to)
                    .order_by(Contribution.id)
                    .limit(batch)
                )
            ).all()
            if not rows:
                break
            self.missing.update(await anyio.to_thread.run_sync(_hashes, rows))
            self.seen_up_to = rows[-1][0]
            if time.monotonic() > deadline:
                unread = int(
                    await session.scalar(
                        select(func.count())
                        .select_from(Contribution)
                        .where(Contribution.id > self.seen_up_to)
                    )
                    or 0
                )
                break
        if self.missing:
            embedded = await _embedded(session, self.model_id, set(self.missing.values()))
            self.missing = {i: h for i, h in self.missing.items() if h not in embedded}
        return len(self.missing) + unread


def _hashes(rows: Sequence[Any]) -> dict[int, str]:
    """The text hash of each contribution of `rows` (id, body, new text) that has a text."""
    hashes: dict[int, str] = {}
    for contribution_id, body, new_text in rows:
        text = text_of_parts(body, new_text)
        if text:
            hashes[contribution_id] = content_hash(text)
    return hashes
