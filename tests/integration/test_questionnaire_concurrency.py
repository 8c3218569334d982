"""One response per person and questionnaire: two first submissions at once save one response,
whole, and refuse the other (a conflict the form shows again), on every database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.accounts.models import Role, User
from consult.accounts.services import create_user
from consult.consultations.models import Consultation, ConsultationKind, Phase
from consult.consultations.services import create_consultation
from consult.db import create_engine, create_session_factory, utcnow
from consult.questionnaires.format import parse_questionnaire
from consult.questionnaires.models import QuestionAnswer, QuestionnaireResponse
from consult.questionnaires.services import (
    Given,
    ResponseConflict,
    load_questionnaire,
    publish_questionnaire,
    save_response,
)
from tests.support.questionnaires import QUESTIONNAIRE_MD
from tests.support.seeding import ministry

pytestmark = pytest.mark.each_database


async def _setup(factory: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with factory() as session:
        owner = await create_user(session, "owner@example.org", "O", "x" * 12, Role.OFFICIAL)
        citizen = await create_user(session, "citizen@example.org", "C", "x" * 12)
        consultation = await create_consultation(
            session,
            slug="q",
            kind=ConsultationKind.QUESTIONNAIRE,
            title="Un questionnaire",
            summary="",
            ministry="",
            owner=owner,
            organisation=await ministry(session, [owner]),
            phase_starts={Phase.OPEN: utcnow() - timedelta(days=1)},
        )
        await publish_questionnaire(
            session,
            consultation,
            parse_questionnaire(QUESTIONNAIRE_MD),
            source_text=QUESTIONNAIRE_MD,
            source_format="markdown",
            published_by=owner,
        )
        await session.commit()
        return citizen.id, consultation.id


@pytest.mark.anyio
async def test_two_first_submissions_at_once_save_one_whole_response(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=4)
    factory = create_session_factory(engine)
    try:
        citizen_id, consultation_id = await _setup(factory)

        async def send(choice: int) -> str:
            async with factory() as session:
                citizen = await session.get(User, citizen_id)
                consultation = await session.get(Consultation, consultation_id)
                assert citizen is not None and consultation is not None
                questionnaire = await load_questionnaire(session, consultation)
                assert questionnaire is not None
                given = {"q1": Given(choices=(choice,)), "q4": Given(value=choice)}
                try:
                    await save_response(
                        session, questionnaire, citizen, given, revision=0, now=utcnow()
                    )
                    await session.commit()
                except ResponseConflict:
                    await session.rollback()
                    return "conflict"
                return f"saved {choice}"

        outcomes = await asyncio.gather(send(1), send(3))
        assert sorted(o.split()[0] for o in outcomes) == ["conflict", "saved"]
        winner = int(next(o for o in outcomes if o.startswith("saved")).split()[1])
        async with factory() as session:
            responses = await session.scalar(
                select(func.count()).select_from(QuestionnaireResponse)
            )
            answers = (
                await session.execute(select(QuestionAnswer.choices, QuestionAnswer.value))
            ).all()
        assert responses == 1
        # the winner's answers, whole: never one question from each submission
        assert sorted((tuple(c or ()), v) for c, v in answers) == sorted(
            [((winner,), None), ((), winner)]
        )
    finally:
        await engine.dispose()
