"""A questionnaire consultation for tests: a call for proposals with every kind of question."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role
from consult.consultations.models import Consultation, ConsultationKind, Phase
from consult.consultations.services import create_consultation
from consult.questionnaires.format import parse_questionnaire
from consult.questionnaires.services import publish_questionnaire
from tests.support.seeding import MINISTRY, ministry
from tests.support.site import Site

QUESTIONNAIRE_SLUG = "appel-a-propositions"
QUESTIONNAIRE_MD = """Proposez des actions pour un **gouvernement ouvert**.

## Vous

### Vous répondez en tant que [choix unique]
- Citoyen ou citoyenne
- Association
- Administration

### Quels thèmes vous intéressent ? [choix multiples]
Cochez autant de thèmes que vous voulez.
- Transparence
- Participation
- Numérique

## Votre proposition

### Décrivez votre proposition [texte 2000]
Une action concrète, en quelques phrases.

### L’action publique est-elle assez transparente ? [échelle 1-5 : Pas du tout | Tout à fait]
"""
# Field names of the form, per question.
WHO, THEMES, PROPOSAL, SCALE = "q-q1", "q-q2", "q-q3", "q-q4"


def make_questionnaire(
    site: Site,
    slug: str = QUESTIONNAIRE_SLUG,
    opened: bool = True,
    published: bool = True,
    source: str = QUESTIONNAIRE_MD,
) -> Consultation:
    """A questionnaire consultation held by the test ministry (open since yesterday, or
    opening in three days), its questions published unless `published` is False."""
    owner = site.user(Role.OFFICIAL, email=f"owner-{slug}@example.org", organisations=[])
    now = site.clock()
    schedule = {Phase.OPEN: now - timedelta(days=1) if opened else now + timedelta(days=3)}

    async def create(session: AsyncSession) -> Consultation:
        consultation = await create_consultation(
            session,
            slug=slug,
            kind=ConsultationKind.QUESTIONNAIRE,
            title="Appel à propositions pour un gouvernement ouvert",
            summary="Vos idées pour une action publique plus ouverte.",
            ministry=MINISTRY,
            owner=owner,
            organisation=await ministry(session, [owner]),
            phase_starts=schedule,
        )
        if published:
            await publish_questionnaire(
                session,
                consultation,
                parse_questionnaire(source),
                source_text=source,
                source_format="markdown",
                published_by=owner,
            )
        return consultation

    return site.db(create)
