"""The next version: accepted amendments applied, competing ones never applied silently."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from consult.bills.footprints import footprint
from consult.bills.operations import Operation, OperationKind, apply_operation
from consult.bills.parser import ParsedBill, parse_bill
from consult.bills.services import article_alineas
from consult.bills.writer import write_bill
from consult.demo.seed import demo_bill_text
from consult.revisions.builder import NONE_CHOSEN, Proposal, build_next, find_conflicts

BASE = parse_bill(demo_bill_text(), format="markdown")
ALINEAS = article_alineas(BASE)


def proposal(contribution_id: int, key: str, operation: Operation) -> Proposal:
    return Proposal(contribution_id, key, operation, footprint(operation, ALINEAS[key]))


REPLACE = proposal(1, "art-1", Operation(OperationKind.REPLACE_WORDS, 1, "garantir", 1, "assurer"))
COMPETING = proposal(
    3,
    "art-1",
    Operation(
        OperationKind.REPLACE_WORDS, 1, "garantir à toute personne", 1, "reconnaître à chacun"
    ),
)
INSERT = proposal(
    2,
    "art-1",
    Operation(OperationKind.INSERT_ALINEA, 3, new_text="Un décret précise ces principes."),
)
NEW_ARTICLE = proposal(
    4, "art-7-bis", Operation(OperationKind.NEW_ARTICLE, new_text="Les pétitions sont publiées.")
)
DELETE = proposal(5, "art-2", Operation(OperationKind.DELETE_ALINEA, 4))


def test_competing_amendments_wait_for_a_choice_and_the_others_apply() -> None:
    built = build_next(BASE, [REPLACE, INSERT, COMPETING, NEW_ARTICLE, DELETE], {})
    assert [c.contribution_ids for c in built.unresolved] == [(1, 3)]
    assert sorted(built.applied) == [2, 4, 5]
    after = article_alineas(built.bill)
    assert "garantir à toute personne" in after["art-1"][0]  # neither competitor applied
    assert after["art-1"][3] == "Un décret précise ces principes."
    assert len(after["art-2"]) == len(ALINEAS["art-2"]) - 1


def test_the_chosen_competitor_applies_and_none_can_be_chosen() -> None:
    conflict = find_conflicts([REPLACE, COMPETING])[0]
    chosen = build_next(BASE, [REPLACE, COMPETING], {conflict.key: 3})
    assert chosen.applied == [3] and not chosen.unresolved
    assert article_alineas(chosen.bill)["art-1"][0].startswith(
        "La présente loi a pour objet de reconnaître à chacun"
    )
    neither = build_next(BASE, [REPLACE, COMPETING], {conflict.key: NONE_CHOSEN})
    assert neither.applied == [] and not neither.unresolved
    assert article_alineas(neither.bill) == ALINEAS
    # A choice naming an amendment outside the conflict settles nothing.
    assert build_next(BASE, [REPLACE, COMPETING], {conflict.key: 99}).unresolved


def test_new_articles_are_numbered_after_their_article_and_read_back() -> None:
    second = proposal(
        6, "art-7-bis", Operation(OperationKind.NEW_ARTICLE, new_text="Un second article.")
    )
    built = build_next(BASE, [NEW_ARTICLE, second], {})
    assert built.new_articles == {4: "art-7-ter", 6: "art-7-quater"}
    reread = parse_bill(write_bill(built.bill), format="markdown")
    keys = [a.key for a in reread.articles()]
    assert keys[keys.index("art-7-bis") + 1 : keys.index("art-7-bis") + 3] == [
        "art-7-ter",
        "art-7-quater",
    ]
    numbers = {a.key: a.number for a in reread.articles()}
    assert numbers["art-7-ter"] == "7 ter"
    assert built.redlines["art-7-ter"].lines()[0][0].origin == 4


def test_an_amendment_whose_words_are_gone_is_listed_not_applied() -> None:
    stale = Proposal(
        9,
        "art-1",
        Operation(OperationKind.DELETE_WORDS, 1, "mots absents du texte", 1),
        REPLACE.footprint,
    )
    built = build_next(BASE, [stale], {})
    assert 9 in built.failed and built.applied == []


# Word replacements at random places of one alinéa: applied together from the end of the
# article, they give the same text as applying them one after another from the end.
_FIRST = ALINEAS["art-1"][0]
_WORDS = [w for w in _FIRST.split(" ") if w.isalpha() and _FIRST.count(w) == 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6, unique=True))
def test_non_competing_word_changes_all_apply_as_written(words: list[str]) -> None:
    proposals = [
        proposal(i, "art-1", Operation(OperationKind.REPLACE_WORDS, 1, word, 1, word.upper()))
        for i, word in enumerate(words, start=1)
    ]
    built = build_next(BASE, proposals, {})
    assert not built.unresolved and not built.failed
    assert sorted(built.applied) == list(range(1, len(words) + 1))
    expected = list(ALINEAS["art-1"])
    positions = sorted(
        proposals, key=lambda p: (p.footprint.number, p.footprint.start), reverse=True
    )
    for p in positions:
        expected = apply_operation(p.operation, expected)
    assert article_alineas(built.bill)["art-1"] == expected
    for word in words:
        assert word.upper() in article_alineas(built.bill)["art-1"][0]
    redline = built.redlines["art-1"].lines()
    assert {p.origin for line in redline for p in line if p.kind != "equal"} == set(
        range(1, len(words) + 1)
    )


def test_written_bills_read_back_as_the_same_tree() -> None:
    reread = parse_bill(write_bill(BASE), format="markdown")
    assert _shape(reread) == _shape(BASE)
    assert reread.explanatory_memorandum == BASE.explanatory_memorandum


def _shape(bill: ParsedBill) -> list[tuple[str, str, str, str, str]]:
    return [(n.kind, n.key, n.number, n.heading, n.text) for n, _parent in bill.walk()]
