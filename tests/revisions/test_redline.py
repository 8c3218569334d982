"""Each word of a new version knows which edit wrote it, each removed word which removed it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from consult.revisions.redline import MINISTRY, Piece, Redline, changes

WORDS = st.sampled_from(
    [
        "le",
        "ministre",
        "peut",
        "doit",
        "consulter",
        "public",
        "synthèse",
        "motivée",
        "décret",
        "l’État",
    ]
)
ALINEA = st.lists(WORDS, min_size=1, max_size=8).map(lambda words: " ".join(words) + ".")
ARTICLE = st.lists(ALINEA, min_size=0, max_size=5)


def _new_text(lines: list[list[Piece]]) -> list[str]:
    return ["".join(p.text for p in line if p.kind != "delete") for line in lines]


def test_each_change_names_its_amendment_and_removed_words_come_first() -> None:
    redline = Redline(["Le ministre peut consulter le public.", "Il publie une synthèse."])
    redline.edit(["Le ministre doit consulter le public.", "Il publie une synthèse."], 12)
    redline.edit(
        ["Le ministre doit consulter le public.", "Il publie une synthèse.", "Elle est motivée."],
        15,
    )
    redline.edit(["Le ministre doit consulter tout le public.", "Elle est motivée."], MINISTRY)
    lines = redline.lines()
    assert _new_text(lines) == ["Le ministre doit consulter tout le public.", "Elle est motivée."]
    assert lines[0][:4] == [
        Piece("equal", "Le ministre "),
        Piece("delete", "peut ", 12),
        Piece("insert", "doit ", 12),
        Piece("equal", "consulter "),
    ]
    assert Piece("insert", "tout ", MINISTRY) in lines[0]
    # The second alinéa, removed by the ministry, shows where it was.
    assert lines[0][-1] == Piece("delete", " ¶ Il publie une synthèse.", MINISTRY)
    assert lines[1] == [Piece("insert", "Elle est motivée.", 15)]
    assert [(n, p.origin) for n, p in changes(lines)] == [
        (1, 12),
        (1, 12),
        (1, MINISTRY),
        (1, MINISTRY),
        (2, 15),
    ]


def test_an_untouched_article_has_no_change() -> None:
    redline = Redline(["Un.", "Deux."])
    redline.edit(["Un.", "Deux."], 3)
    assert not redline.changed
    assert changes(redline.lines()) == []


def test_a_new_article_is_all_written_by_its_amendment() -> None:
    redline = Redline([])
    redline.edit(["Premier alinéa.", "Second alinéa."], 7)
    assert redline.lines() == [
        [Piece("insert", "Premier alinéa.", 7)],
        [Piece("insert", "Second alinéa.", 7)],
    ]


@settings(max_examples=150, deadline=None)
@given(ARTICLE, st.lists(ARTICLE, min_size=1, max_size=4))
def test_the_redline_reads_as_the_new_text_and_every_change_has_an_edit(
    base: list[str], edits: list[list[str]]
) -> None:
    redline = Redline(base)
    for origin, alineas in enumerate(edits, start=1):
        redline.edit(alineas, origin)
    lines = redline.lines()
    final = edits[-1]
    if final:
        assert _new_text(lines) == final
    kept_and_removed = "".join(
        p.text.replace(" ¶ ", "\n") for line in lines for p in line if p.kind != "insert"
    )
    # Every word of the old text is still there, in order, kept or shown removed.
    assert kept_and_removed.replace("\n", "") == "".join(base)
    for _number, piece in changes(lines):
        assert piece.origin in range(1, len(edits) + 1)
        assert piece.text
