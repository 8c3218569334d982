"""The open data of a consultation: its tables, their documented fields, their rows in batches.

Each table is read in batches ordered by its key (keyset pagination, never OFFSET), so that an
export of a million contributions keeps one batch in memory at a time. What the public may
read of contributions and answers (hidden texts withheld, authors pseudonymised, published
answers only) is decided in :mod:`consult.opendata.public`, which the read API shares.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.answers.models import Answer
from consult.bills.models import BillVersion, Provision
from consult.consultations.models import Consultation
from consult.contributions.models import Contribution, ImportedArticleVotes, Vote
from consult.db import utcnow
from consult.opendata.public import (
    Pseudonyms,
    PublicAnswer,
    PublicChange,
    PublicContribution,
    changes_with_version,
    contributions_with_fate,
    public_contribution,
    published_answers,
)
from consult.questionnaires.models import Question, QuestionAnswer, QuestionnaireResponse
from consult.questionnaires.results import results_are_public
from consult.revisions.models import VersionChange
from consult.synthesis.models import (
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisCluster,
    SynthesisMembership,
)
from consult.synthesis.opinions import ConsultationOpinions, run_opinions
from consult.synthesis.runs import latest_report_run

BATCH = 2000
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Export:
    """What every table reads from: the consultation, its latest report run, pseudonyms.

    Plain values, not database objects: the rows are read after the request's own session
    has closed, each batch in a session of its own.
    """

    factory: async_sessionmaker[AsyncSession]
    consultation_id: int
    title: str
    run_id: int | None
    pseudonyms: Pseudonyms
    batch: int = BATCH
    answers_public: bool = True
    """A questionnaire's closed answers are exported once it is closed (as its results)."""


Batches = AsyncIterator[list[Row]]


@dataclass(frozen=True)
class Table:
    """One file of the export: its name, its columns with their meaning, its rows."""

    name: str
    fields: tuple[tuple[str, str], ...]
    rows: Callable[[Export], Batches]

    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return [name for name, _meaning in self.fields]


async def _keyset(
    export: Export,
    build: Callable[[Any], Any],
    key: Callable[[Any], Any],
    shape: Callable[[list[Any]], list[Row]],
) -> Batches:
    """Rows of ``build(after)`` in batches: ``after`` is the key of the last row read (None at
    first), ``key`` gives a row's key and ``shape`` turns a batch into output rows."""
    after: Any = None
    while True:
        async with export.factory() as db:
            batch = list((await db.execute(build(after).limit(export.batch))).all())
            rows = shape(batch)
        if rows:
            yield rows
        if len(batch) < export.batch:
            return
        after = key(batch[-1])


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


async def _versions(export: Export) -> Batches:
    async with export.factory() as db:
        rows = (
            await db.execute(
                select(BillVersion.number, BillVersion.published_at, func.count(Provision.id))
                .outerjoin(
                    Provision,
                    and_(Provision.version_id == BillVersion.id, Provision.kind == "article"),
                )
                .where(BillVersion.consultation_id == export.consultation_id)
                .group_by(BillVersion.id)
                .order_by(BillVersion.number)
            )
        ).all()
    yield [(number, _iso(published), count) for number, published, count in rows]


async def _provisions(export: Export) -> Batches:
    parents = Provision.__table__.alias("parent")
    async for batch in _keyset(
        export,
        lambda after: (
            select(
                Provision.id,
                BillVersion.number,
                Provision.key,
                Provision.kind,
                Provision.number,
                Provision.heading,
                Provision.text,
                Provision.position,
                parents.c.key,
            )
            .join(BillVersion, BillVersion.id == Provision.version_id)
            .outerjoin(parents, parents.c.id == Provision.parent_id)
            .where(
                BillVersion.consultation_id == export.consultation_id,
                *([Provision.id > after] if after is not None else []),
            )
            .order_by(Provision.id)
        ),
        lambda row: row[0],
        lambda rows: [
            (version, key, kind.value, number, heading, text, position, parent or "")
            for _id, version, key, kind, number, heading, text, position, parent in rows
        ],
    ):
        yield batch


def _contribution_line(c: PublicContribution) -> Row:
    # CSV has no null: a missing value is an empty cell, in the JSON files as well.
    return (
        c.id,
        c.article_key,
        c.version,
        c.kind.value,
        c.stance.value if c.stance else "",
        c.parent_id or "",
        c.alinea or "",
        c.quote or "",
        c.operation or "",
        c.old_text,
        c.new_text,
        c.body,
        c.url or "",
        c.author,
        _iso(c.created_at),
        c.votes_for,
        c.votes_mixed,
        c.votes_against,
        c.visibility.value,
        c.answer_id or "",
        c.answer_state.value if c.answer_state else "",
    )


