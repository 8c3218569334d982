"""A run's figures in a few lines: what the command line prints when a run completes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.i18n import gettext as _
from consult.i18n import ngettext
from consult.synthesis.models import CopyKind, SynthesisCampaign, SynthesisCluster


@dataclass(frozen=True)
class RunFigures:
    """How a run grouped a consultation."""

    contributions: int
    articles: int
    groups: int
    discussions: int
    other: int
    themes: int
    campaigns: int
    reposts: int = 0
    """Groups of one text posted again by its author."""

    def lines(self) -> list[str]:
        """The figures as sentences, in the active language."""
        share = 100.0 * self.other / self.contributions if self.contributions else 0.0
        return [
            ngettext("%(num)s contribution", "%(num)s contributions", self.contributions)
            % {"num": self.contributions},
            _("%(groups)s groups on %(articles)s articles, %(discussions)s of them discussions")
            % {
                "groups": self.groups,
                "articles": self.articles,
                "discussions": self.discussions,
            },
            _("%(other)s contributions in no group (%(share).1f %%)")
            % {"other": self.other, "share": share},
            ngettext("%(num)s theme", "%(num)s themes", self.themes) % {"num": self.themes},
            ngettext("%(num)s copy-paste campaign", "%(num)s copy-paste campaigns", self.campaigns)
            % {"num": self.campaigns},
            ngettext(
                "%(num)s text posted again by its author",
                "%(num)s texts posted again by their author",
                self.reposts,
            )
            % {"num": self.reposts},
        ]


async def summarise_figures(db: AsyncSession, run_id: int) -> RunFigures:
    """The figures of a run from its stored groups."""
    rows = (
        await db.execute(
            select(
                SynthesisCluster.scope,
                SynthesisCluster.position,
                SynthesisCluster.contributions,
                SynthesisCluster.discussion_id,
            ).where(SynthesisCluster.run_id == run_id, SynthesisCluster.merged_into_id.is_(None))
        )
    ).all()
    articles = [row for row in rows if row.scope]
    grouped = [row for row in articles if row.position >= 0]
    kinds = dict(
        (
            await db.execute(
                select(SynthesisCampaign.kind, func.count())
                .where(SynthesisCampaign.run_id == run_id)
                .group_by(SynthesisCampaign.kind)
            )
        ).all()
    )
    return RunFigures(
        contributions=sum(row.contributions for row in articles),
        articles=len({row.scope for row in articles}),
        groups=len(grouped),
        discussions=sum(1 for row in grouped if row.discussion_id is not None),
        other=sum(row.contributions for row in articles if row.position < 0),
        themes=sum(1 for row in rows if not row.scope and row.position >= 0),
        campaigns=int(kinds.get(CopyKind.CAMPAIGN, 0)),
        reposts=int(kinds.get(CopyKind.REPOST, 0)),
    )
