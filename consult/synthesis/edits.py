"""Officials correct the clusters of a synthesis by hand: rename, merge, split.

The computed clustering is a proposal; the ministry knows better which contributions say the
same thing. Every edit changes the run's stored clusters (so the report, the inbox and the
exports show the edited groups), recounts what the report shows of them, and is kept in the
history of the run (``cluster_edits``) as well as in the audit log.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.audit.services import record_event
from consult.contributions.models import Contribution, ContributionKind
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.synthesis.models import (
    ClusterEdit,
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisCluster,
    SynthesisMembership,
    SynthesisRun,
)
from consult.synthesis.pipeline import MAX_LISTED_AMENDMENTS

MAX_TITLE = 300
QUOTES = 5


async def editable_cluster(
    db: AsyncSession, consultation_id: int, cluster_id: int
) -> SynthesisCluster:
    """A cluster of one of the consultation's successful runs, still shown (not merged away)."""
    cluster = await db.get(SynthesisCluster, cluster_id)
    if cluster is None or cluster.merged_into_id is not None:
        raise NotFound(str(cluster_id))
    run = await db.get(SynthesisRun, cluster.run_id)
    if run is None or run.consultation_id != consultation_id:
        raise NotFound(str(cluster_id))
    return cluster


def _title(raw: str) -> str:
    title = " ".join(raw.split())
    if not title:
        raise FormError({"title": _("Give the group a title.")})
    if len(title) > MAX_TITLE:
        raise FormError(
            {"title": _("The title must have at most %(count)s characters.") % {"count": MAX_TITLE}}
        )
    return title


async def remember(
    db: AsyncSession,
    cluster: SynthesisCluster,
    action: str,
    details: dict[str, object],
    actor: User,
    now: datetime,
) -> None:
    db.add(
        ClusterEdit(
            run_id=cluster.run_id,
            scope=cluster.scope,
            cluster_id=cluster.id,
            action=action,
            details=details,
            actor_id=actor.id,
            created_at=now,
        )
    )
    await record_event(
        db,
        actor.id,
        f"cluster.{action}",
        target=f"cluster:{cluster.id}",
        details={"run_id": cluster.run_id, **details},
    )


async def rename_cluster(
    db: AsyncSession, cluster: SynthesisCluster, title: str, actor: User, now: datetime
) -> None:
    """Give a cluster a title of the ministry's; the computed one is kept."""
    if cluster.is_other:
        raise FormError({"title": _("The contributions in no group cannot be renamed.")})
    new_title = _title(title)
    before = cluster.title
    if not cluster.original_title:
        cluster.original_title = before
    cluster.title = new_title
    await db.flush()
    await remember(db, cluster, "rename", {"before": before, "after": new_title}, actor, now)


async def merge_clusters(
    db: AsyncSession,
    target: SynthesisCluster,
    source: SynthesisCluster,
    actor: User,
    now: datetime,
) -> None:
    """Move every contribution of ``source`` into ``target`` (same run, same article); the
    contributions moved follow ``target`` into its theme."""
    if target.is_theme or source.is_theme:
        raise FormError({"merge": _("Themes gather groups: merge the groups of an article.")})
    if (
        source.id == target.id
        or source.run_id != target.run_id
        or source.scope != target.scope
        or source.is_other
        or target.is_other
    ):
        raise FormError({"merge": _("Choose another group of the same article to merge with.")})
    moved = await _member_ids(db, source)
    await db.execute(
        update(SynthesisMembership)
        .where(SynthesisMembership.cluster_id == source.id)
        .values(cluster_id=target.id)
    )
    await _move_to_theme(db, target, source.theme_id, moved)
    target.quotes = list(dict.fromkeys([*target.quotes, *source.quotes]))[:QUOTES]
    source.merged_into_id = target.id
    await recount(db, target)
    await recount(db, source)
    await remember(
        db,
        target,
        "merge",
        {"merged": source.id, "merged_title": source.title, "moved": len(moved)},
        actor,
        now,
    )


async def split_cluster(
    db: AsyncSession,
    cluster: SynthesisCluster,
    contribution_ids: Sequence[int],
    title: str,
    actor: User,
    now: datetime,
) -> SynthesisCluster:
    """Move some contributions of a group into a new group of the same article (and theme)."""
    if cluster.is_theme:
        raise FormError({"members": _("Themes gather groups: split the groups of an article.")})
    new_title = _title(title)
    members = set(await _member_ids(db, cluster))
    moving = sorted(set(contribution_ids) & members)
    if not moving:
        raise FormError({"members": _("Tick the contributions that form the new group.")})
    if len(moving) == len(members):
        raise FormError({"members": _("Leave at least one contribution in the group.")})
    last = await db.scalar(
        select(func.max(SynthesisCluster.position)).where(
            SynthesisCluster.run_id == cluster.run_id, SynthesisCluster.scope == cluster.scope
        )
    )
    created = SynthesisCluster(
        run_id=cluster.run_id,
        scope=cluster.scope,
        position=(last or 0) + 1,
        title=new_title,
        original_title="",
        keywords=[],
        quotes=[q for q in cluster.quotes if q in moving][:QUOTES] or moving[:3],
        amendments=[],
        targets=[],
        kinds={},
        theme_id=cluster.theme_id,
    )
    db.add(created)
    await db.flush()
    for start in range(0, len(moving), 900):
        await db.execute(
            update(SynthesisMembership)
            .where(
                SynthesisMembership.cluster_id == cluster.id,
                SynthesisMembership.contribution_id.in_(moving[start : start + 900]),
            )
            .values(cluster_id=created.id)
        )
    cluster.quotes = [q for q in cluster.quotes if q not in moving]
    await recount(db, cluster)
    await recount(db, created)
    await remember(
        db,
        cluster,
        "split",
        {"into": created.id, "title": new_title, "moved": len(moving)},
        actor,
        now,
    )
    return created