async def _contributions(export: Export) -> Batches:
    pseudonyms = export.pseudonyms
    async for batch in _keyset(
        export,
        lambda after: contributions_with_fate(export.consultation_id).where(
            *([Contribution.id > after] if after is not None else [])
        ),
        lambda row: row[0],
        lambda rows: [_contribution_line(public_contribution(row, pseudonyms)) for row in rows],
    ):
        yield batch


async def _votes(export: Export) -> Batches:
    async with export.factory() as db:
        rows = (
            await db.execute(
                select(Vote.article_key, Vote.value, func.count())
                .where(
                    Vote.consultation_id == export.consultation_id, Vote.article_key.is_not(None)
                )
                .group_by(Vote.article_key, Vote.value)
            )
        ).all()
        imported = (
            await db.scalars(
                select(ImportedArticleVotes).where(
                    ImportedArticleVotes.consultation_id == export.consultation_id
                )
            )
        ).all()
    tallies: dict[str, dict[str, int]] = {}
    for key, value, count in rows:
        tallies.setdefault(str(key), {})[value.value] = int(count)
    # Votes counted on another platform and imported with the contributions.
    for votes in imported:
        tally = tallies.setdefault(votes.article_key, {})
        for name, count in (
            ("pour", votes.votes_for),
            ("mitige", votes.votes_mixed),
            ("contre", votes.votes_against),
        ):
            tally[name] = tally.get(name, 0) + count
    yield [
        ("article", key, t.get("pour", 0), t.get("mitige", 0), t.get("contre", 0))
        for key, t in sorted(tallies.items())
    ]
    async for batch in _keyset(
        export,
        lambda after: (
            select(
                Contribution.id,
                Contribution.votes_for,
                Contribution.votes_mixed,
                Contribution.votes_against,
            )
            .where(
                Contribution.consultation_id == export.consultation_id,
                *([Contribution.id > after] if after is not None else []),
            )
            .order_by(Contribution.id)
        ),
        lambda row: row[0],
        lambda rows: [("contribution", str(i), f, m, a) for i, f, m, a in rows],
    ):
        yield batch


def _answer_line(a: PublicAnswer) -> Row:
    return (
        a.id,
        a.scope.value,
        a.contribution_id or "",
        a.cluster_id or "",
        a.campaign_id or "",
        a.article_key,
        a.subject,
        a.state.value,
        a.reason,
        a.reach,
        _iso(a.published_at),
    )


async def _answers(export: Export) -> Batches:
    async for batch in _keyset(
        export,
        lambda after: (
            published_answers(export.consultation_id)
            .where(*([Answer.id > after] if after is not None else []))
            .order_by(Answer.id)
        ),
        lambda row: row[0],
        lambda rows: [_answer_line(PublicAnswer(*row)) for row in rows],
    ):
        yield batch


async def _questions(export: Export) -> Batches:
    async with export.factory() as db:
        rows = (
            await db.scalars(
                select(Question)
                .where(Question.consultation_id == export.consultation_id)
                .order_by(Question.position)
            )
        ).all()
    yield [
        (
            q.key,
            q.position + 1,
            q.section,
            q.kind.value,
            q.prompt,
            q.help,
            " | ".join(q.options),
            "" if q.scale_min is None else q.scale_min,
            "" if q.scale_max is None else q.scale_max,
            q.min_label,
            q.max_label,
        )
        for q in rows
    ]


async def _questionnaire_answers(export: Export) -> Batches:
    if not export.answers_public:
        return
    pseudonyms = export.pseudonyms
    async for batch in _keyset(
        export,
        lambda after: (
            select(
                QuestionAnswer.id,
                QuestionnaireResponse.respondent_id,
                QuestionnaireResponse.external_ref,
                Question.key,
                QuestionAnswer.choices,
                QuestionAnswer.value,
                QuestionAnswer.contribution_id,
            )
            .join(QuestionnaireResponse, QuestionnaireResponse.id == QuestionAnswer.response_id)
            .join(Question, Question.id == QuestionAnswer.question_id)
            .where(
                QuestionnaireResponse.consultation_id == export.consultation_id,
                *([QuestionAnswer.id > after] if after is not None else []),
            )
            .order_by(QuestionAnswer.id)
        ),
        lambda row: row[0],
        lambda rows: [
            (
                pseudonyms.of(respondent, ref or ""),
                key,
                "|".join(str(c) for c in choices or []),
                "" if value is None else value,
                contribution or "",
            )
            for _id, respondent, ref, key, choices, value, contribution in rows
        ],
    ):
        yield batch


