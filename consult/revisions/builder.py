"""Build the next version of a bill from the amendments an official accepted.

Each accepted amendment is a typed operation on one article of the current version. Those that
touch the same words compete: they are grouped as a conflict, and none of them is applied
until the official has chosen one (or none) — never silently. The others are applied article
by article, from the end of the article to its start, so that the alinéa numbers and words
each operation was written against stay where they were. A proposed new article becomes an
article of its own after the one it was proposed on (« 3 bis », then « 3 ter »...).

Everything here is pure: the caller loads the proposals and stores the result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from consult.bills.footprints import Footprint, touches
from consult.bills.operations import AmendmentError, Operation, OperationKind, apply_operation
from consult.bills.parser import ORDINAL_ADVERBS, ParsedBill, ParsedProvision
from consult.revisions.redline import Redline

NONE_CHOSEN = 0
"""The choice that applies none of a conflict's amendments."""


@dataclass(frozen=True)
class Proposal:
    """An accepted amendment, as the builder applies it."""

    contribution_id: int
    article_key: str
    operation: Operation
    footprint: Footprint


@dataclass(frozen=True)
class Conflict:
    """Amendments of one article that touch the same passage: at most one can be applied."""

    article_key: str
    contribution_ids: tuple[int, ...]

    @property
    def key(self) -> str:
        """A stable name for the official's choice (form field, stored choices)."""
        return f"{self.article_key}:" + "-".join(str(i) for i in self.contribution_ids)


@dataclass
class Built:
    """The text the amendments give, and what happened to each of them."""

    bill: ParsedBill
    applied: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    """Amendments that could not be applied, with the reason (already in the text...)."""
    unresolved: list[Conflict] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    redlines: dict[str, Redline] = field(default_factory=dict)
    """Per article key (new articles included), the words each amendment wrote."""
    new_articles: dict[int, str] = field(default_factory=dict)
    """Contribution id of a proposed new article -> the key it got."""


def find_conflicts(proposals: Sequence[Proposal]) -> list[Conflict]:
    """Groups of two or more amendments of an article touching the same passage.

    New articles never conflict here: two proposed after the same article both become
    articles (« bis », « ter »). Touching is transitive through the group.
    """
    by_article: dict[str, list[Proposal]] = defaultdict(list)
    for proposal in proposals:
        if proposal.operation.kind is not OperationKind.NEW_ARTICLE:
            by_article[proposal.article_key].append(proposal)
    conflicts: list[Conflict] = []
    for key, group in by_article.items():
        parent = {p.contribution_id: p.contribution_id for p in group}
        for index, first in enumerate(group):
            for second in group[index + 1 :]:
                if touches(first.footprint, second.footprint):
                    parent[_root(parent, second.contribution_id)] = _root(
                        parent, first.contribution_id
                    )
        components: dict[int, list[int]] = defaultdict(list)
        for proposal in group:
            components[_root(parent, proposal.contribution_id)].append(proposal.contribution_id)
        conflicts.extend(
            Conflict(key, tuple(sorted(ids))) for ids in components.values() if len(ids) > 1
        )
    return sorted(conflicts, key=lambda c: (c.article_key, c.contribution_ids))


def _root(parent: dict[int, int], node: int) -> int:
    while parent[node] != node:
        node = parent[node]
    return node


def _position(proposal: Proposal) -> tuple[int, float]:
    """Where an operation acts, for applying from the end of the article to its start."""
    footprint = proposal.footprint
    if footprint.scope == "article":
        return (1 << 30, 0.0)
    if footprint.scope == "gap":
        # After alinéa N: before any change to alinéa N itself, which it does not move.
        return (footprint.number, float("inf"))
    return (footprint.number, float(footprint.start))


def _retained(
    proposals: Sequence[Proposal], choices: Mapping[str, int]
) -> tuple[list[Proposal], list[Conflict], list[Conflict]]:
    conflicts = find_conflicts(proposals)
    dropped: set[int] = set()
    unresolved: list[Conflict] = []
    for conflict in conflicts:
        chosen = choices.get(conflict.key)
        if chosen is None or (chosen != NONE_CHOSEN and chosen not in conflict.contribution_ids):
            unresolved.append(conflict)
            dropped.update(conflict.contribution_ids)
        else:
            dropped.update(i for i in conflict.contribution_ids if i != chosen)
    kept = [p for p in proposals if p.contribution_id not in dropped]
    return kept, conflicts, unresolved


