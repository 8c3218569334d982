"""The embedding backlog: contributions whose text has no vector yet under the current model.

Vectors are keyed by the hash of a contribution's prepared text, not by the contribution, so
counting what is missing means hashing texts. :class:`EmbeddingBacklog` does it once per
contribution: each count reads only the contributions added since the last one and checks
again the ones still missing then.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.contributions.models import Contribution
from consult.nlp.embed import content_hash
from consult.synthesis.embeddings import text_of
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

    async def count(self, session: AsyncSession, batch: int = 5000) -> int:
        """Contributions not embedded yet (texts that are empty once prepared never are)."""
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
            for contribution_id, body, new_text in rows:
                text = text_of(Contribution(body=body, new_text=new_text))
                if text:
                    self.missing[contribution_id] = content_hash(text)
            self.seen_up_to = rows[-1][0]
        if self.missing:
            embedded = await _embedded(session, self.model_id, set(self.missing.values()))
            self.missing = {i: h for i, h in self.missing.items() if h not in embedded}
        return len(self.missing)
