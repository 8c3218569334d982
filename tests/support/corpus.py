"""Synthesis input made up in memory: three topics and a signed campaign letter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from consult.synthesis.pipeline import Item

START = datetime(2026, 11, 1, tzinfo=UTC)
TOPICS = {
    "velo": "Les pistes cyclables protégées doivent relier chaque commune voisine",
    "loyer": "Le plafonnement des loyers protège les locataires des grandes villes",
    "donnees": "Les données personnelles des contributeurs doivent rester protégées par la CNIL",
}
LETTER = (
    "Nous, citoyens soussignés, demandons le retrait pur et simple de cet article qui menace "
    "la liberté associative dans toutes les communes de France."
)


def _words(rng: np.random.Generator) -> str:
    """A few made-up words, so that texts on one topic are not copies of each other."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return " ".join("".join(rng.choice(list(letters), size=7)) for _ in range(8))


def corpus(per_topic: int = 30, letters: int = 12, seed: int = 0) -> tuple[list[Item], np.ndarray]:
    """Three topics with noisy vectors around a centre each, and a signed campaign letter."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(TOPICS) + 1, 64))
    items: list[Item] = []
    rows = []
    for topic_index, (topic, sentence) in enumerate(TOPICS.items()):
        for n in range(per_topic):
            items.append(
                Item(
                    id=len(items) + 1,
                    article_key="art-1" if n % 2 else "art-2",
                    kind="argument" if n % 3 else "annotation",
                    stance="pour" if n % 3 == 1 else ("contre" if n % 3 == 2 else None),
                    text=f"{sentence} {_words(rng)} {topic}.",
                    author=f"account:{len(items)}",
                    created_at=START + timedelta(minutes=len(items)),
                    votes_for=n % 4,
                    votes_mixed=n % 2,
                    votes_against=n % 3,
                )
            )
            rows.append(centres[topic_index] + 0.15 * rng.normal(size=64))
    for n in range(letters):
        items.append(
            Item(
                id=len(items) + 1,
                article_key="art-2",
                kind="argument",
                stance="contre",
                text=LETTER + ("" if n % 3 else f" Signé : personne {n}."),
                author=f"account:{1000 + n}",
                created_at=START + timedelta(hours=5, minutes=n),
                votes_for=1,
            )
        )
        rows.append(centres[-1] + 0.01 * rng.normal(size=64))
    return items, np.asarray(rows, dtype=np.float32)