async def _clusters(export: Export) -> Batches:
    if export.run_id is None:
        return
    run_id = export.run_id
    async with export.factory() as db:
        rows = (
            await db.scalars(
                select(SynthesisCluster)
                .where(SynthesisCluster.run_id == run_id, SynthesisCluster.merged_into_id.is_(None))
                .order_by(SynthesisCluster.id)
            )
        ).all()
    yield [
        (
            c.id,
            run_id,
            c.scope,
            c.position,
            c.title,
            "; ".join(c.keywords),
            c.contributions,
            c.summary,
            c.discussion_id or "",
            c.theme_id or "",
        )
        for c in rows
    ]


async def _pairs(export: Export, left: Any, right: Any, run_filter: Any) -> Batches:
    async for batch in _keyset(
        export,
        lambda after: (
            select(left, right)
            .where(
                run_filter,
                *(
                    [or_(left > after[0], and_(left == after[0], right > after[1]))]
                    if after is not None
                    else []
                ),
            )
            .order_by(left, right)
        ),
        lambda row: (row[0], row[1]),
        lambda rows: [(a, b) for a, b in rows],
    ):
        yield batch


async def _cluster_members(export: Export) -> Batches:
    if export.run_id is None:
        return
    async for batch in _pairs(
        export,
        SynthesisMembership.cluster_id,
        SynthesisMembership.contribution_id,
        SynthesisMembership.run_id == export.run_id,
    ):
        yield batch


async def _campaigns(export: Export) -> Batches:
    if export.run_id is None:
        return
    async with export.factory() as db:
        rows = (
            await db.scalars(
                select(SynthesisCampaign)
                .where(SynthesisCampaign.run_id == export.run_id)
                .order_by(SynthesisCampaign.id)
            )
        ).all()
    yield [
        (
            c.id,
            c.run_id,
            c.kind.value,
            c.representative_id,
            c.copies,
            c.exact_copies,
            c.distinct_authors,
            _iso(c.first_at),
            _iso(c.last_at),
            "; ".join(c.article_keys),
        )
        for c in rows
    ]


async def _campaign_members(export: Export) -> Batches:
    if export.run_id is None:
        return
    run_id = export.run_id
    async for batch in _pairs(
        export,
        SynthesisCampaignMember.campaign_id,
        SynthesisCampaignMember.contribution_id,
        SynthesisCampaignMember.campaign_id.in_(
            select(SynthesisCampaign.id).where(SynthesisCampaign.run_id == run_id)
        ),
    ):
        yield batch


async def _changes(export: Export) -> Batches:
    async for batch in _keyset(
        export,
        lambda after: changes_with_version(export.consultation_id).where(
            *([VersionChange.id > after] if after is not None else [])
        ),
        lambda row: row[0],
        lambda rows: [
            (
                c.version,
                c.article_key,
                c.alinea,
                c.kind,
                c.text,
                c.contribution_id or "",
                c.answer_id or "",
            )
            for c in (PublicChange(*row) for row in rows)
        ],
    ):
        yield batch


async def _opinions(export: Export) -> ConsultationOpinions | None:
    """The opinion groups of the export's report run (none without a published run)."""
    if export.run_id is None:
        return None
    async with export.factory() as db:
        return await run_opinions(db, export.run_id, export.consultation_id)


async def _opinion_groups(export: Export) -> Batches:
    opinions = await _opinions(export)
    if opinions is not None:
        yield [(g.number, g.participants) for g in opinions.groups]


def _rates(rates: tuple[float, ...]) -> str:
    return "; ".join(f"{r:.4f}" for r in rates)


def _counts(counts: tuple[int, ...]) -> str:
    return "; ".join(str(n) for n in counts)


async def _opinion_targets(export: Export) -> Batches:
    opinions = await _opinions(export)
    if opinions is None:
        return
    rows = [
        (
            rank,
            t.target.kind,
            t.target.key,
            t.votes,
            t.agrees,
            t.disagrees,
            round(t.consensus, 6),
            round(t.rejection, 6),
            round(t.division, 6),
            _rates(t.agreement),
            _counts(t.group_votes),
            _counts(t.group_agrees),
            _counts(t.group_disagrees),
        )
        for rank, t in enumerate(opinions.targets, start=1)
    ]
    for start in range(0, len(rows), export.batch):
        yield rows[start : start + export.batch]