async def _move_to_theme(
    db: AsyncSession, target: SynthesisCluster, old_theme: int | None, moved: Sequence[int]
) -> None:
    """Contributions merged into ``target`` from a group of another theme join its theme."""
    if old_theme == target.theme_id or target.theme_id is None or old_theme is None:
        return
    for start in range(0, len(moved), 900):
        await db.execute(
            update(SynthesisMembership)
            .where(
                SynthesisMembership.cluster_id == old_theme,
                SynthesisMembership.contribution_id.in_(moved[start : start + 900]),
            )
            .values(cluster_id=target.theme_id)
        )
    for theme_id in (old_theme, target.theme_id):
        theme = await db.get(SynthesisCluster, theme_id)
        if theme is not None:
            await recount(db, theme)


async def cluster_members(db: AsyncSession, cluster: SynthesisCluster) -> list[Contribution]:
    """A cluster's contributions, oldest first (for choosing the ones to split off)."""
    return list(
        (
            await db.scalars(
                select(Contribution)
                .join(SynthesisMembership, SynthesisMembership.contribution_id == Contribution.id)
                .where(SynthesisMembership.cluster_id == cluster.id)
                .order_by(Contribution.id)
            )
        ).all()
    )


async def _member_ids(db: AsyncSession, cluster: SynthesisCluster) -> list[int]:
    return list(
        (
            await db.scalars(
                select(SynthesisMembership.contribution_id)
                .where(SynthesisMembership.cluster_id == cluster.id)
                .order_by(SynthesisMembership.contribution_id)
            )
        ).all()
    )


async def recount(db: AsyncSession, cluster: SynthesisCluster) -> None:
    """Recompute what the report shows of a group from its current members."""
    rows = (
        await db.execute(
            select(
                Contribution.id,
                Contribution.kind,
                Contribution.stance,
                Contribution.parent_id,
                SynthesisMembership.x,
                SynthesisMembership.y,
            )
            .join(SynthesisMembership, SynthesisMembership.contribution_id == Contribution.id)
            .where(SynthesisMembership.cluster_id == cluster.id)
            .order_by(Contribution.id)
        )
    ).all()
    ids = [row[0] for row in rows]
    campaign_of = dict(
        (
            await db.execute(
                select(SynthesisCampaignMember.contribution_id, SynthesisCampaignMember.campaign_id)
                .join(
                    SynthesisCampaign, SynthesisCampaign.id == SynthesisCampaignMember.campaign_id
                )
                .where(
                    SynthesisCampaign.run_id == cluster.run_id,
                    SynthesisCampaignMember.contribution_id.in_(ids or [0]),
                )
            )
        ).all()
    )
    cluster.contributions = len(rows)
    cluster.items = len({("campaign", campaign_of[i]) if i in campaign_of else i for i in ids})
    cluster.kinds = dict(sorted(Counter(row[1].value for row in rows).items()))
    cluster.targets = _targets(rows)
    cluster.amendments = [row[0] for row in rows if row[1] is ContributionKind.AMENDMENT][
        :MAX_LISTED_AMENDMENTS
    ]
    cluster.quotes = [q for q in cluster.quotes if q in set(ids)]
    if rows:
        cluster.x = sum(row[4] for row in rows) / len(rows)
        cluster.y = sum(row[5] for row in rows) / len(rows)
    await db.flush()


def _targets(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """The arguments among ``rows`` by target and stance, most argued target first (as the
    pipeline stores them: a stance is about its own target, never added across targets)."""
    counts: dict[int | None, Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row[1] is ContributionKind.ARGUMENT and row[2] is not None:
            counts[row[3]][row[2].value] += 1
    ordered = sorted(counts.items(), key=lambda pair: (-sum(pair[1].values()), pair[0] or -1))
    return [{"target": target, "stances": dict(sorted(c.items()))} for target, c in ordered]


async def history(db: AsyncSession, run_id: int, scope: str) -> list[ClusterEdit]:
    """The hand edits of a scope of a run, oldest first."""
    return list(
        (
            await db.scalars(
                select(ClusterEdit)
                .where(ClusterEdit.run_id == run_id, ClusterEdit.scope == scope)
                .order_by(ClusterEdit.id)
            )
        ).all()
    )