def _next_article_number(after: ParsedProvision, taken: set[str]) -> tuple[str, str]:
    """(key, number) of a new article right after ``after``: « 3 bis », or « 3 ter » after
    « 3 bis »; the first adverb whose key is free."""
    parts = after.number.split(" ")
    current = parts[1] if len(parts) > 1 and parts[1] in ORDINAL_ADVERBS else None
    root_key = after.key[: -len(current) - 1] if current else after.key
    start = ORDINAL_ADVERBS.index(current) + 1 if current else 0
    for adverb in ORDINAL_ADVERBS[start:]:
        key = f"{root_key}-{adverb}"
        if key not in taken:
            return key, f"{parts[0]} {adverb}"
    raise AmendmentError("kind", "no article number is left after this one")


def _alinea(article_key: str, number: int, text: str) -> ParsedProvision:
    return ParsedProvision(
        kind="alinea",
        key=f"{article_key}-al-{number}",
        number=str(number),
        heading="",
        text=text,
        line=0,
    )


def _article(node: ParsedProvision, key: str, number: str, alineas: list[str]) -> ParsedProvision:
    return replace(
        node,
        key=key,
        number=number,
        heading=node.heading if key == node.key else "",
        children=tuple(_alinea(key, i, text) for i, text in enumerate(alineas, start=1)),
    )


def build_next(
    base: ParsedBill, proposals: Sequence[Proposal], choices: Mapping[str, int]
) -> Built:
    """Apply the accepted amendments to ``base`` (the current version).

    ``choices`` maps a :attr:`Conflict.key` to the contribution id chosen, or
    :data:`NONE_CHOSEN`. Amendments of an unresolved conflict are not applied and the conflict
    is listed; an amendment that no longer applies (its words were changed) is listed with
    the reason in :attr:`Built.failed`.
    """
    kept, conflicts, unresolved = _retained(proposals, choices)
    built = Built(bill=base, unresolved=unresolved, conflicts=conflicts)
    by_article: dict[str, list[Proposal]] = defaultdict(list)
    for proposal in kept:
        by_article[proposal.article_key].append(proposal)
    taken = {node.key for node in base.articles()}

    def rebuild(node: ParsedProvision) -> list[ParsedProvision]:
        if node.kind == "article":
            return _rebuild_article(node)
        children: list[ParsedProvision] = []
        for child in node.children:
            children.extend(rebuild(child))
        return [replace(node, children=tuple(children))]

    def _rebuild_article(node: ParsedProvision) -> list[ParsedProvision]:
        alineas = [child.text for child in node.children]
        redline = Redline(alineas)
        mine = by_article.get(node.key, [])
        edits = [p for p in mine if p.operation.kind is not OperationKind.NEW_ARTICLE]
        for proposal in sorted(edits, key=_position, reverse=True):
            try:
                alineas = apply_operation(proposal.operation, alineas)
            except AmendmentError as error:
                built.failed[proposal.contribution_id] = error.message
                continue
            redline.edit(alineas, proposal.contribution_id)
            built.applied.append(proposal.contribution_id)
        built.redlines[node.key] = redline
        articles = [_article(node, node.key, node.number, alineas)]
        previous = articles[0]
        for proposal in mine:
            if proposal.operation.kind is not OperationKind.NEW_ARTICLE:
                continue
            try:
                text = apply_operation(proposal.operation, [child.text for child in node.children])
                key, number = _next_article_number(previous, taken)
            except AmendmentError as error:
                built.failed[proposal.contribution_id] = error.message
                continue
            taken.add(key)
            created = Redline([])
            created.edit(text, proposal.contribution_id)
            built.redlines[key] = created
            built.new_articles[proposal.contribution_id] = key
            built.applied.append(proposal.contribution_id)
            previous = _article(node, key, number, text)
            articles.append(previous)
        return articles

    provisions: list[ParsedProvision] = []
    for top in base.provisions:
        provisions.extend(rebuild(top))
    built.bill = ParsedBill(base.explanatory_memorandum, tuple(provisions))
    return built