_QUESTIONNAIRE_TABLES: tuple[Table, ...] = (
    Table(
        "questions",
        (
            (
                "key",
                "The question's key; the answers to an open question are contributions "
                "with it as article_key.",
            ),
            ("position", "Order in the questionnaire, from 1."),
            ("section", "The heading of its section ('' when none)."),
            ("kind", "open, single (one option), multiple (any options) or scale."),
            ("prompt", "The question."),
            ("help", "What the questionnaire says under it (Markdown)."),
            ("options", "A choice question's options, numbered from 1, separated by ' | '."),
            ("scale_min", "A scale's lowest point."),
            ("scale_max", "A scale's highest point."),
            ("min_label", "What a scale's lowest point means."),
            ("max_label", "What a scale's highest point means."),
        ),
        _questions,
    ),
    Table(
        "questionnaire_answers",
        (
            (
                "respondent",
                "Pseudonym of the participant (as `author` in contributions); one "
                "response per participant.",
            ),
            ("question", "The question's key."),
            ("choices", "The option numbers chosen, separated by '|'."),
            ("value", "The point chosen on a scale."),
            (
                "contribution_id",
                "For an open question: the contribution that holds the text "
                "(its row in contributions).",
            ),
        ),
        _questionnaire_answers,
    ),
)

