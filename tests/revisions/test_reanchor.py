"""Annotations and amendments follow their passage to the next version, or say it changed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from consult.revisions.models import AnchorStatus
from consult.revisions.reanchor import FUZZY_BOUND, Placement, only_quoted_words, reattach

OLD = ["Le ministre peut consulter le public sur tout projet.", "Il publie une synthèse."]


def place(
    quote: str, new: list[str], alinea: int = 1, prefix: str = "", suffix: str = ""
) -> Placement:
    return reattach(
        quote, prefix=prefix, suffix=suffix, old_alinea=alinea, old_alineas=OLD, new_alineas=new
    )


def test_the_same_words_are_found_again_where_they_moved() -> None:
    new = ["Un alinéa ajouté avant.", "Le ministre doit consulter le public sur tout projet."]
    placement = place("consulter le public", new)
    assert placement.status is AnchorStatus.EXACT and placement.alinea == 2
    assert new[1][placement.start : placement.end] == "consulter le public"


def test_a_passage_that_lost_a_word_is_found_within_the_bound() -> None:
    new = ["Le ministre peut consulter public sur tout projet de décret.", "Autre."]
    placement = place("Le ministre peut consulter le public", new)
    assert placement.status is AnchorStatus.FUZZY and placement.alinea == 1
    assert new[0][placement.start : placement.end] == "Le ministre peut consulter public"


def test_a_changed_word_is_never_highlighted_as_if_commented() -> None:
    """« peut » became « doit »: the annotation commented on « peut », so its passage is shown
    as it was rather than « Le ministre doit consulter » highlighted."""
    new = ["Le ministre doit consulter le public sur tout projet de décret.", "Autre."]
    assert place("Le ministre peut consulter", new).status is AnchorStatus.OUTDATED
    # The reported case: « vingt et un jours » became « trente jours ».
    old = [
        "La durée ne peut être inférieure à vingt et un jours à compter de la publication du "
        "projet de texte. Elle est portée à quarante-cinq jours."
    ]
    new = [old[0].replace("vingt et un jours", "trente jours")]
    placement = reattach(
        "vingt et un jours à compter de la publication du projet de texte",
        prefix="ne peut être inférieure à ",
        suffix=". Elle est portée",
        old_alinea=1,
        old_alineas=old,
        new_alineas=new,
    )
    assert placement.status is AnchorStatus.OUTDATED


def test_a_rewritten_passage_is_outdated() -> None:
    placement = place("Le ministre peut", ["Tout autre chose est écrite ici.", "Rien à voir."])
    assert placement.status is AnchorStatus.OUTDATED and placement.alinea is None


def test_several_equally_good_places_are_never_chosen_silently() -> None:
    new = ["le public et le public", "Il publie une synthèse."]
    assert place("le public", new).status is AnchorStatus.OUTDATED
    # Its surroundings tell one occurrence from the other: that one is chosen.
    chosen = place(
        "le public",
        ["consulter le public sur tout, puis le public après"],
        prefix="consulter ",
        suffix=" sur tout",
    )
    assert chosen.status is AnchorStatus.EXACT and chosen.start == len("consulter ")


_WORD = st.sampled_from(
    ["loi", "décret", "public", "ministre", "synthèse", "avis", "registre", "État"]
)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.lists(_WORD, min_size=1, max_size=10), min_size=1, max_size=4), st.data())
def test_a_placement_is_either_outdated_or_points_at_words_like_the_quote(
    alineas: list[list[str]], data: st.DataObject
) -> None:
    old = [" ".join(words) for words in alineas]
    new_words = [list(words) for words in alineas]
    number = data.draw(st.integers(0, len(old) - 1))
    words = alineas[number]
    first = data.draw(st.integers(0, len(words) - 1))
    last = data.draw(st.integers(first, len(words) - 1))
    quote = " ".join(words[first : last + 1])
    if data.draw(st.booleans()):  # change one word of the new text
        target = data.draw(st.integers(0, len(new_words) - 1))
        position = data.draw(st.integers(0, len(new_words[target]) - 1))
        new_words[target][position] = data.draw(_WORD)
    new = [" ".join(w) for w in new_words]
    placement = reattach(
        quote, prefix="", suffix="", old_alinea=number + 1, old_alineas=old, new_alineas=new
    )
    if placement.status is AnchorStatus.OUTDATED:
        return
    assert (
        placement.alinea is not None and placement.start is not None and placement.end is not None
    )
    found = new[placement.alinea - 1][placement.start : placement.end]
    if placement.status is AnchorStatus.EXACT:
        assert found == quote
        # Exact means unique: no other occurrence anywhere could have been meant.
        assert sum(text.count(quote) for text in new) == 1 or found == quote
    else:
        from difflib import SequenceMatcher

        assert SequenceMatcher(None, quote, found, autojunk=False).ratio() >= FUZZY_BOUND
        assert only_quoted_words(quote, found), "no word the quote does not hold is shown"