TABLES: tuple[Table, ...] = (
    Table(
        "versions",
        (
            ("version", "Number of the version of the bill, from 1."),
            ("published_at", "When it was published (ISO 8601, UTC)."),
            ("articles", "How many articles it has."),
        ),
        _versions,
    ),
    Table(
        "provisions",
        (
            ("version", "The version the provision belongs to."),
            ("key", "Stable key across versions (art-3, art-3-al-2, titre-1-chap-2)."),
            ("kind", "titre, chapitre, section, sous-section, article or alinea."),
            ("number", "Its number as the bill writes it (1er, 7 bis; 1, 2... for alinéas)."),
            ("heading", "Its heading, if any."),
            ("text", "The text of an alinéa."),
            ("position", "Order in the version."),
            ("parent_key", "Key of the enclosing provision ('' at the top)."),
        ),
        _provisions,
    ),
    Table(
        "contributions",
        (
            ("id", "Identifier; the contribution's page is /consultations/SLUG/contributions/ID."),
            ("article_key", "The article it is about."),
            ("version", "The version of the bill it was written on."),
            ("kind", "annotation, amendment, argument, reply or source."),
            ("stance", "pour, contre or neutre for an argument."),
            ("parent_id", "The contribution it replies to or argues about."),
            ("alinea", "The alinéa it is anchored to or amends."),
            ("quote", "The passage an annotation quotes."),
            ("operation", "What an amendment does (replace_words, insert_alinea...)."),
            ("old_text", "The words an amendment replaces or deletes."),
            ("new_text", "The words an amendment writes."),
            ("body", "Its text in Markdown (the exposé of an amendment)."),
            ("url", "The link a source gives."),
            ("author", "Pseudonym of its author (the same person, the same pseudonym)."),
            ("created_at", "When it was written (ISO 8601, UTC)."),
            ("votes_for", "Votes pour."),
            ("votes_mixed", "Votes mitigé."),
            ("votes_against", "Votes contre."),
            ("visibility", "visible, or hidden by moderation (its texts are then left empty)."),
            ("answer_id", "The published answer that stands for it, if any."),
            ("answer_state", "That answer's decision."),
        ),
        _contributions,
    ),
    Table(
        "votes",
        (
            ("target_kind", "article or contribution."),
            ("target", "The article key or the contribution id."),
            ("for", "Votes pour."),
            ("mixed", "Votes mitigé."),
            ("against", "Votes contre."),
        ),
        _votes,
    ),
    Table(
        "answers",
        (
            ("id", "Identifier of the answer (published answers only)."),
            ("scope", "contribution, cluster or campaign: what it was given to."),
            ("contribution_id", "The contribution answered, for a contribution's own answer."),
            ("cluster_id", "The cluster answered (see clusters)."),
            ("campaign_id", "The campaign answered (see campaigns)."),
            ("article_key", "The article ('' for the whole consultation)."),
            ("subject", "What was answered, as shown to readers."),
            ("state", "accepted, partially_accepted, rejected, out_of_scope, under_review."),
            ("reason", "The reason, in Markdown."),
            ("reach", "How many contributions it covers."),
            ("published_at", "When it was published (ISO 8601, UTC)."),
        ),
        _answers,
    ),
    Table(
        "clusters",
        (
            ("id", "Identifier of the group, in the latest published synthesis."),
            ("run", "The synthesis run it comes from."),
            (
                "scope",
                "The article it groups (an article group, the unit answered), or '' for a theme "
                "of the whole consultation (which gathers article groups).",
            ),
            ("position", "Its rank by size; -1 is the scope's 'other' group."),
            ("title", "Its title (the ministry's when it renamed the group)."),
            ("keywords", "Its keywords, separated by '; '."),
            ("contributions", "Contributions in it, every copy of a campaign counted."),
            ("summary", "The ministry's summary of the group, in Markdown ('' if none)."),
            ("discussion_id", "For a discussion: the contribution discussed ('' otherwise)."),
            ("theme_id", "For an article group: the theme that gathers it (see this table)."),
        ),
        _clusters,
    ),
    Table(
        "cluster_members",
        (
            ("cluster_id", "A cluster."),
            ("contribution_id", "One of its contributions."),
        ),
        _cluster_members,
    ),
    Table(
        "campaigns",
        (
            ("id", "Identifier of the group of copies, in the latest synthesis."),
            ("run", "The synthesis run it comes from."),
            (
                "kind",
                "campaign (one text posted by three authors or more) or repost (one author "
                "posting the same text again).",
            ),
            ("representative_id", "The contribution whose text stands for the letter."),
            ("copies", "Copies (signatures), every one counted."),
            ("exact_copies", "Copies identical to the representative once normalised."),
            ("distinct_authors", "Different authors among the copies."),
            ("first_at", "The first copy (ISO 8601, UTC)."),
            ("last_at", "The last copy (ISO 8601, UTC)."),
            ("article_keys", "The articles it was posted on, separated by '; '."),
        ),
        _campaigns,
    ),
    Table(
        "campaign_members",
        (
            ("campaign_id", "A campaign or repost group."),
            ("contribution_id", "One of its copies."),
        ),
        _campaign_members,
    ),
    Table(
        "changes",
        (
            ("version", "The version whose text changed (compared with the one before)."),
            ("article_key", "The article changed."),
            ("alinea", "The alinéa of that version the change is in."),
            ("kind", "insert or delete."),
            ("text", "The words inserted or deleted."),
            ("contribution_id", "The amendment that made the change ('' for the ministry)."),
            ("answer_id", "The answer that accepted that amendment."),
        ),
        _changes,
    ),
    Table(
        "opinion_groups",
        (
            (
                "group",
                "An opinion group, from 1, largest first: people grouped by their votes alone "
                "(who is in which group is not exported).",
            ),
            ("participants", "How many people it holds."),
        ),
        _opinion_groups,
    ),
    Table(
        "opinion_targets",
        (
            ("rank", "Rank by consensus, from 1 (what brings the groups together most)."),
            ("target_kind", "article or contribution."),
            ("target", "The article key or the contribution id."),
            ("votes", "Votes cast on it by the people grouped (pour, mitigé or contre)."),
            ("agrees", "Of those, votes pour."),
            ("disagrees", "Of those, votes contre."),
            (
                "consensus",
                "Product over the groups of (pour + 1) / (votes + 2): high when every group "
                "supports it.",
            ),
            ("rejection", "Product over the groups of (contre + 1) / (votes + 2)."),
            ("division", "Variance of the groups' agreement: high when the groups differ."),
            (
                "agreement_by_group",
                "Each group's (pour + 1) / (votes + 2), group 1 first, separated by '; '.",
            ),
            ("votes_by_group", "Votes cast in each group, group 1 first, separated by '; '."),
            ("agrees_by_group", "Of those, votes pour in each group, separated by '; '."),
            ("disagrees_by_group", "Of those, votes contre in each group, separated by '; '."),
        ),
        _opinion_targets,
    ),
    *_QUESTIONNAIRE_TABLES,
)


async def export_of(
    factory: async_sessionmaker[AsyncSession],
    consultation: Consultation,
    secret_key: str,
    batch: int = BATCH,
) -> Export:
    """What the tables of a consultation's export read from."""
    async with factory() as db:
        run = await latest_report_run(db, consultation.id)
    return Export(
        factory,
        consultation.id,
        consultation.title,
        run.id if run is not None else None,
        Pseudonyms(secret_key),
        batch,
        results_are_public(consultation.phase_at(utcnow())),
    )
